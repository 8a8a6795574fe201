import Fastify from 'fastify'
import t, { type Test } from 'tap'
import healthRoutes from '../../plugins/health/index.js'
import errorHandler from '../../src/infra/error-handler.js'
import type { Readiness } from '../../src/services/health.js'

/** The health routes on a bare Fastify, with a health service that answers what it is told. */
async function bare(t: Test, readiness: Readiness) {
  const app = Fastify()
  await app.register(errorHandler)
  app.decorate('health', { readiness: async () => readiness })
  await app.register(healthRoutes, { prefix: '/health' })
  t.teardown(() => app.close())
  return app
}

t.test('ready: 200 with the checks', async (t) => {
  const app = await bare(t, { ready: true, checks: { database: 'ok', migrations: 'ok' }, pendingMigrations: [] })
  const res = await app.inject({ method: 'GET', url: '/health/ready' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ok', checks: { database: 'ok', migrations: 'ok' } })
})

t.test('not ready: 503 in the error shape, the failing checks in details', async (t) => {
  const readiness: Readiness = {
    ready: false,
    checks: { database: 'failing', migrations: 'failing' },
    pendingMigrations: ['20260101000000_init'],
  }
  const app = await bare(t, readiness)
  const res = await app.inject({ method: 'GET', url: '/health/ready' })
  t.equal(res.statusCode, 503)
  t.same(res.json(), {
    statusCode: 503,
    code: 'GUDANG_ERR_NOT_READY',
    error: 'Service Unavailable',
    message: 'Gudang is not ready: a dependency is failing',
    details: { checks: readiness.checks, pendingMigrations: readiness.pendingMigrations },
  })
  t.equal(res.headers['cache-control'], 'no-store')
})
