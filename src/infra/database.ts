import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { PrismaPg } from '@prisma/adapter-pg'
import {
  DriverAdapterError,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils'
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
      try {
        await pglite.close()
      } finally {
        await unlock()
      }
    },
  }
}

/**
 * PGlite does not lock its folder, and two processes writing one folder would corrupt it.
 * The lock (`gudang.lock` inside the folder, so that it travels with a shared volume) keeps a
 * second Gudang, a server or `gudang migrate`, out while one has the folder open. The lock of
 * a process that was killed goes stale after a minute.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const options = {
    lockfilePath: path.join(dataDir, 'gudang.lock'),
    stale: 60_000,
    retries: 0,
    /* c8 ignore start: only when the process stalled for a minute and another took the folder */
    onCompromised: (error: Error) => {
      // Closing PGlite would write into a folder another process now holds: stop at once.
      console.error(`gudang: lost the lock on ${dataDir}: ${error.message}`)
      process.exit(1)
    },
    /* c8 ignore stop */
  }
  return lockfile.lock(dataDir, options).catch((error: Error) => {
    throw new Error(
      `Cannot lock ${dataDir} (one process at a time may open the embedded database): ${error.message}`,
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
  const factory = new PrismaPg({ connectionString })
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => {
      const adapter = await factory.connect()
      // Without a server (a test run on the embedded database) only its failure can run.
      /* c8 ignore start */
      return Object.assign(adapter, {
        executeScript: async (script: string) => {
          await adapter.underlyingDriver().query(script).catch(asDriverAdapterError)
        },
      })
      /* c8 ignore stop */
    },
    connectToShadowDb: factory.connectToShadowDb.bind(factory),
  }
}

/**
 * A database error in the form Prisma's engine reports and records in `_prisma_migrations`
 * (the error of a failing migration script). pg and PGlite errors have the same fields.
 */
function asDriverAdapterError(error: PostgresError): never {
  const { code, severity, message, detail, column, hint } = error
  throw new DriverAdapterError({
    kind: 'postgres',
    code: String(code),
    severity: String(severity),
    message,
    detail,
    column,
    hint,
  })
}

interface PostgresError {
  code?: string
  severity?: string
  message: string
  detail?: string
  column?: string
  hint?: string
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
      await pglite.exec(script).catch(asDriverAdapterError)
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
