import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils'
import * as engineBindings from '@prisma/schema-engine-wasm/schema_engine_bg'
import { connectScratchPGlite } from './database.js'

/**
 * Prisma Migrate without the Prisma CLI: the schema engine compiled to WebAssembly applies
 * and diffs migrations through a driver adapter, so nothing is downloaded and the embedded
 * database works too. It keeps Prisma's own `_prisma_migrations` table, so `prisma migrate
 * deploy` on a connected machine agrees with what Gudang applied.
 */

type MigrationList = engineBindings.MigrationList
type SchemaEngine = engineBindings.SchemaEngine

const filters = { externalTables: [], externalEnums: [] }

// @types/node 20 leaves WebAssembly to the DOM library; this is the one call Gudang makes.
declare const WebAssembly: {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, unknown>,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>
}

let instantiation: Promise<void> | undefined

/** The package's main entry imports a .wasm module, which Node 20 only allows behind a flag. */
function instantiateEngine(): Promise<void> {
  instantiation ??= (async () => {
    const entry = createRequire(import.meta.url).resolve('@prisma/schema-engine-wasm/schema_engine_bg')
    const bytes = await readFile(path.join(path.dirname(entry), 'schema_engine_bg.wasm'))
    const { instance } = await WebAssembly.instantiate(bytes, {
      './schema_engine_bg.js': withTrackedTimers(),
    })
    engineBindings.__wbg_set_wasm(instance.exports)
    ;(instance.exports.__wbindgen_start as () => void)()
  })()
  return instantiation
}

/**
 * The engine races its advisory lock against a 10 s timer that it never clears, which would
 * keep a finished `gudang migrate` alive for 10 s. Its timers are tracked here and cleared
 * when an engine is done (Gudang runs one engine at a time).
 */
const engineTimers = new Set<NodeJS.Timeout>()

function withTrackedTimers(): Record<string, unknown> {
  const bindings: Record<string, unknown> = { ...engineBindings }
  for (const [name, binding] of Object.entries(engineBindings as Record<string, unknown>)) {
    if (!name.startsWith('__wbg_setTimeout_')) continue
    const setEngineTimeout = binding as (callback: () => void, ms: number) => NodeJS.Timeout
    bindings[name] = (callback: () => void, ms: number) => {
      const timer = setEngineTimeout(callback, ms)
      engineTimers.add(timer)
      return timer
    }
  }
  return bindings
}

function clearEngineTimers(): void {
  for (const timer of engineTimers) clearTimeout(timer)
  engineTimers.clear()
}

export type EngineLog = (message: string) => void

async function withEngine<T>(
  factory: SqlMigrationAwareDriverAdapterFactory,
  log: EngineLog,
  run: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  await instantiateEngine()
  // The engine disposes the shadow databases it opens, but not its main connection.
  const connections: SqlDriverAdapter[] = []
  const tracked: SqlMigrationAwareDriverAdapterFactory = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => {
      const connection = await factory.connect()
      connections.push(connection)
      return connection
    },
    connectToShadowDb: () => factory.connectToShadowDb(),
  }
  const bound = bindMigrationAwareSqlAdapterFactory(tracked)
  let result: T
  try {
    const engine = await engineBindings.SchemaEngine.new({ datamodels: undefined }, log, bound)
    try {
      result = await run(engine)
    } catch (error) {
      throw readableEngineError(error as Error)
    } finally {
      engine.free()
    }
  } finally {
    // Also when the engine could not start: it may have connected already.
    await Promise.all(connections.map((connection) => connection.dispose()))
    clearEngineTimers()
  }
  return result
}

/**
 * The engine's message ends in a Rust span trace after what failed; answers an error that
 * says which migration failed and why (the whole message stays in `_prisma_migrations.logs`).
 */
function readableEngineError(error: Error): Error {
  const reason = error.message.split(/\n\s+0: /)[0]?.replace(/^external connector error\n/, '')
  const migration = /migration_name="([^"]+)"/.exec(error.message)?.[1]
  return new Error(migration ? `Migration ${migration} failed: ${reason}` : reason, { cause: error })
}

/** Reads a migrations folder in Prisma's format: one `<timestamp>_<name>/migration.sql` each. */
export async function readMigrations(dir: string): Promise<MigrationList> {
  const entries = await readdir(dir, { withFileTypes: true })
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
  const migrationDirectories = await Promise.all(
    names.map(async (name) => ({
      path: name,
      migrationFile: {
        path: 'migration.sql',
        // As Prisma's CLI does, an unreadable file is left for the engine to report.
        content: await readFile(path.join(dir, name, 'migration.sql'), 'utf8').then(
          (value) => ({ tag: 'ok' as const, value }),
          (error: Error) => ({ tag: 'error' as const, value: error.message }),
        ),
      },
    })),
  )
  const lockfilePath = path.join(dir, 'migration_lock.toml')
  const lockfile = await readFile(lockfilePath, 'utf8').catch(() => null)
  return {
    baseDir: dir,
    lockfile: { path: 'migration_lock.toml', content: lockfile },
    shadowDbInitScript: '',
    migrationDirectories,
  }
}

export function migrationNames(list: MigrationList): string[] {
  return list.migrationDirectories.map((migration) => migration.path)
}

/** Applies the migrations the database lacks, in order; answers the names it applied. */
export async function applyMigrations(
  adapter: SqlMigrationAwareDriverAdapterFactory,
  dir: string,
  log: EngineLog = () => {},
): Promise<string[]> {
  const migrationsList = await readMigrations(dir)
  const { appliedMigrationNames } = await withEngine(adapter, log, (engine) =>
    engine.applyMigrations({ migrationsList, filters }),
  )
  return appliedMigrationNames
}

/**
 * The SQL that would bring a database built from `dir` to `schemaPath`'s datamodel; empty
 * when the two agree. An in-memory PGlite serves as the shadow database.
 */
export async function diffMigrationsToSchema(dir: string, schemaPath: string): Promise<string> {
  const migrationsList = await readMigrations(dir)
  const schema = await readFile(schemaPath, 'utf8')
  const result = await withEngine(
    scratchDatabases(),
    () => {},
    (engine) =>
      engine.diff({
        from: { tag: 'migrations', ...migrationsList },
        to: { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: schema }] },
        script: true,
        exitCode: null,
        filters,
      }),
  )
  // With `script: true` the engine always answers a script.
  const script = result.stdout as string
  return isEmptyScript(script) ? '' : script
}

/** Diffing needs no real database: every connection is a throw-away in-memory one. */
function scratchDatabases(): SqlMigrationAwareDriverAdapterFactory {
  return {
    provider: 'postgres',
    adapterName: 'gudang-scratch-pglite',
    connect: connectScratchPGlite,
    connectToShadowDb: connectScratchPGlite,
  }
}

/** The engine answers "-- This is an empty migration." when nothing changes. */
function isEmptyScript(script: string): boolean {
  return script.split('\n').every((line) => line.trim() === '' || line.trim().startsWith('--'))
}

/**
 * Writes the change from `schemaPath` as a new migration folder; answers its path, or
 * undefined when the schema and the migrations already agree.
 */
export async function createMigration(
  dir: string,
  schemaPath: string,
  name: string,
  now: Date = new Date(),
): Promise<string | undefined> {
  const script = await diffMigrationsToSchema(dir, schemaPath)
  if (script === '') return undefined
  const timestamp = now.toISOString().replace(/\D/g, '').slice(0, 14)
  const folder = path.join(dir, `${timestamp}_${name}`)
  await mkdir(folder)
  await writeFile(path.join(folder, 'migration.sql'), script)
  return folder
}
