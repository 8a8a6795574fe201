import { cp, mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { PrismaClient } from '../../../src/generated/prisma/client.js'
import { openDatabase } from '../../../src/infra/database.js'
import {
  applyMigrations,
  createMigration,
  diffMigrationsToSchema,
  readMigrations,
} from '../../../src/infra/migrations.js'
import { migrationsDir, prismaSchemaPath } from '../../../src/package.js'
import { testConfig, testDatabase } from '../../helper.js'

t.test('schema.prisma and prisma/migrations agree (no drift)', async (t) => {
  const drift = await diffMigrationsToSchema(migrationsDir, prismaSchemaPath)
  t.equal(drift, '', 'run "npm run db:migration -- <name>" to write a migration for the schema change')
})

t.test('a schema change becomes a new migration folder in Prisma’s format', async (t) => {
  const dir = t.testdir()
  await cp(migrationsDir, dir, { recursive: true })
  const schemaPath = path.join(dir, 'schema.prisma')
  const schema = await readFile(prismaSchemaPath, 'utf8')
  t.equal(await createMigration(dir, prismaSchemaPath, 'nothing'), undefined, 'no change, no folder')

  await writeFile(schemaPath, `${schema}\nmodel Tag {\n  id   Int    @id\n  name String\n}\n`)
  const folder = await createMigration(dir, schemaPath, 'add_tags', new Date('2030-01-02T03:04:05Z'))
  t.equal(folder, path.join(dir, '20300102030405_add_tags'))
  t.match(
    await readFile(path.join(dir, '20300102030405_add_tags', 'migration.sql'), 'utf8'),
    /CREATE TABLE "Tag"/,
  )
  t.equal(
    await diffMigrationsToSchema(dir, schemaPath),
    '',
    'the new migration brings the history up to the schema',
  )
})

t.test('migrations apply once; a migration added later is applied on the next run', async (t) => {
  const database = await testDatabase(t)
  const config = testConfig(database.values)
  const dir = t.testdir()
  await cp(migrationsDir, dir, { recursive: true })
  const shipped = (await readMigrations(dir)).migrationDirectories.map((m) => m.path)

  const first = await openDatabase(config)
  t.teardown(() => first.close())
  t.same(await applyMigrations(first.adapter, dir), shipped, 'a new database gets every migration')
  t.same(await applyMigrations(first.adapter, dir), [], 'a second run applies nothing')

  await mkdir(path.join(dir, '29991231235959_add_notes'))
  await writeFile(
    path.join(dir, '29991231235959_add_notes', 'migration.sql'),
    'CREATE TABLE "notes" ("id" SERIAL PRIMARY KEY, "body" TEXT NOT NULL);\n',
  )
  t.same(await applyMigrations(first.adapter, dir), ['29991231235959_add_notes'])

  const prisma = new PrismaClient({ adapter: first.adapter })
  t.teardown(() => prisma.$disconnect())
  const rows = await prisma.$queryRaw<{ migration_name: string, finished_at: Date | null }[]>`
    SELECT migration_name, finished_at FROM _prisma_migrations ORDER BY migration_name`
  t.same(
    rows.map((row) => row.migration_name),
    [...shipped, '29991231235959_add_notes'],
  )
  t.ok(
    rows.every((row) => row.finished_at instanceof Date),
    'Prisma records each as finished',
  )
  t.same(await prisma.$queryRaw`SELECT count(*)::int AS n FROM notes`, [{ n: 0 }])
})

t.test('a failing migration stops the run, names itself and is recorded as failed', async (t) => {
  const dir = t.testdir()
  await cp(migrationsDir, dir, { recursive: true })
  await mkdir(path.join(dir, '29991231235959_broken'))
  await writeFile(
    path.join(dir, '29991231235959_broken', 'migration.sql'),
    'ALTER TABLE "nowhere" ADD COLUMN x INT;\n',
  )
  // Both the test database and the embedded one, whatever the test database is.
  const databases = { test: (await testDatabase(t)).values, embedded: { GUDANG_DATA_DIR: 'memory://' } }
  for (const [kind, values] of Object.entries(databases)) {
    const db = await openDatabase(testConfig(values))
    t.teardown(() => db.close())
    const failure = await applyMigrations(db.adapter, dir).then(() => undefined, (error: Error) => error)
    t.equal(
      failure?.message,
      'Migration 29991231235959_broken failed: No such table: nowhere',
      `${kind}: the error names the migration and the database's reason`,
    )
    const prisma = new PrismaClient({ adapter: db.adapter })
    t.teardown(() => prisma.$disconnect())
    const [broken] = await prisma.$queryRaw<{ finished_at: Date | null, logs: string }[]>`
      SELECT finished_at, logs FROM _prisma_migrations WHERE migration_name = '29991231235959_broken'`
    t.equal(broken?.finished_at, null, `${kind}: recorded as not finished`)
    t.match(broken?.logs, /No such table: nowhere/, `${kind}: with the reason, as Prisma records it`)
  }
})

t.test('an engine error that is not a database error keeps its message', async (t) => {
  const database = await testDatabase(t)
  const dir = t.testdir()
  await cp(migrationsDir, dir, { recursive: true })
  await writeFile(path.join(dir, 'migration_lock.toml'), 'provider = "mysql"\n')
  const db = await openDatabase(testConfig(database.values))
  t.teardown(() => db.close())
  await t.rejects(applyMigrations(db.adapter, dir), /mysql/)
})

t.test('a migration folder without its migration.sql stops the run there, with a clear message', async (t) => {
  const database = await testDatabase(t)
  const dir = t.testdir()
  await cp(migrationsDir, dir, { recursive: true })
  const shipped = (await readMigrations(dir)).migrationDirectories.map((m) => m.path)
  await mkdir(path.join(dir, '29991231235959_empty'))
  const db = await openDatabase(testConfig(database.values))
  t.teardown(() => db.close())
  await t.rejects(applyMigrations(db.adapter, dir), /Could not find the migration file at migration\.sql/)
  const connection = await db.adapter.connect()
  t.teardown(() => connection.dispose())
  const applied = await connection.queryRaw({ sql: 'SELECT migration_name FROM _prisma_migrations', args: [], argTypes: [] })
  t.same(applied.rows.flat(), shipped, 'the migrations before it are applied, nothing after')
})
