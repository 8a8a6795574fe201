import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { PrismaClient } from '../generated/prisma/client.js'
import { migrationsDir } from '../package.js'
import { openDatabase } from './database.js'
import { applyMigrations } from './migrations.js'

declare module 'fastify' {
  interface FastifyInstance {
    prisma: PrismaClient
  }
}

/**
 * The one Prisma client of the app, over the configured database. Pending migrations are
 * applied first (unless GUDANG_MIGRATE_ON_START is false); closing the app closes both.
 */
async function prismaPlugin(app: FastifyInstance): Promise<void> {
  const { config } = app
  const database = await openDatabase(config)
  app.log.info(`database: ${database.description}`)
  try {
    if (config.GUDANG_MIGRATE_ON_START) {
      const applied = await applyMigrations(database.adapter, migrationsDir, (line) =>
        app.log.debug({ schemaEngine: line }, 'schema engine'),
      )
      app.log.info({ applied }, `applied ${applied.length} migration(s)`)
    }
  } catch (error) {
    await database.close()
    throw error
  }
  // Writes of a type's entries wait (an advisory lock) while its definition changes; a change
  // rewriting many entries takes a while. Longer than GUDANG_TRANSACTION_TIMEOUT, the answer is
  // 503 (P2028).
  const transactionOptions = { maxWait: 10_000, timeout: config.GUDANG_TRANSACTION_TIMEOUT }
  const prisma = new PrismaClient({ adapter: database.adapter, transactionOptions })
  app.decorate('prisma', prisma)
  app.addHook('onClose', async () => {
    await prisma.$disconnect()
    await database.close()
  })
}

export default fp(prismaPlugin, { name: 'prisma', decorators: { fastify: ['config'] } })
