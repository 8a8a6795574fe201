import { Ajv2020 } from 'ajv/dist/2020.js'
import formats from 'ajv-formats'
import t from 'tap'
import type { FieldDefinition } from '../../../src/schemas/content-model.js'
import type { ModelExport } from '../../../src/services/content-declarations.js'
import { contentSchemas } from '../../../src/services/content-openapi.js'
import { createValidators, entrySchema } from '../../../src/services/content-schema.js'

const component = (uid: string, displayName: string, fields: FieldDefinition[], description = '') =>
  ({ uid, displayName, description, fields })

/** A component in a component, a dynamic zone in a component, one unused; with and without required fields. */
const model: ModelExport = {
  components: [
    component('blocks.gallery', 'Gallery', [
      { name: 'items', type: 'dynamiczone', components: ['blocks.quote'], max: 2 },
    ]),
    component('blocks.hero', 'Hero', [
      { name: 'title', type: 'string', required: true, maxLength: 40 },
      { name: 'seo', type: 'component', component: 'shared.seo' },
    ], 'The top of a page'),
    component('blocks.quote', 'Quote', [{ name: 'text', type: 'text' }]),
    component('shared.seo', 'SEO', [{ name: 'metaTitle', type: 'string', required: true }]),
    component('shared.unused', 'Unused', [{ name: 'note', type: 'text' }]),
  ],
  contentTypes: [
    {
      apiId: 'article',
      kind: 'collection',
      singularName: 'Article',
      pluralName: 'Articles',
      description: 'News and guides',
      draftAndPublish: true,
      localized: false,
      fields: [
        { name: 'title', type: 'string', required: true },
        { name: 'cover', type: 'media' },
        { name: 'seo', type: 'component', component: 'shared.seo', required: true },
        { name: 'blocks', type: 'dynamiczone', components: ['blocks.hero', 'blocks.gallery'] },
      ],
    },
    {
      apiId: 'tag',
      kind: 'collection',
      singularName: 'Tag',
      pluralName: 'Tags',
      description: '',
      draftAndPublish: false,
      localized: false,
      fields: [{ name: 'name', type: 'uid', required: true }],
    },
  ],
}

const schemas = contentSchemas(model)
const SCHEMAS = '#/components/schemas/'

function refsIn(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(refsIn)
  if (typeof node !== 'object' || node === null) return []
  return Object.entries(node).flatMap(([key, value]) => (key === '$ref' ? [value as string] : refsIn(value)))
}

t.test('one schema per content type, per component used and per component in a dynamic zone', async (t) => {
  t.same(Object.keys(schemas), [
    'EntryData.article',
    'EntryData.tag',
    'ComponentData.blocks.gallery',
    'ComponentData.blocks.hero',
    'ComponentData.blocks.quote',
    'ComponentData.shared.seo',
    'ZoneItem.blocks.gallery',
    'ZoneItem.blocks.hero',
    'ZoneItem.blocks.quote',
  ], 'an unused component has none; a component in a dynamic zone of a component is in a zone too')
  t.match(schemas['EntryData.article'], { title: 'Article', description: 'News and guides', type: 'object', required: ['title', 'seo'] })
  t.same(schemas['EntryData.tag']?.title, 'Tag')
  t.notOk('description' in (schemas['EntryData.tag'] ?? {}), 'an empty description is left out')
  t.match(schemas['ComponentData.blocks.hero'], { title: 'Hero', description: 'The top of a page', required: ['title'] })
  t.match(schemas['ZoneItem.blocks.hero'], {
    title: 'Hero (in a dynamic zone)',
    additionalProperties: false,
    properties: { __component: { type: 'string', const: 'blocks.hero' }, title: { type: 'string', maxLength: 40 } },
    required: ['__component', 'title'],
  })
  t.same(schemas['ZoneItem.blocks.quote']?.required, ['__component'], 'a component without required fields')
})

t.test('references point at the document\'s schemas, and every one of them exists', async (t) => {
  const refs = refsIn(schemas)
  t.ok(refs.length > 0)
  for (const ref of refs) {
    t.ok(ref.startsWith(SCHEMAS) && ref.slice(SCHEMAS.length) in schemas, `${ref} resolves`)
  }
  t.notMatch(JSON.stringify(schemas), /\$defs|"if"|"then"/, 'no $defs, no if/then')
  t.same(schemas['ComponentData.blocks.hero']?.properties, {
    title: { type: 'string', minLength: 1, maxLength: 40 },
    seo: { anyOf: [{ type: 'null' }, { $ref: `${SCHEMAS}ComponentData.shared.seo` }] },
  })
})

t.test('a dynamic zone\'s items are one of its components, told apart by __component', async (t) => {
  const blocks = schemas['EntryData.article']?.properties as Record<string, { anyOf: unknown[] }>
  t.same(blocks.blocks?.anyOf[1], {
    type: 'array',
    items: {
      oneOf: [{ $ref: `${SCHEMAS}ZoneItem.blocks.hero` }, { $ref: `${SCHEMAS}ZoneItem.blocks.gallery` }],
      discriminator: {
        propertyName: '__component',
        mapping: { 'blocks.hero': `${SCHEMAS}ZoneItem.blocks.hero`, 'blocks.gallery': `${SCHEMAS}ZoneItem.blocks.gallery` },
      },
    },
  })
})

t.test('the schemas accept and refuse what publishing does', async (t) => {
  // A JSON Schema 2020-12 validator (OpenAPI 3.1's dialect); `discriminator` is an annotation.
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true })
  formats.default(ajv)
  ajv.addKeyword({ keyword: 'discriminator' })
  ajv.addKeyword({ keyword: 'components' })
  ajv.addSchema({ $id: 'https://gudang.test/openapi.json', components: { schemas } })
  const openApi = ajv.compile({ $ref: 'https://gudang.test/openapi.json#/components/schemas/EntryData.article' })
  const validators = createValidators()
  const components = new Map(model.components.map((c) => [c.uid, c.fields]))
  const article = model.contentTypes[0]?.fields ?? []
  const publishing = (data: unknown) => validators.validate(entrySchema(article, components, 'publish'), data).valid

  const id = '0195f0a0-0000-7000-8000-000000000001'
  const good = {
    title: 'Hello',
    cover: id,
    seo: { metaTitle: 'Hello' },
    blocks: [
      { __component: 'blocks.hero', title: 'Welcome', seo: null },
      { __component: 'blocks.gallery', items: [{ __component: 'blocks.quote', text: 'To be' }] },
    ],
  }
  const cases: [string, unknown, boolean][] = [
    ['good data', good, true],
    ['no optional fields', { title: 'Hello', seo: { metaTitle: 'Hello' } }, true],
    ['a required field missing', { title: 'Hello' }, false],
    ['an unknown field', { ...good, extra: 1 }, false],
    ['a media id that is no uuid', { ...good, cover: 'x' }, false],
    ['a nested component missing a required field', { ...good, seo: {} }, false],
    ['an unknown component in a zone', { ...good, blocks: [{ __component: 'shared.seo', metaTitle: 'x' }] }, false],
    ['a zone item without __component', { ...good, blocks: [{ title: 'Welcome' }] }, false],
    ['a zone item with the fields of another', { ...good, blocks: [{ __component: 'blocks.gallery', title: 'x' }] }, false],
    ['a zone item missing a required field', { ...good, blocks: [{ __component: 'blocks.hero' }] }, false],
    ['a zone in a zone item, too long', {
      ...good,
      blocks: [{ __component: 'blocks.gallery', items: [1, 2, 3].map(() => ({ __component: 'blocks.quote' })) }],
    }, false],
    ['a zone in a zone item, with a stranger', {
      ...good,
      blocks: [{ __component: 'blocks.gallery', items: [{ __component: 'blocks.hero', title: 'x' }] }],
    }, false],
  ]
  for (const [name, data, valid] of cases) {
    t.equal(publishing(data), valid, `${name}: publishing`)
    t.equal(openApi(data), valid, `${name}: the OpenAPI schema`)
  }
})

t.test('an empty model has no schemas; a type without components needs none', async (t) => {
  t.same(contentSchemas({ components: [], contentTypes: [] }), {})
  const { contentTypes } = model
  t.same(Object.keys(contentSchemas({ components: model.components, contentTypes: contentTypes.slice(1) })), ['EntryData.tag'])
})
