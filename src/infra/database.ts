import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { PrismaPg } from '@prisma/adapter-pg'
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils'
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

export async function openDatabase(config: Pick<Config, 'DATABASE_URL' | 'GUDANG_DATA_DIR'>): Promise<Database> {
  if (config.DATABASE_URL !== undefined) {
    const url = new URL(config.DATABASE_URL)
    return {
      // Each connect() opens its own pool, and disposing the adapter ends it.
      adapter: new PrismaPg({ connectionString: config.DATABASE_URL }),
      description: `PostgreSQL at ${url.host}${url.pathname}`,
      close: async () => {},
    }
  }
  const inMemory = config.GUDANG_DATA_DIR.startsWith('memory://')
  const dataDir = inMemory ? config.GUDANG_DATA_DIR : path.resolve(config.GUDANG_DATA_DIR)
  if (!inMemory) await mkdir(dataDir, { recursive: true })
  const pglite = await PGlite.create(dataDir)
  return {
    adapter: new PrismaPGlite(pglite),
    description: `embedded PostgreSQL (PGlite) in ${dataDir}`,
    close: () => pglite.close(),
  }
}
