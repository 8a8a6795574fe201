import { readFile } from 'node:fs/promises'
import t from 'tap'
import { buildApp } from '../../../src/app.js'
import { openDatabase } from '../../../src/infra/database.js'
import { testConfig } from '../../helper.js'

t.test('DATABASE_URL selects PostgreSQL, described without its password', async (t) => {
  const database = await openDatabase(
    testConfig({ DATABASE_URL: 'postgresql://gudang:s3cret@db.internal:5433/cms' }),
  )
  t.teardown(() => database.close())
  t.equal(database.description, 'PostgreSQL at db.internal:5433/cms')
  t.equal(database.adapter.adapterName, '@prisma/adapter-pg')
})

t.test(
  'without DATABASE_URL the embedded database lives in GUDANG_DATA_DIR and keeps its data',
  async (t) => {
    const dir = `${t.testdir()}/nested/pglite`
    const first = await openDatabase(testConfig({ GUDANG_DATA_DIR: dir }))
    t.equal(first.description, `embedded PostgreSQL (PGlite) in ${dir}`)
    const connection = await first.adapter.connect()
    await connection.executeScript('CREATE TABLE kept (id INT); INSERT INTO kept VALUES (7);')
    await first.close()

    const second = await openDatabase(testConfig({ GUDANG_DATA_DIR: dir }))
    t.teardown(() => second.close())
    const rows = await (await second.adapter.connect()).queryRaw({
      sql: 'SELECT id FROM kept',
      args: [],
      argTypes: [],
    })
    t.same(rows.rows, [[7]])
  },
)

t.test('one process at a time opens an embedded database folder', async (t) => {
  const dir = t.testdir()
  const first = await openDatabase(testConfig({ GUDANG_DATA_DIR: dir }))
  await t.rejects(openDatabase(testConfig({ GUDANG_DATA_DIR: dir })), {
    message: `${dir} is in use by process ${process.pid}: one process at a time may open the embedded database`,
  })
  await first.close()
  const again = await openDatabase(testConfig({ GUDANG_DATA_DIR: dir }))
  await again.close()
})

t.test('the lock of a process that died is taken over', async (t) => {
  const dir = t.testdir({ 'gudang.pid': '2147483646' })
  const database = await openDatabase(testConfig({ GUDANG_DATA_DIR: dir }))
  t.equal(await readFile(`${dir}/gudang.pid`, 'utf8'), String(process.pid))
  await database.close()
})

t.test('a failing script is an error, not a silent success', async (t) => {
  const database = await openDatabase(testConfig({ GUDANG_DATA_DIR: 'memory://' }))
  t.teardown(() => database.close())
  const connection = await database.adapter.connect()
  await t.rejects(connection.executeScript('SELECT * FROM nowhere'), /relation "nowhere" does not exist/)
})

t.test('the app does not start when the database cannot be reached', async (t) => {
  const app = buildApp(testConfig({ DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/none' }), {
    logger: false,
  })
  await t.rejects(async () => {
    await app.ready()
  }, /Can't reach database server at `127.0.0.1:1`/)
  await app.close()
})
