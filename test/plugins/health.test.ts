import t from 'tap'
import { build } from '../helper.js'

t.test('GET /health/live answers while the process is up', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/health/live' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ok' })
  t.equal(res.headers['cache-control'], 'no-store')
})

t.test('GET /health/ready answers 200 once the database is migrated', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/health/ready' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ok', checks: { database: 'ok', migrations: 'ok' } })
})

t.test('GET /health/ready answers 503 with the pending migrations when one is not applied', async (t) => {
  const app = await build(t)
  await app.ready()
  const [latest] = await app.prisma.$queryRaw<{ migration_name: string }[]>`
    SELECT migration_name FROM _prisma_migrations ORDER BY migration_name DESC LIMIT 1`
  await app.prisma
    .$executeRaw`DELETE FROM _prisma_migrations WHERE migration_name = ${latest?.migration_name}`

  const res = await app.inject({ method: 'GET', url: '/health/ready' })
  t.equal(res.statusCode, 503)
  t.match(res.json(), {
    statusCode: 503,
    code: 'GUDANG_ERR_NOT_READY',
    error: 'Service Unavailable',
    details: {
      checks: { database: 'ok', migrations: 'failing' },
      pendingMigrations: [latest?.migration_name],
    },
  })
})

t.test('GET /health/ready answers 503 before any migration ran', async (t) => {
  const app = await build(t, { GUDANG_MIGRATE_ON_START: false })
  const res = await app.inject({ method: 'GET', url: '/health/ready' })
  t.equal(res.statusCode, 503)
  t.equal(res.json().details.checks.migrations, 'failing')
  t.ok(res.json().details.pendingMigrations.length > 0)
})
