import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Static } from 'typebox'
import type { PrismaClient } from '../generated/prisma/client.js'
import { migrationNames, readMigrations } from '../infra/migrations.js'
import { migrationsDir } from '../package.js'
import type { CheckStateSchema, ReadinessSchema } from '../schemas/health.js'

type CheckState = Static<typeof CheckStateSchema>

export interface Readiness {
  ready: boolean
  checks: Static<typeof ReadinessSchema>['checks']
  /** Migrations of this release that the database has not (successfully) applied. */
  pendingMigrations: string[]
}

/** Readiness: the database answers and every migration this release ships is applied. */
export function createHealthService(prisma: Pick<PrismaClient, '$queryRaw'>, expectedMigrations: string[]) {
  async function appliedMigrations(): Promise<Set<string>> {
    const rows = await prisma.$queryRaw<{ migration_name: string }[]>`
      SELECT migration_name FROM _prisma_migrations
      WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`
    return new Set(rows.map((row) => row.migration_name))
  }

  return {
    async readiness(): Promise<Readiness> {
      try {
        await prisma.$queryRaw`SELECT 1`
      } catch {
        return {
          ready: false,
          checks: { database: 'failing', migrations: 'failing' },
          pendingMigrations: expectedMigrations,
        }
      }
      // Without Prisma's migrations table nothing has been applied yet.
      const applied = await appliedMigrations().catch(() => new Set<string>())
      const pendingMigrations = expectedMigrations.filter((name) => !applied.has(name))
      const migrations: CheckState = pendingMigrations.length === 0 ? 'ok' : 'failing'
      return { ready: migrations === 'ok', checks: { database: 'ok', migrations }, pendingMigrations }
    },
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    health: ReturnType<typeof createHealthService>
  }
}

export default fp(
  async (app: FastifyInstance) => {
    const expected = migrationNames(await readMigrations(migrationsDir))
    app.decorate('health', createHealthService(app.prisma, expected))
  },
  { name: 'health-service', dependencies: ['prisma'] },
)
