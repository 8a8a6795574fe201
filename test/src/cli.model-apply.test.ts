import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import type { App } from '../../src/app.js'
import type { ModelFile } from '../../src/schemas/content-model.js'
import { cliRunner } from '../cli-runner.js'
import { ADMIN, login } from '../helper.js'

// Beside test/src/cli.model.test.ts: each run of `gudang` takes seconds, and a test file has 300.
const { workdir, runProcess, databaseEnv, runHere, withApp } = cliRunner(t)

/** Writes a model file into the working directory; answers its name there. */
async function modelFile(name: string, model: unknown): Promise<string> {
  await writeFile(path.join(workdir, name), `${JSON.stringify(model, null, 2)}\n`)
  return name
}

/** What the database holds of the model and the entries, to tell that nothing changed. */
async function snapshot(app: App) {
  const types = await app.prisma.contentType.findMany({ orderBy: { apiId: 'asc' } })
  const components = await app.prisma.component.findMany({ orderBy: { uid: 'asc' } })
  const entries = await app.prisma.entry.findMany({ orderBy: { createdAt: 'asc' } })
  const versions = await app.prisma.contentTypeVersion.count()
  return { types, components, entries, versions }
}

t.test('model apply: a dry run and a blocked change apply nothing; a file that is no model is refused', async (t) => {
  const env = await databaseEnv(t)
  const article: ModelFile['contentTypes'][number] = {
    apiId: 'article',
    kind: 'collection',
    singularName: 'Article',
    pluralName: 'Articles',
    description: '',
    draftAndPublish: true,
    localized: false,
    fields: [{ name: 'title', type: 'string' }, { name: 'views', type: 'string' }, { name: 'summary', type: 'text' }],
  }
  const tag = { ...article, apiId: 'tag', singularName: 'Tag', pluralName: 'Tags', fields: [{ name: 'name', type: 'string' }] }
  const note: ModelFile['components'][number] = { uid: 'shared.note', displayName: 'Note', description: '', fields: [{ name: 'text', type: 'string' }] }
  const admin = { GUDANG_ADMIN_EMAIL: ADMIN.email, GUDANG_ADMIN_PASSWORD: ADMIN.password }
  const { before, documents } = await withApp(env, async (app) => {
    await app.contentModel.createType(article, {})
    await app.contentModel.createComponent(note, {})
    const { headers } = await login(app)
    const documents: string[] = []
    for (const data of [{ title: 'A', views: '12', summary: 'S' }, { title: 'B', views: 'many' }]) {
      const res = await app.inject({ method: 'POST', url: '/api/admin/content-types/article/entries', headers, payload: { data } })
      documents.push(res.json().data.documentId)
    }
    return { before: await snapshot(app), documents }
  }, admin)
  t.equal(before.entries.length, 2)

  const renamed = {
    ...article,
    fields: [{ name: 'headline', type: 'string' }, ...article.fields.slice(1)],
    changes: { rename: { title: 'headline' } },
  }
  const noteRenamed = { ...note, fields: [{ name: 'body', type: 'string' }], changes: { rename: { text: 'body' } } }
  const dry = await modelFile('dry.json', { components: [noteRenamed], contentTypes: [renamed, tag] })
  const dryRun = await runProcess(['model', 'apply', dry, '--dry-run'], env)
  t.equal(dryRun.code, 0, dryRun.output)
  t.equal(dryRun.output, [
    'content-type tag: create',
    'component shared.note: update',
    '  rename text → body (0 entries)',
    'content-type article: update',
    '  rename title → headline (2 entries)',
    'Dry run: nothing was applied.',
    '',
  ].join('\n'))
  t.strictSame(await withApp(env, snapshot), before, 'nothing was applied')

  const blocked = {
    ...article,
    fields: [{ name: 'title', type: 'string' }, { name: 'views', type: 'integer' }],
  }
  const refused = await runProcess(['model', 'apply', await modelFile('blocked.json', { components: [note], contentTypes: [blocked, tag] })], env)
  t.equal(refused.code, 1, refused.output)
  t.equal(refused.output, [
    'content-type tag: create',
    'content-type article: update',
    '  retype views: string → integer (2 entries)',
    '  remove summary (1 entries)',
    '  BLOCKED: Values would not fit the new definition: convert them (changes.convert: clear) or change the entries first',
    `    ${documents[1]} en draft /views: is not a number`,
    '  BLOCKED: Field "summary" holds data in 1 entries: confirm its removal (changes.remove)',
    'Nothing was applied: a change is blocked.',
    '',
  ].join('\n'))
  t.strictSame(await withApp(env, snapshot), before, 'nothing was applied: not even the new type')

  const same = await runProcess(['model', 'apply', await modelFile('same.json', { components: [note], contentTypes: [article] })], env)
  t.equal(same.code, 0, same.output)
  t.equal(same.output, 'The model is already as the file says.\n', 'a file that names only part of the model changes nothing else')
  t.strictSame(await withApp(env, snapshot), before)

  await modelFile('not-a-model.json', { contentTypes: [{ ...tag, kind: 'many' }], extra: true })
  const invalid = await runProcess(['model', 'apply', 'not-a-model.json'], env)
  t.equal(invalid.code, 1)
  const problems = [
    '/components must have required property \'components\'',
    '/extra must NOT have additional properties',
    '/contentTypes/0/kind must be equal to one of the allowed values: collection, single',
  ]
  t.equal(invalid.output, `gudang: Invalid definition: ${problems.join('; ')}\n`, 'every problem at its path, without a stack trace')

  const missing = await runHere(t, ['model', 'apply', path.join(workdir, 'missing.json')])
  t.equal(missing.code, 2)
  t.match(missing.output, /^gudang: Cannot read .*missing\.json: ENOENT: no such file or directory/)
  await writeFile(path.join(workdir, 'broken.json'), '{ "components": [')
  const broken = await runHere(t, ['model', 'apply', path.join(workdir, 'broken.json')])
  t.equal(broken.code, 2)
  t.match(broken.output, /^gudang: Cannot read .*broken\.json: .*JSON/)
  t.strictSame(await withApp(env, async (app) => {
    const ghost = { ...tag, fields: [{ name: 'writer', type: 'relation', target: 'ghost', relation: 'toOne' }] }
    const file = { components: [], contentTypes: [ghost] }
    await t.rejects(app.contentModel.applyModel(file, { dryRun: false, actor: {} }), {
      statusCode: 400,
      message: 'Invalid definition: /contentTypes/0/fields/0/target there is no content type "ghost"',
    }, 'definitions that cannot work are refused like a file that is no model')
    return snapshot(app)
  }), before)
})
