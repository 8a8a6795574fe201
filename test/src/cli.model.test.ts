import { readFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { cliRunner } from '../cli-runner.js'
import { testConfig } from '../helper.js'

const { workdir, runProcess, databaseEnv } = cliRunner(t)

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
