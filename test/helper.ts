import { randomUUID } from 'node:crypto'
import pg from 'pg'
import type { Test } from 'tap'
import { type BuildOptions, buildApp } from '../src/app.js'
import { type Config, loadConfig } from '../src/config.js'

/**
 * With TEST_DATABASE_URL set (e.g. postgresql://postgres@127.0.0.1:5432/postgres), every
 * test database is a new database on that server, dropped afterwards; otherwise it is an
 * in-memory PGlite. Either way no two tests share one.
 */
const serverUrl = process.env.TEST_DATABASE_URL

export const onPostgres = serverUrl !== undefined

async function onServer(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

/** Configuration values for a database of the test's own; it is dropped after the test. */
export async function testDatabase(
  t: Test,
): Promise<{ values: Record<string, string>, drop: () => Promise<void> }> {
  if (serverUrl === undefined) return { values: { GUDANG_DATA_DIR: 'memory://' }, drop: async () => {} }
  const name = `gudang_test_${randomUUID().replaceAll('-', '')}`
  await onServer(`CREATE DATABASE "${name}"`)
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  const drop = () => onServer(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  t.teardown(drop)
  return { values: { DATABASE_URL: url.toString() }, drop }
}

export function testConfig(values: Record<string, unknown> = {}): Config {
  return loadConfig({ values: { LOG_LEVEL: 'silent', ...values }, fromEnvironment: false })
}

/**
 * Builds the app on a database of its own and closes it after the test. Routes may still be
 * added before the first `inject()`, which makes the app ready.
 */
export async function build(t: Test, values: Record<string, unknown> = {}, options: BuildOptions = {}) {
  const database = await testDatabase(t)
  const app = buildApp(testConfig({ ...database.values, ...values }), { logger: false, ...options })
  t.teardown(async () => {
    await app.close()
    await database.drop()
  })
  return app
}
