/**
 * The media library under load (`npm run bench` builds first: it starts dist/src/bin.js). It makes
 * one ~50 MP JPEG (test/media-fixture.ts), creates a PostgreSQL database, starts the built server
 * on it with a temporary uploads folder and a free port, and measures: one upload of the photo;
 * 20 different copies of it uploaded at once, each on its own connection, streamed from disk;
 * then 640-wide renditions, first made and then read back from storage, and `format=auto`
 * for a browser that takes AVIF and WebP. Throughout, the server's resident memory is sampled
 * every 50 ms from /proc (Linux). It prints figures; it asserts nothing.
 *
 *   npx tsx bench/media.ts
 *   DATABASE_URL=postgresql://user@host/gudang_bench_media GUDANG_MEDIA_CONCURRENCY=4 npx tsx bench/media.ts
 *
 * The database named by DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/gudang_bench_media)
 * is created for the run and dropped at its end; an existing one is dropped first only if its name
 * contains "bench". GUDANG_MEDIA_* variables are passed on to the server.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createReadStream } from 'node:fs'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { type IncomingMessage, request } from 'node:http'
import { type AddressInfo, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { text } from 'node:stream/consumers'
import { pipeline } from 'node:stream/promises'
import pg from 'pg'
import { packageRoot } from '../src/package.js'
import type { MediaItem } from '../src/schemas/media.js'
import { largePhoto } from '../test/media-fixture.js'

const MEGAPIXELS = 50
const CONCURRENT = 20
/** Rendition requests of each kind: one per uploaded copy. */
const RENDITIONS = CONCURRENT
const SAMPLE_MS = 50

const databaseUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/gudang_bench_media'
const admin = { email: 'bench@example.com', password: 'a benchmark passphrase' }

// The database (as in bench/delivery.ts) -------------------------------------------------------

const databaseName = decodeURIComponent(new URL(databaseUrl).pathname.slice(1))
const quotedName = `"${databaseName.replaceAll('"', '""')}"`

/** A client of the maintenance database of the same server. */
async function maintenance<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const url = new URL(databaseUrl)
  url.pathname = '/postgres'
  const client = new pg.Client({ connectionString: url.toString() })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

async function createDatabase(): Promise<void> {
  await maintenance(async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [databaseName])
    if (rowCount !== 0) {
      if (!databaseName.includes('bench')) {
        throw new Error(`The database ${databaseName} exists: the bench drops its database, name one with "bench" in it`)
      }
      await client.query(`DROP DATABASE ${quotedName} WITH (FORCE)`)
    }
    await client.query(`CREATE DATABASE ${quotedName}`)
  })
}

async function dropDatabase(): Promise<void> {
  await maintenance((client) => client.query(`DROP DATABASE IF EXISTS ${quotedName} WITH (FORCE)`))
}

// The server process ------------------------------------------------------------------------

/** A port nobody listens on now; the server takes it a moment later. */
async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const { port } = probe.address() as AddressInfo
  probe.close()
  return port
}

/** Starts the built server and waits until it is ready (or stops). */
async function launch(env: Record<string, string>, ready: () => Promise<boolean>): Promise<ChildProcess> {
  const bin = path.join(packageRoot, 'dist', 'src', 'bin.js')
  const child = spawn(process.execPath, [bin, 'start'], { env: { PATH: String(process.env.PATH), ...env }, cwd: packageRoot })
  let output = ''
  child.stdout?.on('data', (chunk) => (output += chunk))
  child.stderr?.on('data', (chunk) => (output += chunk))
  let exited = false
  child.once('exit', () => (exited = true))
  for (;;) {
    if (exited) throw new Error(`the server stopped:\n${output}`)
    if (await ready().catch(() => false)) return child
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  await once(child, 'exit')
}

/** Resident memory now and at its highest (VmHWM) of a process, in MiB, from /proc (Linux). */
async function memoryOf(pid: number): Promise<{ rss: number, hwm: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kib = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1])
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 }
}

/** Samples a process's resident memory every SAMPLE_MS; the returned function stops and answers the peak (MiB). */
function watchMemory(pid: number): () => Promise<number> {
  let peak = 0
  const sample = () => memoryOf(pid).then((m) => (peak = Math.max(peak, m.rss)), () => peak)
  const timer = setInterval(sample, SAMPLE_MS)
  void sample()
  return async () => {
    clearInterval(timer)
    return Math.max(peak, await sample())
  }
}

// Uploads -------------------------------------------------------------------------------------

/**
 * POSTs a file as multipart/form-data, streamed from disk with `extra` bytes appended to it
 * (after a JPEG's end-of-image marker they change the hash, not the picture). Not fetch and
 * FormData: Node 20's fetch (undici 6) reads a request body, even an `openAsBlob` file, into
 * memory ahead of the socket.
 */
async function postFile(url: string, authorization: string, file: string, extra: string, name: string) {
  const boundary = `gudang-bench-${randomBytes(12).toString('hex')}`
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n`
    + 'Content-Type: image/jpeg\r\n\r\n')
  const tail = Buffer.from(`${extra}\r\n--${boundary}--\r\n`)
  const { size } = await stat(file)
  const req = request(url, {
    method: 'POST',
    headers: {
      'authorization': authorization,
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': head.length + size + tail.length,
    },
  })
  const answered = once(req, 'response') as Promise<[IncomingMessage]>
  const sent = pipeline(async function* () {
    yield head
    yield* createReadStream(file)
    yield tail
  }, req)
  // A server that refuses early (413) answers and stops reading: its answer, not a broken pipe, says why.
  sent.catch(() => {})
  const [res] = await answered
  return { status: res.statusCode ?? 0, body: await text(res), bytes: head.length + size + tail.length }
}

// Figures -------------------------------------------------------------------------------------

const MB = 1e6

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN
}

const ms = (value: number) => `${value.toFixed(0)} ms`
const mib = (value: number) => `${value.toFixed(0)} MiB`

// The run -----------------------------------------------------------------------------------

let server: ChildProcess | undefined
let databaseCreated = false
const workDir = await mkdtemp(path.join(tmpdir(), 'gudang-bench-media-'))
const uploadsDir = path.join(workDir, 'uploads')

try {
  const photo = await largePhoto(path.join(workDir, 'photo.jpg'), MEGAPIXELS)
  console.log(`media bench: a ${photo.width} × ${photo.height} JPEG of ${(photo.bytes / MB).toFixed(1)} MB, `
    + `made in ${(photo.ms / 1000).toFixed(1)} s`)

  await createDatabase()
  databaseCreated = true
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const passedOn = Object.entries(process.env).filter(([name]) => name.startsWith('GUDANG_MEDIA_'))
  const began = performance.now()
  server = await launch({
    ...Object.fromEntries(passedOn) as Record<string, string>,
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    GUDANG_UPLOADS_DIR: uploadsDir,
    GUDANG_ADMIN_EMAIL: admin.email,
    GUDANG_ADMIN_PASSWORD: admin.password,
  }, async () => (await fetch(`${base}/health/ready`)).ok)
  const pid = Number(server.pid)
  const settings = passedOn.length === 0 ? 'default media settings' : passedOn.map(([k, v]) => `${k}=${v}`).join(' ')
  console.log(`server ready on PostgreSQL (${databaseName}) after ${ms(performance.now() - began)}; ${settings}`)

  const login = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(admin),
  })
  if (!login.ok) throw new Error(`POST /auth/login answered ${login.status}: ${await login.text()}`)
  const { data: session } = await login.json() as { data: { accessToken: string } }
  const authorization = `Bearer ${session.accessToken}`

  async function upload(n: number): Promise<{ media: MediaItem, ms: number, bytes: number }> {
    const name = `photo-${n}.jpg`
    const start = performance.now()
    const res = await postFile(`${base}/api/admin/media`, authorization, photo.file, `\ngudang bench copy ${n}\n`, name)
    if (res.status !== 201) throw new Error(`POST /api/admin/media (${name}) answered ${res.status}: ${res.body}`)
    const { data } = JSON.parse(res.body) as { data: MediaItem[] }
    const [media] = data
    if (data.length !== 1 || media === undefined) throw new Error(`POST /api/admin/media answered ${data.length} items`)
    return { media, ms: performance.now() - start, bytes: res.bytes }
  }

  const idle = await memoryOf(pid)
  console.log(`server memory before uploading: ${mib(idle.rss)} resident`)

  // (a) One upload.
  let watching = watchMemory(pid)
  const single = await upload(0)
  const singlePeak = await watching()
  console.log(`one upload: ${ms(single.ms)} (${single.media.width} × ${single.media.height}, ${single.media.mime}, `
    + `placeholder ${single.media.placeholder === null ? 'none' : 'made'}), server rss ≤ ${mib(singlePeak)}`)

  // (b) Twenty different photos at once, each on its own connection.
  watching = watchMemory(pid)
  const wall = performance.now()
  const uploaded = await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => upload(i + 1)))
  const seconds = (performance.now() - wall) / 1000
  const bytes = uploaded.reduce((sum, u) => sum + u.bytes, 0)
  const concurrentPeak = await watching()
  const ids = new Set(uploaded.map((u) => u.media.id))
  const hashes = new Set(uploaded.map((u) => u.media.hash))
  const latencies = uploaded.map((u) => u.ms)
  console.log(`${CONCURRENT} uploads at once: ${(bytes / MB).toFixed(0)} MB in ${seconds.toFixed(1)} s, `
    + `${(bytes / MB / seconds).toFixed(1)} MB/s, ${(CONCURRENT / seconds).toFixed(2)} files/s; `
    + `per request p50 ${ms(median(latencies))}, slowest ${ms(Math.max(...latencies))}; `
    + `${ids.size} items, ${hashes.size} hashes; server rss ≤ ${mib(concurrentPeak)} (sampled every ${SAMPLE_MS} ms)`)

  // (c) Renditions: made on the first request, read from storage on the next.
  async function rendition(id: string, query: string, headers: Record<string, string> = {}) {
    const start = performance.now()
    const res = await fetch(`${base}/assets/${id}?${query}`, { headers })
    const body = await res.arrayBuffer()
    if (res.status !== 200) throw new Error(`GET /assets/${id}?${query} answered ${res.status}`)
    return { ms: performance.now() - start, type: res.headers.get('content-type'), bytes: body.byteLength }
  }
  const renditionIds = uploaded.slice(0, RENDITIONS).map((u) => u.media.id)
  const kinds: [string, string, Record<string, string>][] = [
    ['w=640', 'w=640', {}],
    ['w=640&format=auto, Accept: image/avif,image/webp', 'w=640&format=auto', { accept: 'image/avif,image/webp' }],
  ]
  watching = watchMemory(pid)
  for (const [label, query, headers] of kinds) {
    for (const round of ['made', 'from storage']) {
      const answers = []
      for (const id of renditionIds) answers.push(await rendition(id, query, headers))
      const sizes = answers.map((a) => a.bytes)
      console.log(`GET /assets/:id?${label}, ${round}: p50 ${ms(median(answers.map((a) => a.ms)))} over ${answers.length}, `
        + `slowest ${ms(Math.max(...answers.map((a) => a.ms)))}; ${answers[0]?.type}, p50 ${(median(sizes) / 1000).toFixed(0)} kB`)
    }
  }
  const renditionPeak = await watching()
  const end = await memoryOf(pid)
  console.log(`server memory: rss ≤ ${mib(renditionPeak)} during the renditions, ${mib(end.rss)} after; `
    + `VmHWM ${mib(end.hwm)} (start-up included)`)
} finally {
  await stop(server)
  if (databaseCreated) await dropDatabase()
  await rm(workDir, { recursive: true, force: true })
}
