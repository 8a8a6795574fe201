import t from 'tap'
import type { FieldDefinition } from '../../../src/schemas/content-model.js'
import {
  createValidators,
  definitionProblems,
  inverseProblems,
  entrySchema,
  type ValidationMode,
} from '../../../src/services/content-schema.js'

const components = new Map<string, FieldDefinition[]>([
  ['shared.seo', [
    { name: 'metaTitle', type: 'string', required: true, maxLength: 60 },
    { name: 'keywords', type: 'text' },
  ]],
  ['blocks.hero', [
    { name: 'title', type: 'string', required: true },
    { name: 'image', type: 'media', allowedKinds: ['image'] },
  ]],
  ['blocks.quote', [{ name: 'text', type: 'text', required: true }, { name: 'seo', type: 'component', component: 'shared.seo' }]],
])

/** One field of every type. */
const article: FieldDefinition[] = [
  { name: 'title', type: 'string', required: true, minLength: 3, maxLength: 20, pattern: '^[A-Z]' },
  { name: 'slug', type: 'uid', targetField: 'title', required: true },
  { name: 'summary', type: 'text', maxLength: 200 },
  { name: 'body', type: 'richtext' },
  { name: 'views', type: 'integer', min: 0, max: 1000 },
  { name: 'rating', type: 'decimal', min: 0, max: 5 },
  { name: 'featured', type: 'boolean' },
  { name: 'day', type: 'date' },
  { name: 'at', type: 'datetime' },
  { name: 'category', type: 'enumeration', values: ['news', 'guide'] },
  { name: 'extra', type: 'json' },
  { name: 'contact', type: 'email' },
  { name: 'website', type: 'url' },
  { name: 'cover', type: 'media', allowedKinds: ['image'] },
  { name: 'gallery', type: 'media', multiple: true },
  { name: 'author', type: 'relation', target: 'author', relation: 'toOne', inverse: 'articles' },
  { name: 'tags', type: 'relation', target: 'tag', relation: 'toMany' },
  { name: 'seo', type: 'component', component: 'shared.seo' },
  { name: 'faq', type: 'component', component: 'shared.seo', repeatable: true, min: 1, max: 2 },
  { name: 'blocks', type: 'dynamiczone', components: ['blocks.hero', 'blocks.quote'], max: 3 },
]

const id = '0195f0a0-0000-7000-8000-000000000001'
const good = {
  title: 'Hello world',
  slug: 'hello-world',
  summary: 'A short one',
  body: [{ type: 'paragraph', children: [{ type: 'text', text: 'Hi' }] }],
  views: 10,
  rating: 4.5,
  featured: true,
  day: '2026-11-21',
  at: '2026-11-21T08:00:00Z',
  category: 'news',
  extra: { anything: [1, 'two'] },
  contact: 'ada@example.com',
  website: 'https://example.com/a',
  cover: id,
  gallery: [id],
  author: id,
  tags: [id],
  seo: { metaTitle: 'Hello' },
  faq: [{ metaTitle: 'Q1', keywords: 'a, b' }],
  blocks: [
    { __component: 'blocks.hero', title: 'Welcome', image: id },
    { __component: 'blocks.quote', text: 'To be', seo: { metaTitle: 'Quote' } },
  ],
}

const validators = createValidators()
function validate(data: unknown, mode: ValidationMode, fields = article) {
  const { valid, problems } = validators.validate(entrySchema(fields, components, mode), data)
  if (valid !== (problems.length === 0)) throw new Error('valid and problems disagree')
  return problems
}

t.test('good data passes in both modes; in draft mode, half-written work too', async (t) => {
  t.same(validate(good, 'publish'), [])
  t.same(validate(good, 'draft'), [])
  t.same(validate({}, 'draft'), [], 'nothing is required of a draft')
  t.same(validate({ title: 'x', faq: [], blocks: [{ __component: 'blocks.hero' }] }, 'draft'), [], 'nor are lengths and counts')
  t.same(validate({ ...good, summary: null, cover: null, tags: null }, 'publish'), [], 'an optional field may be cleared')
})

t.test('publish mode applies every rule, each reported at its field\'s path', async (t) => {
  const problems = validate({
    ...good,
    title: 'lowercase and far too long',
    slug: 'not a slug',
    views: 1001,
    rating: -1,
    contact: 'not-an-email',
    website: 'not a url',
    faq: [],
    blocks: [{ __component: 'blocks.hero' }, { __component: 'blocks.quote', text: 'x', seo: { metaTitle: 'x'.repeat(61) } }],
  }, 'publish')
  t.same(problems.map((p) => p.path).sort(), [
    '/blocks/0/title',
    '/blocks/1/seo/metaTitle',
    '/contact',
    '/faq',
    '/rating',
    '/slug',
    '/title',
    '/title',
    '/views',
    '/website',
    '/website',
  ])
  t.match(problems.find((p) => p.path === '/views'), { message: 'must be <= 1000' })
  t.match(problems.find((p) => p.path === '/blocks/0/title'), { message: 'must have required property \'title\'' })
  const missing = validate({ summary: 'no title' }, 'publish')
  t.same(missing.map((p) => p.path).sort(), ['/slug', '/title'], 'required fields must be there')
  t.same(validate({ ...good, title: '' }, 'publish').map((p) => p.path), ['/title', '/title'], 'and not empty')
})

t.test('types and shapes are checked in draft mode too', async (t) => {
  const problems = validate({
    title: 3,
    body: 'plain text',
    views: 1.5,
    featured: 'yes',
    day: '21/11/2026',
    category: 'gossip',
    cover: 'not-an-id',
    gallery: [id, id],
    tags: id,
    seo: { metaTitle: 'x', unknown: true },
    blocks: [{ __component: 'blocks.video' }, { title: 'no component' }],
  }, 'draft')
  const byPath = Object.fromEntries(problems.map((p) => [p.path, p.message]))
  t.match(byPath, {
    '/title': 'must be string',
    '/body': 'must be array',
    '/views': 'must be integer',
    '/featured': 'must be boolean',
    '/day': 'must match format "date"',
    '/category': 'must be equal to one of the allowed values: news, guide',
    '/cover': 'must match format "uuid"',
    '/gallery': /duplicate items/,
    '/tags': 'must be array',
    '/seo/unknown': 'must NOT have additional properties',
    '/blocks/0/__component': 'must be equal to one of the allowed values: blocks.hero, blocks.quote',
    '/blocks/1/__component': 'must have required property \'__component\'',
  })
})

t.test('data that is no object is refused at the root; a component that does not exist holds nothing', async (t) => {
  t.same(validate('a string', 'draft'), [{ path: '/', message: 'must be object' }])
  const orphan: FieldDefinition[] = [{ name: 'part', type: 'component', component: 'gone' }]
  t.same(validate({ part: {} }, 'publish', orphan), [])
  t.same(validate({ part: { x: 1 } }, 'publish', orphan), [{ path: '/part/x', message: 'must NOT have additional properties' }])
})

t.test('unknown fields are refused, and keys JavaScript treats specially do no harm', async (t) => {
  t.same(validate({ ...good, rogue: 1 }, 'publish'), [{ path: '/rogue', message: 'must NOT have additional properties' }])
  const hostile = JSON.parse('{"__proto__": {"isAdmin": true}, "constructor": {"prototype": {}}}')
  t.same(validate(hostile, 'draft').map((p) => p.path).sort(), ['/__proto__', '/constructor'])
  const inherited: FieldDefinition[] = [{ name: 'note', type: 'string' }, { name: 'meta', type: 'json', required: true }]
  t.same(validate({}, 'draft', inherited), [], 'nothing inherited from Object.prototype counts as a value')
  t.same(validate({}, 'publish', inherited), [{ path: '/meta', message: 'must have required property \'meta\'' }])
  t.equal(({} as Record<string, unknown>).isAdmin, undefined, 'no prototype was polluted')
})

t.test('validators are compiled once per schema, and the least recently used give way', async (t) => {
  const cached = createValidators(2)
  cached.validate(entrySchema(article, components, 'draft'), good)
  cached.validate(entrySchema(article, components, 'draft'), {})
  t.equal(cached.size, 1, 'the same schema, built again, is the same validator')
  cached.validate(entrySchema(article, components, 'publish'), good)
  t.equal(cached.size, 2)
  const changed = new Map(components)
  changed.set('shared.seo', [{ name: 'metaTitle', type: 'string' }])
  t.same(cached.validate(entrySchema(article, changed, 'draft'), { seo: { metaTitle: 'x' } }).problems, [])
  t.equal(cached.size, 2, 'a changed component makes a new schema; the oldest validator went')
})

t.test('components nested deep and used twice at every level make a small schema', async (t) => {
  const deep = new Map<string, FieldDefinition[]>()
  for (let level = 0; level < 15; level++) {
    const next = level < 14
      ? [
          { name: 'left', type: 'component', component: `deep.l${level + 1}` },
          { name: 'right', type: 'component', component: `deep.l${level + 1}` },
        ] as FieldDefinition[]
      : [{ name: 'leaf', type: 'string' }] as FieldDefinition[]
    deep.set(`deep.l${level}`, next)
  }
  const schema = entrySchema([{ name: 'root', type: 'component', component: 'deep.l0' }], deep, 'publish')
  t.ok(JSON.stringify(schema).length < 20_000, 'each component is defined once')
  t.same(validators.validate(schema, { root: { left: { right: 'x' } } }).problems, [
    { path: '/root/left/right', message: 'must be object' },
  ])
})

t.test('required means something in every field type; web addresses, ids and integers are checked', async (t) => {
  const fields: FieldDefinition[] = [
    { name: 'meta', type: 'json', required: true },
    { name: 'tags', type: 'relation', target: 'tag', relation: 'toMany', required: true },
    { name: 'blocks', type: 'dynamiczone', components: ['blocks.hero'], required: true },
    { name: 'site', type: 'url' },
    { name: 'count', type: 'integer' },
    { name: 'owner', type: 'relation', target: 'author', relation: 'toOne' },
  ]
  const data = { meta: null, tags: [], blocks: [], site: 'javascript:alert(1)', count: 2 ** 60, owner: `urn:uuid:${id}` }
  const problems = validate(data, 'publish', fields)
  t.equal(problems.length, 6)
  t.match(problems, [
    { path: '/meta', message: 'must not be null' },
    { path: '/tags', message: 'must NOT have fewer than 1 items' },
    { path: '/blocks', message: 'must NOT have fewer than 1 items' },
    { path: '/site', message: 'must match pattern "^https?://"' },
    { path: '/count', message: 'must be <= 9007199254740991' },
    { path: '/owner', message: 'must match format "uuid"' },
  ])
})

t.test('an item of a dynamic zone without its component gets one clear problem', async (t) => {
  t.same(validate({ blocks: [{ title: 'x' }, 'text'] }, 'draft'), [
    { path: '/blocks/0/__component', message: 'must have required property \'__component\'' },
    { path: '/blocks/1', message: 'must be object' },
  ])
})

const context = { contentTypes: new Set(['article', 'author', 'tag']), components }

t.test('sound definitions have no problems', async (t) => {
  t.same(definitionProblems(article, context), [])
  t.same(definitionProblems(components.get('blocks.quote') ?? [], context, 'blocks.quote'), [])
})

t.test('bad definitions are refused with a clear message at the field', async (t) => {
  const problems = definitionProblems([
    { name: 'title', type: 'string', pattern: '([a-z' },
    { name: 'Title', type: 'text' },
    { name: 'createdAt', type: 'datetime' },
    { name: 'constructor', type: 'json' },
    { name: 'count', type: 'integer', min: 10, max: 1 },
    { name: 'code', type: 'string', minLength: 5, maxLength: 2 },
    { name: 'status2', type: 'enumeration', values: ['a', 'b', 'a'] },
    { name: 'author', type: 'relation', target: 'writer', relation: 'toOne' },
    { name: 'seo', type: 'component', component: 'shared.missing' },
    { name: 'blocks', type: 'dynamiczone', components: ['blocks.hero', 'blocks.gone'] },
    { name: 'slug', type: 'uid', targetField: 'count' },
    { name: 'slug2', type: 'uid', targetField: 'nothing' },
    { name: 'ID', type: 'string' },
    { name: 'isPrototypeOf', type: 'string' },
    { name: 'meta', type: 'json', unique: true },
    { name: 'zone', type: 'dynamiczone', components: ['blocks.hero', 'blocks.hero'] },
    { name: 'one', type: 'component', component: 'blocks.hero', max: 2 },
    { name: 'two', type: 'component', component: 'blocks.hero', min: 1 },
  ], context)
  t.same(problems, [
    { path: '/fields/0/pattern', message: 'is not a valid regular expression: Invalid regular expression: /([a-z/u: Unterminated character class' },
    { path: '/fields/1/name', message: '"Title" is taken by field 0' },
    { path: '/fields/2/name', message: '"createdAt" is reserved' },
    { path: '/fields/3/name', message: '"constructor" is reserved' },
    { path: '/fields/4/min', message: 'min (10) is greater than max (1)' },
    { path: '/fields/5/minLength', message: 'minLength (5) is greater than maxLength (2)' },
    { path: '/fields/6/values', message: 'lists a value twice' },
    { path: '/fields/7/target', message: 'there is no content type "writer"' },
    { path: '/fields/8/component', message: 'there is no component "shared.missing"' },
    { path: '/fields/9/components', message: 'there is no component "blocks.gone"' },
    { path: '/fields/10/targetField', message: '"count" is no text field of this type' },
    { path: '/fields/11/targetField', message: '"nothing" is no text field of this type' },
    { path: '/fields/12/name', message: '"ID" is reserved' },
    { path: '/fields/13/name', message: '"isPrototypeOf" is reserved' },
    { path: '/fields/14/unique', message: 'a json field cannot be unique' },
    { path: '/fields/15/components', message: 'lists a component twice' },
    { path: '/fields/16/max', message: 'applies to a repeatable component only' },
    { path: '/fields/17/min', message: 'applies to a repeatable component only' },
  ])
})

t.test('a component cannot contain itself, however deep', async (t) => {
  const nested = new Map(components)
  nested.set('a', [{ name: 'b', type: 'component', component: 'b' }])
  nested.set('b', [{ name: 'zone', type: 'dynamiczone', components: ['c'] }])
  nested.set('c', [{ name: 'a', type: 'component', component: 'a' }, { name: 'again', type: 'component', component: 'a' }])
  const loop = { contentTypes: context.contentTypes, components: nested }
  t.same(definitionProblems(nested.get('a') ?? [], loop, 'a'), [
    { path: '/fields/0/component', message: '"b" contains "a": a component cannot contain itself' },
  ])
  t.same(definitionProblems([{ name: 'me', type: 'component', component: 'a' }], loop, 'a'), [
    { path: '/fields/0/component', message: '"a" contains "a": a component cannot contain itself' },
  ])
})

t.test('a default must be a value the field accepts', async (t) => {
  t.same(definitionProblems([
    { name: 'views', type: 'integer', min: 0, default: -1 },
    { name: 'kind', type: 'enumeration', values: ['a'], default: 'b' },
    { name: 'ok', type: 'boolean', default: false },
    { name: 'day', type: 'date', default: 'yesterday' },
  ], context), [
    { path: '/fields/0/default', message: 'is not a valid value: default must be >= 0' },
    { path: '/fields/1/default', message: 'is not a valid value: default must be equal to one of the allowed values' },
    { path: '/fields/3/default', message: 'is not a valid value: default must match format "date"' },
  ])
})

t.test('inverse relations: only on a content type\'s own fields, and no clash with the target\'s names', async (t) => {
  t.same(definitionProblems([{ name: 'author', type: 'relation', target: 'author', relation: 'toOne', inverse: 'quotes' }], context, 'blocks.quote'), [
    { path: '/fields/0/inverse', message: 'only a content type\'s own relation fields have an inverse' },
  ])
  const types = [
    { apiId: 'author', fields: [{ name: 'name', type: 'string' }, { name: 'posts', type: 'json' }] },
    {
      apiId: 'article',
      fields: [
        { name: 'author', type: 'relation', target: 'author', relation: 'toOne', inverse: 'articles' },
        { name: 'editor', type: 'relation', target: 'author', relation: 'toOne', inverse: 'Articles' },
        { name: 'reviewer', type: 'relation', target: 'author', relation: 'toOne', inverse: 'posts' },
        { name: 'owner', type: 'relation', target: 'author', relation: 'toOne', inverse: 'locale' },
        { name: 'related', type: 'relation', target: 'article', relation: 'toMany', inverse: 'relatedBy' },
      ],
    },
    { apiId: 'page', fields: [{ name: 'text', type: 'string' }] },
  ] as const satisfies readonly { apiId: string, fields: readonly FieldDefinition[] }[]
  t.same(inverseProblems(types, 'article'), [
    { path: '/fields/0/inverse', message: '"articles" is taken on "author" by the inverse of article.editor' },
    { path: '/fields/1/inverse', message: '"Articles" is taken on "author" by the inverse of article.author' },
    { path: '/fields/2/inverse', message: '"posts" is taken on "author" by field "posts"' },
    { path: '/fields/3/inverse', message: '"locale" is reserved' },
  ])
  // A field named like an inverse that points at its type.
  t.same(inverseProblems([...types, { apiId: 'tag', fields: [{ name: 'relatedBy', type: 'string' }] }], 'tag'), [])
  t.same(inverseProblems([{ apiId: 'article', fields: [
    { name: 'relatedBy', type: 'string' },
    { name: 'related', type: 'relation', target: 'article', relation: 'toMany', inverse: 'relatedBy' },
  ] }], 'article'), [
    { path: '/fields/1/inverse', message: '"relatedBy" is taken on "article" by field "relatedBy"' },
    { path: '/fields/0/name', message: '"relatedBy" is taken by the inverse of article.related' },
  ])
  t.same(inverseProblems(types, 'page'), [])
  t.same(inverseProblems(types, 'nowhere'), [], 'a type not in the model has no fields to check')
  t.same(inverseProblems([{ apiId: 'post', fields: [
    { name: 'to', type: 'relation', target: 'gone', relation: 'toOne', inverse: 'posts' },
  ] }], 'post'), [], 'a missing target (refused by definitionProblems) has no names to clash with')
})
