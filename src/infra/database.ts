import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { PrismaPg } from '@prisma/adapter-pg'
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils'
import { PrismaPGlite } from 'pglite-prisma-adapter'
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

export async function openDatabase(
  config: Pick<Config, 'DATABASE_URL' | 'GUDANG_DATA_DIR'>,
): Promise<Database> {
  if (config.DATABASE_URL !== undefined) {
    const url = new URL(config.DATABASE_URL)
    return {
      // Each connect() opens its own pool, and disposing the adapter ends it.
      adapter: new PrismaPg({ connectionString: config.DATABASE_URL }),
      description: `PostgreSQL at ${url.host}${url.pathname}`,
      close: async () => {},
    }
  }
  if (config.GUDANG_DATA_DIR.startsWith('memory://')) {
    const pglite = await PGlite.create(config.GUDANG_DATA_DIR)
    return {
      adapter: pgliteAdapterFactory(pglite),
      description: 'in-memory PGlite',
      close: () => pglite.close(),
    }
  }
  const dataDir = path.resolve(config.GUDANG_DATA_DIR)
  await mkdir(dataDir, { recursive: true })
  const unlock = await lockDataDir(dataDir)
  const pglite = await PGlite.create(dataDir)
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
 * A pid file keeps a second Gudang (a server, or `gudang migrate`) out while one has it open;
 * the file of a process that died is taken over.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const lockPath = path.join(dataDir, 'gudang.pid')
  try {
    await writeFile(lockPath, String(process.pid), { flag: 'wx' })
  } catch {
    const holder = Number(await readFile(lockPath, 'utf8'))
    if (isRunning(holder)) {
      throw new Error(
        `${dataDir} is in use by process ${holder}: one process at a time may open the embedded database`,
      )
    }
    await writeFile(lockPath, String(process.pid))
  }
  return () => rm(lockPath, { force: true })
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it runs, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
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
