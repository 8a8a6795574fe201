import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
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
  // The scheduler's and the webhook worker's timers run only where a test asks for them; tests
  // that change permissions or the model through Prisma see the change at once (GUDANG_READ_CACHE_TTL).
  return loadConfig({ values: { LOG_LEVEL: 'silent', GUDANG_SCHEDULER_INTERVAL: 0, GUDANG_WEBHOOK_INTERVAL: 0, GUDANG_READ_CACHE_TTL: 0, ...values }, fromEnvironment: false })
}

/**
 * Builds the app on a database of its own and closes it after the test. Routes may still be
 * added before the first `inject()`, which makes the app ready.
 */
export async function build(t: Test, values: Record<string, unknown> = {}, options: BuildOptions = {}) {
  const database = await testDatabase(t)
  // Uploaded files go to a folder of the app's own.
  const uploads = await mkdtemp(path.join(tmpdir(), 'gudang-uploads-'))
  const config = testConfig({ ...database.values, GUDANG_UPLOADS_DIR: uploads, ...values })
  const app = buildApp(config, { logger: false, ...options })
  t.teardown(async () => {
    await app.close()
    await database.drop()
    await rm(uploads, { recursive: true, force: true })
  })
  return app
}

type App = Awaited<ReturnType<typeof build>>

/** The first administrator of apps made with `buildWithAdmin`. */
export const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' }

/** Builds the app with its first administrator created from GUDANG_ADMIN_EMAIL/PASSWORD. */
export function buildWithAdmin(t: Test, values: Record<string, unknown> = {}, options: BuildOptions = {}) {
  return build(t, { GUDANG_ADMIN_EMAIL: ADMIN.email, GUDANG_ADMIN_PASSWORD: ADMIN.password, ...values }, options)
}

export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` }
}

export interface SignedIn {
  accessToken: string
  refreshToken: string
  user: { id: string, email: string }
  headers: { authorization: string }
}

/** Signs in through POST /auth/login; fails the test unless it answers 200. */
export async function login(app: App, email = ADMIN.email, password = ADMIN.password): Promise<SignedIn> {
  const res = await app.inject({ method: 'POST', url: '/auth/login', payload: { email, password } })
  if (res.statusCode !== 200) throw new Error(`login as ${email} answered ${res.statusCode}: ${res.body}`)
  const { accessToken, refreshToken, user } = res.json().data
  return { accessToken, refreshToken, user, headers: bearer(accessToken) }
}

/** POSTs as `who` and answers the created item's `data`; fails the test unless the answer is 201. */
export async function created(app: App, who: { headers: { authorization: string } }, url: string, payload: object) {
  const res = await app.inject({ method: 'POST', url, headers: who.headers, payload })
  if (res.statusCode !== 201) throw new Error(`POST ${url} answered ${res.statusCode}: ${res.body}`)
  return res.json().data
}

/** The id of a role by its key (built-in) or name, read through the API as an administrator. */
export async function roleId(app: App, admin: SignedIn, keyOrName: string): Promise<string> {
  const res = await app.inject({ url: '/api/admin/roles', headers: admin.headers })
  const roles: { id: string, key: string | null, name: string }[] = res.json().data
  const role = roles.find((r) => r.key === keyOrName || r.name === keyOrName)
  if (role === undefined) throw new Error(`no role ${keyOrName}`)
  return role.id
}

/** Creates a user with a role through the API and signs them in. */
export async function signInAs(app: App, admin: SignedIn, role: string) {
  const email = `${role.toLowerCase().replace(/\W/g, '')}-${randomUUID()}@example.com`
  const password = 'a long enough password'
  const res = await app.inject({
    method: 'POST',
    url: '/api/admin/users',
    headers: admin.headers,
    payload: { email, displayName: role, password, roleId: await roleId(app, admin, role) },
  })
  if (res.statusCode !== 201) throw new Error(`creating a user answered ${res.statusCode}: ${res.body}`)
  return login(app, email, password)
}
