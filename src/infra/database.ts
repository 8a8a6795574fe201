import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { PrismaPg } from '@prisma/adapter-pg'
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils'
import { PrismaPGlite } from 'pglite-prisma-adapter'
import lockfile from 'proper-lockfile'
import type { Config } from '../config.js'

/**
 * The database Gudang talks to: PostgreSQL when DATABASE_URL is set, otherwise an embedded
 * PostgreSQL (PGlite) kept in GUDANG_DATA_DIR (`memory://` keeps nothing). Both the Prisma client and the migration
 * engine connect through `adapter`.
 */
export interface Database {
  adapter: SqlMigrationAwareDriverAdapterFactory
  /** Where the data lives, for logs (never includes a password). */
  description: string
  close(): Promise<void>
}

export async function openDatabase(config: Pick<Config, 'DATABASE_URL' | 'GUDANG_DATA_DIR'>): Promise<Database> {
  if (config.DATABASE_URL !== undefined) {
    const url = new URL(config.DATABASE_URL)
    return {
      // Each connect() opens its own pool, and disposing the adapter ends it.
      adapter: postgresAdapterFactory(config.DATABASE_URL),
      description: `PostgreSQL at ${url.host}${url.pathname}`,
      close: async () => {},
    }
  }
  if (config.GUDANG_DATA_DIR.startsWith('memory://')) {
    const pglite = await PGlite.create(config.GUDANG_DATA_DIR)
    return { adapter: pgliteAdapterFactory(pglite), description: 'in-memory PGlite', close: () => pglite.close() }
  }
  const dataDir = path.resolve(config.GUDANG_DATA_DIR)
  await mkdir(dataDir, { recursive: true })
  const unlock = await lockDataDir(dataDir)
  const pglite = await PGlite.create(dataDir).catch(async (error: unknown) => {
    await unlock()
    throw error
  })
  return {
    adapter: pgliteAdapterFactory(pglite),
    description: `embedded PostgreSQL (PGlite) in ${dataDir}`,
    close: async () => {
      await pglite.close()
      await unlock()
    },
  }
}

/**
 * PGlite does not lock its folder, and two processes writing one folder would corrupt it.
 * The lock (`<folder>.lock`) keeps a second Gudang, a server or `gudang migrate`, out while one
 * has the folder open; the lock of a process that died goes stale after 10 s. Should the lock
 * be lost while held (the process stalled that long), proper-lockfile ends the process rather
 * than let two write.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  return lockfile.lock(dataDir, { retries: 0 }).catch((error: Error) => {
    throw new Error(
      `Cannot lock ${dataDir}: ${error.message}. One process at a time may open the embedded database.`,
      { cause: error },
    )
  })
}

/**
 * @prisma/adapter-pg splits a script on ";" and runs the pieces one by one, so a migration
 * with a function body breaks, and a failure leaves the statements before it applied.
 * PostgreSQL runs a whole multi-statement script as one implicit transaction, which is how
 * Prisma's own engine sends a migration; this adapter does that.
 */
function postgresAdapterFactory(connectionString: string): SqlMigrationAwareDriverAdapterFactory {
  const factory = new PrismaPg({ connectionString, connectionTimeoutMillis: 5_000 })
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => {
      const adapter = await factory.connect()
      // Without a server (a test run on the embedded database) only its failure can run.
      /* c8 ignore start */
      return Object.assign(adapter, {
        executeScript: async (script: string) => {
          await adapter.underlyingDriver().query(script)
        },
      })
      /* c8 ignore stop */
    },
    connectToShadowDb: factory.connectToShadowDb.bind(factory),
  }
}

/**
 * A Prisma adapter over one PGlite database. pglite-prisma-adapter 0.7 does not await
 * `exec` in `executeScript`, so a failing migration would be recorded as applied; this one does.
 */
async function connectPGlite(
  pglite: PGlite,
  { closeOnDispose }: { closeOnDispose: boolean },
): Promise<SqlDriverAdapter> {
  const adapter = await new PrismaPGlite(pglite).connect()
  return Object.assign(adapter, {
    executeScript: async (script: string) => {
      await pglite.exec(script)
    },
    ...(closeOnDispose ? { dispose: () => pglite.close() } : {}),
  })
}

/** A throw-away in-memory database, closed when its adapter is disposed. */
export async function connectScratchPGlite(): Promise<SqlDriverAdapter> {
  return connectPGlite(await PGlite.create(), { closeOnDispose: true })
}

function pgliteAdapterFactory(pglite: PGlite): SqlMigrationAwareDriverAdapterFactory {
  const { provider, adapterName } = new PrismaPGlite(pglite)
  return {
    provider,
    adapterName,
    connect: () => connectPGlite(pglite, { closeOnDispose: false }),
    connectToShadowDb: connectScratchPGlite,
  }
}
