/**
 * Benchmarks of the built server (`npm run bench` builds first): start-up time and memory on
 * the embedded database, cold (new folder, first migration) and warm; the throughput of the
 * health probes and of an authenticated request; how long a login takes when the password is
 * right, wrong, or the email unknown (these two must not be told apart). It prints figures;
 * it asserts nothing.
 *
 *   npm run bench                      on PGlite in a temporary folder
 *   DATABASE_URL=postgresql://… npm run bench   the HTTP part against an empty PostgreSQL database
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { packageRoot } from '../src/package.js'

const port = 3999
const bin = path.join(packageRoot, 'dist', 'src', 'bin.js')

interface Started {
  server: ChildProcess
  startMs: number
}

/** Starts the built server and waits for it to listen. */
async function start(env: Record<string, string>): Promise<Started> {
  const began = performance.now()
  const server = spawn(process.execPath, [bin, 'start'], {
    env: { PATH: String(process.env.PATH), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
  })
  let output = ''
  await new Promise<void>((resolve, reject) => {
    server.stdout?.on('data', (chunk) => {
      output += chunk
      if (output.includes('Server listening')) resolve()
    })
    server.once('exit', () => reject(new Error(`the server stopped:\n${output}`)))
  })
  return { server, startMs: performance.now() - began }
}

/** Resident memory of a process, from /proc (Linux). */
async function residentMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024
}

async function stop(server: ChildProcess): Promise<number> {
  const began = performance.now()
  server.kill('SIGTERM')
  await once(server, 'exit')
  return performance.now() - began
}

async function load(url: string, headers: Record<string, string> = {}) {
  const result = await autocannon({ url, headers, connections: 20, duration: 5 })
  return `${Math.round(result.requests.average)} req/s, latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ${result.non2xx} non-2xx`
}

const databaseUrl = process.env.DATABASE_URL
const dataDir = await mkdtemp(path.join(tmpdir(), 'gudang-bench-'))
const admin = { email: 'bench@example.com', password: 'a benchmark passphrase' }
const env: Record<string, string> = {
  ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { GUDANG_DATA_DIR: dataDir }),
  GUDANG_ADMIN_EMAIL: admin.email,
  GUDANG_ADMIN_PASSWORD: admin.password,
  GUDANG_LOGIN_MAX_ATTEMPTS: '1000000',
  GUDANG_LOGIN_MAX_ATTEMPTS_PER_IP: '1000000',
}

async function login(email: string, password: string) {
  const began = performance.now()
  const res = await fetch(`http://127.0.0.1:${port}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  })
  const body = await res.json() as { data?: { accessToken: string } }
  return { ms: performance.now() - began, status: res.status, accessToken: body.data?.accessToken }
}

/** Median and spread of sequential logins of one kind. */
async function loginTimes(email: string, password: string, times = 30) {
  const ms: number[] = []
  let status = 0
  for (let i = 0; i < times; i++) {
    const attempt = await login(email, password)
    ms.push(attempt.ms)
    status = attempt.status
  }
  ms.sort((a, b) => a - b)
  const at = (q: number) => ms[Math.floor(q * (ms.length - 1))]?.toFixed(1)
  return `${status}, median ${at(0.5)} ms (p10 ${at(0.1)}, p90 ${at(0.9)})`
}
try {
  if (!databaseUrl) {
    for (const run of ['cold', 'warm']) {
      const { server, startMs } = await start(env)
      const rss = await residentMiB(Number(server.pid))
      const stopMs = await stop(server)
      console.log(
        `start-up (${run}): listening after ${startMs.toFixed(0)} ms, resident ${rss.toFixed(0)} MiB, `
        + `SIGTERM to exit ${stopMs.toFixed(0)} ms`,
      )
    }
  }
  const { server } = await start(env)
  console.log(`GET /health/live:  ${await load(`http://127.0.0.1:${port}/health/live`)}`)
  console.log(`GET /health/ready: ${await load(`http://127.0.0.1:${port}/health/ready`)}`)
  console.log(`POST /auth/login, right password: ${await loginTimes(admin.email, admin.password)}`)
  console.log(`POST /auth/login, wrong password: ${await loginTimes(admin.email, 'not the passphrase')}`)
  console.log(`POST /auth/login, unknown email:  ${await loginTimes('nobody@example.com', admin.password)}`)
  const { accessToken } = await login(admin.email, admin.password)
  const authorization = `Bearer ${accessToken}`
  console.log(`GET /auth/me (session and role read per request): ${await load(`http://127.0.0.1:${port}/auth/me`, { authorization })}`)
  console.log(`resident after load: ${(await residentMiB(Number(server.pid))).toFixed(0)} MiB`)
  await stop(server)
} finally {
  await rm(dataDir, { recursive: true, force: true })
}
