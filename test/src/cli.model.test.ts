import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import type { FieldDefinition, NewContentType } from '../../src/schemas/content-model.js'
import { cliRunner } from '../cli-runner.js'
import { testConfig } from '../helper.js'

const { workdir, runProcess, databaseEnv, withApp } = cliRunner(t)

t.test('model export writes the model as JSON, and types its TypeScript declarations', async (t) => {
  const env = await databaseEnv(t)
  const dataDir = env.GUDANG_DATA_DIR === undefined ? {} : { GUDANG_DATA_DIR: path.join(workdir, env.GUDANG_DATA_DIR) }
  const app = buildApp(testConfig({ ...env, ...dataDir }), { logger: false })
  await app.ready()
  await app.contentModel.createComponent({ uid: 'shared.seo', displayName: 'SEO', fields: [{ name: 'metaTitle', type: 'string' }] }, {})
  await app.contentModel.createType({
    apiId: 'page',
    kind: 'single',
    singularName: 'Page',
    pluralName: 'Pages',
    fields: [{ name: 'title', type: 'string', required: true }, { name: 'seo', type: 'component', component: 'shared.seo' }],
  }, {})
  const expected = await app.contentModel.export()
  // The embedded database serves one process at a time.
  await app.close()

  const exported = await runProcess(['model', 'export'], env)
  t.equal(exported.code, 0, exported.output)
  t.same(JSON.parse(exported.output), expected)
  t.match(expected, { components: [{ uid: 'shared.seo' }], contentTypes: [{ apiId: 'page', kind: 'single' }] })

  const types = await runProcess(['types', '--out', 'model.d.ts'], env)
  t.equal(types.code, 0, types.output)
  t.match(types.output, /Wrote model\.d\.ts/)
  const declarations = await readFile(path.join(workdir, 'model.d.ts'), 'utf8')
  t.match(declarations, /export interface Page \{\n {2}title: string\n {2}seo\?: SharedSeoComponent \| null\n\}/)
})

t.test('model apply: export, apply on an empty database, export again: the same file', async (t) => {
  const source = await databaseEnv(t)
  const exported = await withApp(source, async (app) => {
    const model = app.contentModel
    const actor = {}
    const collection = (apiId: string, name: string, fields: FieldDefinition[], more: Partial<NewContentType> = {}) =>
      ({ apiId, kind: 'collection', singularName: name, pluralName: `${name}s`, ...more, fields }) satisfies NewContentType
    // Types that relate to each other in cycles: page → post → page, post → author → post, page → page.
    await model.createType(collection('page', 'Page', [
      { name: 'title', type: 'string', required: true, maxLength: 80 },
      { name: 'slug', type: 'uid', targetField: 'title' },
      { name: 'parent', type: 'relation', target: 'page', relation: 'toOne' },
    ], { description: 'Pages of the site' }), actor)
    await model.createType(collection('author', 'Author', [{ name: 'name', type: 'string' }]), actor)
    await model.createType(collection('post', 'Post', [
      { name: 'title', type: 'string', required: true },
      { name: 'page', type: 'relation', target: 'page', relation: 'toOne', inverse: 'mentions' },
      { name: 'author', type: 'relation', target: 'author', relation: 'toOne', inverse: 'writings' },
    ], { localized: true, draftAndPublish: false }), actor)
    await model.updateType('author', {
      kind: 'collection',
      singularName: 'Author',
      pluralName: 'Authors',
      fields: [{ name: 'name', type: 'string' }, { name: 'favourites', type: 'relation', target: 'post', relation: 'toMany' }],
    }, { actor })
    // Components nesting components, one relating to a type.
    await model.createComponent({
      uid: 'shared.link',
      displayName: 'Link',
      description: 'A link to a page',
      fields: [{ name: 'label', type: 'string', required: true }, { name: 'page', type: 'relation', target: 'page', relation: 'toOne' }],
    }, actor)
    await model.createComponent({
      uid: 'blocks.card',
      displayName: 'Card',
      fields: [{ name: 'title', type: 'string' }, { name: 'links', type: 'component', component: 'shared.link', repeatable: true, max: 3 }],
    }, actor)
    await model.createComponent({
      uid: 'blocks.section',
      displayName: 'Section',
      fields: [{ name: 'heading', type: 'string' }, { name: 'cards', type: 'component', component: 'blocks.card', repeatable: true }],
    }, actor)
    await model.updateType('page', {
      kind: 'collection',
      singularName: 'Page',
      pluralName: 'Pages',
      description: 'Pages of the site',
      fields: [
        { name: 'title', type: 'string', required: true, maxLength: 80 },
        { name: 'slug', type: 'uid', targetField: 'title' },
        { name: 'parent', type: 'relation', target: 'page', relation: 'toOne' },
        { name: 'posts', type: 'relation', target: 'post', relation: 'toMany' },
        { name: 'blocks', type: 'dynamiczone', components: ['blocks.section', 'shared.link'], max: 10 },
      ],
    }, { actor })
    await model.createType({
      apiId: 'settings',
      kind: 'single',
      singularName: 'Settings',
      pluralName: 'Settings',
      fields: [{ name: 'home', type: 'relation', target: 'page', relation: 'toOne' }, { name: 'footer', type: 'component', component: 'blocks.card' }],
    }, actor)
    return model.export()
  })

  // Written as `gudang model export` writes it (the test above shows that it does).
  const file = `${JSON.stringify(exported, null, 2)}\n`
  await writeFile(path.join(workdir, 'exported.json'), file)
  t.strictSame(exported.contentTypes.map((c) => c.apiId), ['author', 'page', 'post', 'settings'])
  t.strictSame(exported.components.map((c) => c.uid), ['blocks.card', 'blocks.section', 'shared.link'])

  const target = await databaseEnv(t)
  const applied = await runProcess(['model', 'apply', 'exported.json'], target)
  t.equal(applied.code, 0, applied.output)
  t.equal(applied.output, [
    'component blocks.card: create',
    'component blocks.section: create',
    'component shared.link: create',
    'content-type author: create',
    'content-type page: create',
    'content-type post: create',
    'content-type settings: create',
    'Applied.',
    '',
  ].join('\n'))

  const again = await runProcess(['model', 'export'], target)
  t.equal(again.code, 0, again.output)
  t.equal(again.output, file, 'the same file, byte for byte')

  await withApp(target, async (app) => {
    const outcome = await app.contentModel.applyModel(JSON.parse(file), { dryRun: false, actor: {} })
    t.strictSame(outcome, { applied: true, changes: [] }, 'applied again, nothing changes')
    const history = await app.contentModel.history('page')
    t.strictSame(history.map((v) => v.version), [1], 'a type the file creates starts its history')
  })
})
