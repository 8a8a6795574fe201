import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp } from 'node:fs/promises'
import path from 'node:path'
import type { Test } from 'tap'
import { type App, buildApp } from '../src/app.js'
import { run } from '../src/cli.js'
import { packageRoot } from '../src/package.js'
import { testConfig, testDatabase } from './helper.js'

const bin = path.join(packageRoot, 'src', 'bin.ts')

type Env = Record<string, string>

/** Ways to run `gudang` in a test file, in a working directory of its own. */
export function cliRunner(t: Test) {
  // The working directory of every run: no .env file, nothing of the repository's.
  const workdir = t.testdir()

  /** Starts `gudang <args>` the way a user would, with only the given environment. */
  function gudang(args: string[], env: Record<string, string> = {}): ChildProcess & { output: () => string } {
    const child = spawn(process.execPath, [...process.execArgv, bin, ...args], {
      cwd: workdir,
      env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...env },
    })
    let output = ''
    child.stdout.on('data', (chunk) => {
      output += chunk
    })
    child.stderr.on('data', (chunk) => {
      output += chunk
    })
    return Object.assign(child, { output: () => output })
  }

  async function runProcess(args: string[], env: Record<string, string> = {}) {
    const child = gudang(args, env)
    const [code] = await once(child, 'exit')
    return { code, output: child.output() }
  }

  /** A database of the test's own: a PGlite folder, or a fresh PostgreSQL database. */
  async function databaseEnv(t: Test): Promise<Record<string, string>> {
    const { values } = await testDatabase(t)
    if (values.DATABASE_URL) return { DATABASE_URL: values.DATABASE_URL }
    const dataDir = await mkdtemp(path.join(workdir, 'db-'))
    return { GUDANG_DATA_DIR: path.relative(workdir, dataDir) }
  }

  /** Runs a command line in this process, with what it prints. */
  async function runHere(t: Test, argv: string[]) {
    const logs = t.capture(console, 'log')
    const errors = t.capture(console, 'error')
    const code = await run(argv)
    const output = [...logs(), ...errors()].map((call) => call.args.join(' ')).join('\n')
    return { code, output }
  }

  /**
   * Works on a database of `databaseEnv` with the app in this process, and closes it: the
   * embedded database serves one process at a time, so do this between runs of `gudang`.
   */
  async function withApp<T>(env: Env, work: (app: App) => Promise<T>, values: Env = {}) {
    const { GUDANG_DATA_DIR: dataDir } = env
    const folder = dataDir === undefined ? {} : { GUDANG_DATA_DIR: path.join(workdir, dataDir) }
    const app = buildApp(testConfig({ ...env, ...folder, ...values }), { logger: false })
    try {
      await app.ready()
      return await work(app)
    } finally {
      await app.close()
    }
  }

  return { workdir, gudang, runProcess, databaseEnv, runHere, withApp }
}
