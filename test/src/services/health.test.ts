import t from 'tap'
import { createHealthService } from '../../../src/services/health.js'

t.test('a database that does not answer fails both checks', async (t) => {
  const unreachable = {
    $queryRaw: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')),
  } as unknown as Parameters<typeof createHealthService>[0]
  const health = createHealthService(unreachable, ['20260101000000_init'])
  t.same(await health.readiness(), {
    ready: false,
    checks: { database: 'failing', migrations: 'failing' },
    pendingMigrations: ['20260101000000_init'],
  })
})
