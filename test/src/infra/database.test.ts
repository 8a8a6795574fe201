import { mkdir, utimes, writeFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { buildApp } from '../../../src/app.js'
import { openDatabase } from '../../../src/infra/database.js'
import { testConfig, testDatabase } from '../../helper.js'

const query = { args: [], argTypes: [] }

t.test('DATABASE_URL selects PostgreSQL, described without its password', async (t) => {
  const database = await openDatabase(testConfig({ DATABASE_URL: 'postgresql://gudang:s3cret@db.internal:5433/cms' }))
  t.teardown(() => database.close())
  t.equal(database.description, 'PostgreSQL at db.internal:5433/cms')
  t.equal(database.adapter.adapterName, '@prisma/adapter-pg')
})

t.test('without DATABASE_URL the embedded database lives in GUDANG_DATA_DIR and keeps its data', async (t) => {
  const dir = path.join(t.testdir(), 'nested', 'pglite')
  const first = await openDatabase(testConfig({ GUDANG_DATA_DIR: dir }))
  t.equal(first.description, `embedded PostgreSQL (PGlite) in ${dir}`)
  const connection = await first.adapter.connect()
  await connection.executeScript('CREATE TABLE kept (id INT); INSERT INTO kept VALUES (7);')
  await first.close()

  const second = await openDatabase(testConfig({ GUDANG_DATA_DIR: dir }))
  t.teardown(() => second.close())
  const rows = await (await second.adapter.connect()).queryRaw({ sql: 'SELECT id FROM kept', ...query })
  t.same(rows.rows, [[7]])
})

t.test('one process at a time opens an embedded database folder', async (t) => {
  const dir = path.join(t.testdir(), 'pglite')
  const first = await openDatabase(testConfig({ GUDANG_DATA_DIR: dir }))
  await t.rejects(openDatabase(testConfig({ GUDANG_DATA_DIR: dir })), {
    message: `Cannot lock ${dir} (one process at a time may open the embedded database): Lock file is already being held`,
  })
  await first.close()
  const again = await openDatabase(testConfig({ GUDANG_DATA_DIR: dir }))
  await again.close()
})

t.test('the lock of a process that died is taken over once stale', async (t) => {
  const dir = path.join(t.testdir(), 'pglite')
  await mkdir(path.join(dir, 'gudang.lock'), { recursive: true })
  const longAgo = new Date(Date.now() - 120_000)
  await utimes(path.join(dir, 'gudang.lock'), longAgo, longAgo)
  const database = await openDatabase(testConfig({ GUDANG_DATA_DIR: dir }))
  await database.close()
})

t.test('a folder PGlite cannot open is refused, and left unlocked', async (t) => {
  const dir = path.join(t.testdir(), 'pglite')
  await mkdir(dir)
  await writeFile(path.join(dir, 'PG_VERSION'), 'not a version\n')
  const open = () => openDatabase(testConfig({ GUDANG_DATA_DIR: dir })).then(() => undefined, (error: Error) => error)
  const first = await open()
  t.type(first, Error)
  t.notMatch(first?.message, /Cannot lock/, 'PGlite refuses the folder')
  t.equal((await open())?.message, first?.message, 'the failed attempt released its lock')
})

t.test('scripts run whole and atomically, on the test database and the embedded one', async (t) => {
  const databases = { test: (await testDatabase(t)).values, embedded: { GUDANG_DATA_DIR: 'memory://' } }
  for (const [kind, values] of Object.entries(databases)) {
    const database = await openDatabase(testConfig(values))
    t.teardown(() => database.close())
    const connection = await database.adapter.connect()
    t.teardown(() => connection.dispose())

    // A function body holds semicolons; splitting the script on them would break it.
    await connection.executeScript(`
      CREATE FUNCTION answer() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 42; END; $$;
      CREATE TABLE notes (body text DEFAULT 'a; b');`)
    const answer = await connection.queryRaw({ sql: 'SELECT answer() AS a', ...query })
    t.same(answer.rows, [[42]], `${kind}: the function works`)

    await t.rejects(
      connection.executeScript('CREATE TABLE half (id int); SELECT * FROM nowhere;'),
      /relation "nowhere" does not exist/,
      `${kind}: a failing script is an error`,
    )
    const half = await connection.queryRaw({ sql: 'SELECT to_regclass(\'half\') IS NULL AS gone', ...query })
    t.same(half.rows, [[true]], `${kind}: and nothing of it stays`)
  }
})

t.test('a script for a PostgreSQL server that cannot be reached fails with the reason', async (t) => {
  const database = await openDatabase(testConfig({ DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/none' }))
  const connection = await database.adapter.connect()
  t.teardown(() => connection.dispose())
  await t.rejects(connection.executeScript('SELECT 1'), { name: 'DriverAdapterError', message: /ECONNREFUSED/ })
})

t.test('the app does not start when the database cannot be reached', async (t) => {
  const app = buildApp(testConfig({ DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/none' }), { logger: false })
  await t.rejects(async () => {
    await app.ready()
  }, /Can't reach database server at `127.0.0.1:1`/)
  await app.close()
})
