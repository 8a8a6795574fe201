/**
 * The delivery API under load (`npm run bench` runs it after bench/server.ts; build first).
 * It creates a PostgreSQL database, starts the built server on it, makes a content model
 * through the admin API (authors, categories, articles with a relation to each, a media field
 * and a component), seeds 10 000 published articles with SQL, and measures with autocannon:
 * one entry by id, a filtered, sorted and populated list of 25, a cursor page deep into the
 * list, a 304 revalidation and a sync delta. Absolute figures on a shared machine are noisy,
 * so each is also given as a ratio to a floor measured in the same run: a bare Fastify route
 * answering one entry by id with one Prisma query on the same database (bench/floor.ts).
 * It prints figures and whether the targets are met; it asserts nothing.
 *
 *   npx tsx bench/delivery.ts
 *   DATABASE_URL=postgresql://user@host/gudang_bench npx tsx bench/delivery.ts
 *
 * The database named by DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/gudang_bench)
 * is created for the run and dropped at its end (GUDANG_BENCH_KEEP_DATABASE=1 keeps it, to
 * EXPLAIN queries). An existing one is dropped first only if its name contains "bench".
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import autocannon from 'autocannon'
import pg from 'pg'
import { packageRoot } from '../src/package.js'

const PORT = 3999
const FLOOR_PORT = 3998
/** A second server on the same database that keeps no answers (GUDANG_RESPONSE_CACHE_SIZE=0): what each request costs. */
const UNCACHED_PORT = 3997
const CONNECTIONS = 50
const DURATION = 5
const WARMUP = 1
const AUTHORS = 500
const CATEGORIES = 10
const ARTICLES = 10_000
const PAGE_SIZE = 25
/** The cursor pages measured: deep into the list (page 200 of 25 is past entry 5 000). */
const DEEP_PAGES = { from: 200, to: 260 }

const databaseUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/gudang_bench'
const keepDatabase = process.env.GUDANG_BENCH_KEEP_DATABASE === '1'
const admin = { email: 'bench@example.com', password: 'a benchmark passphrase' }
const base = `http://127.0.0.1:${PORT}`

// The database ----------------------------------------------------------------------------

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

// Processes ---------------------------------------------------------------------------------

/** Starts a process and waits until `ready` answers true (or the process stops). */
async function launch(args: string[], env: Record<string, string>, ready: () => Promise<boolean>) {
  const child = spawn(process.execPath, args, { env: { PATH: String(process.env.PATH), ...env }, cwd: packageRoot })
  let output = ''
  child.stdout?.on('data', (chunk) => (output += chunk))
  child.stderr?.on('data', (chunk) => (output += chunk))
  let exited = false
  child.once('exit', () => (exited = true))
  for (;;) {
    if (exited) throw new Error(`${args.join(' ')} stopped:\n${output}`)
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

// The admin API -------------------------------------------------------------------------------

let authorization = ''

async function call<T = unknown>(method: string, url: string, body?: object): Promise<T> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await res.text()
  if (res.status >= 300) throw new Error(`${method} ${url} answered ${res.status}: ${text}`)
  return (text === '' ? undefined : (JSON.parse(text) as { data: T }).data) as T
}

/** The content model: authors, categories and articles (relations to both, a media field, an SEO component). */
async function createModel(): Promise<void> {
  await call('POST', '/api/admin/components', {
    uid: 'shared.seo', displayName: 'SEO', fields: [{ name: 'metaTitle', type: 'string' }],
  })
  await call('POST', '/api/admin/content-types', {
    apiId: 'author', kind: 'collection', singularName: 'Author', pluralName: 'Authors', draftAndPublish: false,
    fields: [{ name: 'name', type: 'string', required: true }],
  })
  await call('POST', '/api/admin/content-types', {
    apiId: 'category', kind: 'collection', singularName: 'Category', pluralName: 'Categories', draftAndPublish: false,
    fields: [{ name: 'slug', type: 'uid', required: true }, { name: 'name', type: 'string' }],
  })
  await call('POST', '/api/admin/content-types', {
    apiId: 'article', kind: 'collection', singularName: 'Article', pluralName: 'Articles', localized: true,
    fields: [
      { name: 'title', type: 'string', required: true },
      { name: 'body', type: 'text' },
      { name: 'views', type: 'integer' },
      { name: 'author', type: 'relation', relation: 'toOne', target: 'author', localized: false },
      { name: 'category', type: 'relation', relation: 'toOne', target: 'category', localized: false },
      { name: 'cover', type: 'media' },
      { name: 'seo', type: 'component', component: 'shared.seo' },
    ],
  })
  const roles = await call<{ id: string, key: string | null }[]>('GET', '/api/admin/roles')
  const publicRole = roles.find((role) => role.key === 'public')
  if (publicRole === undefined) throw new Error('no public role')
  await call('PATCH', `/api/admin/roles/${publicRole.id}`, {
    permissions: ['author', 'category', 'article'].map((apiId) => ({ subject: `content:${apiId}`, action: 'read' })),
  })
}

/** Authors, categories and articles, published, straight into the entries table (the trigger logs them for sync). */
async function seed(db: pg.Client, adminId: string): Promise<void> {
  const insert = `INSERT INTO entries (id, document_id, content_type_id, locale, draft, published, version,
      published_version, published_at, created_by_id, updated_by_id, created_at, updated_at)
    SELECT gen_random_uuid(), gen_random_uuid(), t.id, 'en', d.data, d.data, 1, 1, d.at + interval '1 hour', $1, $1, d.at,
      d.at + interval '1 hour'
    FROM content_types t, LATERAL (`
  await db.query(`${insert}
      SELECT jsonb_build_object('name', 'Author ' || i) AS data, now() - interval '2 years' + i * interval '1 minute' AS at
      FROM generate_series(1, ${AUTHORS}) i) d
    WHERE t.api_id = 'author'`, [adminId])
  await db.query(`${insert}
      SELECT jsonb_build_object('slug', 'category-' || i, 'name', 'Category ' || i) AS data,
        now() - interval '2 years' + i * interval '1 minute' AS at
      FROM generate_series(1, ${CATEGORIES}) i) d
    WHERE t.api_id = 'category'`, [adminId])
  await db.query(`${insert}
      SELECT jsonb_build_object(
          'title', 'Article ' || i || ': ' || md5(i::text),
          'body', repeat('Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. ', 6) || i,
          'views', (i::bigint * 2654435761 % 100000)::int,
          'author', a.ids[1 + (i * 37) % cardinality(a.ids)],
          'category', c.ids[1 + i % cardinality(c.ids)],
          'cover', gen_random_uuid(),
          'seo', jsonb_build_object('metaTitle', 'Article ' || i || ' | Bench')) AS data,
        now() - (${ARTICLES} - i) * interval '47 minutes' AS at
      FROM generate_series(1, ${ARTICLES}) i,
        (SELECT array_agg(e.document_id ORDER BY e.created_at) AS ids FROM entries e JOIN content_types ct
          ON ct.id = e.content_type_id WHERE ct.api_id = 'author') a,
        (SELECT array_agg(e.document_id ORDER BY e.created_at) AS ids FROM entries e JOIN content_types ct
          ON ct.id = e.content_type_id WHERE ct.api_id = 'category') c) d
    WHERE t.api_id = 'article'`, [adminId])
  await db.query('ANALYZE')
}

// Measuring ---------------------------------------------------------------------------------

interface Scenario {
  name: string
  /** The requests, taken in turn (each request sent takes the next one). */
  requests: { path: string, headers?: Record<string, string> }[]
  port?: number
}

interface Measured {
  name: string
  rps: number
  p50: number
  p99: number
  statuses: string
  unexpected: number
  answered: boolean
}

function cannon(scenario: Scenario, duration: number): Promise<autocannon.Result> {
  let turn = 0
  const { requests } = scenario
  return autocannon({
    url: `http://127.0.0.1:${scenario.port ?? PORT}`,
    connections: CONNECTIONS,
    duration,
    requests: [{
      setupRequest: (request) => {
        const next = requests[turn++ % requests.length] as Scenario['requests'][number]
        return { ...request, path: next.path, headers: { ...request.headers, ...next.headers } }
      },
    }],
  })
}

async function measure(scenario: Scenario, expected: number): Promise<Measured> {
  await cannon(scenario, WARMUP)
  const result = await cannon(scenario, DURATION)
  const counts = Object.entries(result.statusCodeStats ?? {}).map(([code, { count = 0 }]) => [code, count] as const)
  const unexpected = counts.filter(([code]) => Number(code) !== expected).reduce((sum, [, count]) => sum + count, 0)
  return {
    name: scenario.name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    // A 304 with a Content-Length other than 0 leaves autocannon's parser waiting for a body.
    statuses: counts.length === 0 ? 'no answer completed' : counts.map(([code, count]) => `${code}×${count}`).join(' '),
    unexpected: unexpected + result.errors + result.timeouts,
    answered: counts.length > 0,
  }
}

function query(params: Record<string, string | number>): string {
  return new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString()
}

function shuffled<T>(items: T[]): T[] {
  const copy = [...items]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[copy[i], copy[j]] = [copy[j] as T, copy[i] as T]
  }
  return copy
}

const LIST = 'list of 25: filter by category.slug, sort views:desc, populate author'
const REVALIDATION = '304 revalidation of the lists (If-None-Match)'

// The run -----------------------------------------------------------------------------------

let server: ChildProcess | undefined
let floor: ChildProcess | undefined
let uncached: ChildProcess | undefined
const db = new pg.Client({ connectionString: databaseUrl })
let connected = false

try {
  await createDatabase()
  const bin = path.join(packageRoot, 'dist', 'src', 'bin.js')
  const began = performance.now()
  server = await launch([bin, 'start'], {
    DATABASE_URL: databaseUrl,
    PORT: String(PORT),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    GUDANG_ADMIN_EMAIL: admin.email,
    GUDANG_ADMIN_PASSWORD: admin.password,
  }, async () => (await fetch(`${base}/health/ready`)).ok)
  console.log(`delivery bench on PostgreSQL (${databaseName}): server ready after ${(performance.now() - began).toFixed(0)} ms`)
  const serverPid = Number(server.pid)

  const login = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(admin),
  })
  if (!login.ok) throw new Error(`POST /auth/login answered ${login.status}: ${await login.text()}`)
  const { data: session } = await login.json() as { data: { accessToken: string, user: { id: string } } }
  authorization = `Bearer ${session.accessToken}`
  await createModel()

  await db.connect()
  connected = true
  const seeding = performance.now()
  await seed(db, session.user.id)
  console.log(`seeded ${AUTHORS} authors, ${CATEGORIES} categories, ${ARTICLES} articles in ${((performance.now() - seeding) / 1000).toFixed(1)} s`)

  floor = await launch(['--import', 'tsx', path.join(packageRoot, 'bench', 'floor.ts')], {
    DATABASE_URL: databaseUrl,
    PORT: String(FLOOR_PORT),
  }, async () => (await fetch(`http://127.0.0.1:${FLOOR_PORT}/floor/00000000-0000-0000-0000-000000000000`)).status === 404)

  uncached = await launch([bin, 'start'], {
    DATABASE_URL: databaseUrl,
    PORT: String(UNCACHED_PORT),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    GUDANG_MIGRATE_ON_START: 'false',
    GUDANG_RESPONSE_CACHE_SIZE: '0',
  }, async () => (await fetch(`http://127.0.0.1:${UNCACHED_PORT}/health/ready`)).ok)

  // The sync feed's first walk, to its token.
  const walking = performance.now()
  let syncToken: string | undefined
  let syncPages = 0
  let synced = 0
  for (let next = '/api/sync'; syncToken === undefined;) {
    const res = await fetch(`${base}${next}`)
    const page = await res.json() as { data: unknown[], meta: { nextPageToken?: string, syncToken?: string } }
    if (!res.ok) throw new Error(`GET ${next} answered ${res.status}: ${JSON.stringify(page)}`)
    syncPages++
    synced += page.data.length
    syncToken = page.meta.syncToken
    next = `/api/sync?token=${page.meta.nextPageToken}`
  }
  console.log(`sync, first walk: ${synced} entries in ${syncPages} pages, ${((performance.now() - walking) / 1000).toFixed(1)} s`)
  // The walk gave the seeded changes their places: statistics as autovacuum would soon have them.
  await db.query('ANALYZE content_changes')

  // Ten changes for the delta: eight articles saved and republished, two unpublished.
  const { rows: changing } = await db.query<{ documentId: string }>(`SELECT e.document_id AS "documentId" FROM entries e
    JOIN content_types t ON t.id = e.content_type_id WHERE t.api_id = 'article' ORDER BY random() LIMIT 10`)
  for (const [i, { documentId }] of changing.entries()) {
    const entry = `/api/admin/content-types/article/entries/${documentId}`
    if (i < 8) {
      await call('PUT', entry, { data: { title: `Changed ${i}`, views: 100_000 + i } })
      await call('POST', `${entry}/publish`)
    } else {
      await call('POST', `${entry}/unpublish`)
    }
  }

  // What the scenarios ask for, spread over many rows.
  const { rows: sample } = await db.query<{ id: string, documentId: string }>(`SELECT e.id, e.document_id AS "documentId"
    FROM entries e JOIN content_types t ON t.id = e.content_type_id
    WHERE t.api_id = 'article' AND e.published IS NOT NULL ORDER BY random() LIMIT 2000`)
  const lists = Array.from({ length: CATEGORIES }, (_, i) => `/api/content/article?${query({
    'filters[category][slug][$eq]': `category-${i + 1}`, 'sort': 'views:desc', 'populate': 'author', 'pageSize': PAGE_SIZE,
  })}`)
  const revalidations: Scenario['requests'] = []
  for (const list of lists) {
    const res = await fetch(`${base}${list}`)
    const body = await res.json() as { data: unknown[] }
    const etag = res.headers.get('etag')
    if (!res.ok || etag === null || body.data.length !== PAGE_SIZE) throw new Error(`GET ${list} answered ${res.status}, ${body.data.length} entries`)
    revalidations.push({ path: list, headers: { 'if-none-match': etag } })
  }
  const cursors: string[] = []
  const walk = performance.now()
  let after: string | null = null
  for (let page = 1; page < DEEP_PAGES.to; page++) {
    const url: string = `/api/content/article?${query({ pageSize: PAGE_SIZE, ...(after === null ? {} : { after }) })}`
    const res = await fetch(`${base}${url}`)
    const body = await res.json() as { meta: { nextCursor: string | null } }
    if (!res.ok || body.meta.nextCursor === null) throw new Error(`GET ${url} answered ${res.status}: ${JSON.stringify(body)}`)
    after = body.meta.nextCursor
    if (page + 1 >= DEEP_PAGES.from) cursors.push(after)
  }
  const walked = (performance.now() - walk) / (DEEP_PAGES.to - 1)
  console.log(`cursor walk to page ${DEEP_PAGES.to - 1}: ${walked.toFixed(1)} ms a page, one at a time`)
  const delta = await fetch(`${base}/api/sync?token=${syncToken}`)
  const deltaBody = await delta.json() as { data: { action: string }[] }
  const actions = deltaBody.data.map((item) => item.action)
  console.log(`sync delta: ${actions.filter((a) => a === 'upsert').length} upserts, ${actions.filter((a) => a === 'delete').length} deletes`)

  const deep = `cursor page ${DEEP_PAGES.from}–${DEEP_PAGES.to - 1} of 25 (createdAt:desc)`
  const scenarios: [Scenario, number][] = [
    [{
      name: 'floor: one row by id, bare Fastify + Prisma',
      port: FLOOR_PORT,
      requests: shuffled(sample).map((s) => ({ path: `/floor/${s.id}` })),
    }, 200],
    [{ name: 'one entry by id', requests: shuffled(sample).map((s) => ({ path: `/api/content/article/${s.documentId}` })) }, 200],
    [{ name: LIST, requests: lists.map((list) => ({ path: list })) }, 200],
    [{ name: deep, requests: cursors.map((c) => ({ path: `/api/content/article?${query({ after: c, pageSize: PAGE_SIZE })}` })) }, 200],
    [{ name: REVALIDATION, requests: revalidations }, 304],
    [{ name: `sync delta (${actions.length} changes)`, requests: [{ path: `/api/sync?token=${syncToken}` }] }, 200],
  ]
  // The same, each answer made anew.
  for (const [scenario, expected] of scenarios.slice(1, 4)) {
    scenarios.push([{ ...scenario, name: `${scenario.name}, no response cache`, port: UNCACHED_PORT }, expected])
  }
  const pids: Record<number, number> = {
    [PORT]: serverPid,
    [FLOOR_PORT]: Number(floor.pid),
    [UNCACHED_PORT]: Number(uncached.pid),
  }

  // Resident memory sampled during each run: the server's (the floor's in its own run).
  const idle = await memoryOf(serverPid)
  let watched = serverPid
  let peak = 0
  const sampler = setInterval(() => {
    memoryOf(watched).then((m) => (peak = Math.max(peak, m.rss)), () => {})
  }, 200)
  const results: (Measured & { memory: number, port: number })[] = []
  try {
    for (const [scenario, expected] of scenarios) {
      watched = pids[scenario.port ?? PORT] as number
      peak = (await memoryOf(watched)).rss
      const result = await measure(scenario, expected)
      results.push({ ...result, port: scenario.port ?? PORT, memory: Math.max(peak, (await memoryOf(watched)).rss) })
      console.log(`  measured ${result.name}`)
    }
  } finally {
    clearInterval(sampler)
  }
  const afterRuns = await memoryOf(serverPid)
  const floorMemory = await memoryOf(Number(floor.pid))

  const [floorResult, ...delivery] = results as [typeof results[number], ...typeof results]
  const targets: Record<string, number> = { 'one entry by id': 0.7, [REVALIDATION]: 1.0, [LIST]: 0.3, [deep]: 0.3 }
  for (const [name, target] of Object.entries(targets)) targets[`${name}, no response cache`] = target
  const pad = Math.max(...results.map((r) => r.name.length))
  console.log(`\n${CONNECTIONS} connections, ${DURATION} s each after ${WARMUP} s of warm-up; ratio: req/s to the floor's`)
  for (const r of [floorResult, ...delivery]) {
    const ratio = r.rps / floorResult.rps
    const target = targets[r.name]
    const verdicts = r === floorResult
      ? []
      : r.answered
        ? [
            ...(target === undefined ? [] : [`ratio ≥ ${target.toFixed(1)} ${ratio >= target ? 'met' : 'MISSED'}`]),
            `p99 < 50 ms ${r.p99 < 50 ? 'met' : 'MISSED'}`,
          ]
        : ['NOT MEASURED']
    console.log(`${r.name.padEnd(pad)}  ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${String(r.p50).padStart(3)} ms`
      + `  p99 ${String(r.p99).padStart(4)} ms  ${ratio.toFixed(2)}×  rss ≤ ${r.memory.toFixed(0)} MiB`
      + `  [${r.statuses}${r.unexpected > 0 ? `, ${r.unexpected} unexpected` : ''}]`
      + `${verdicts.length > 0 ? `  ${verdicts.join(', ')}` : ''}`)
  }
  const during = Math.max(...delivery.filter((r) => r.port !== UNCACHED_PORT).map((r) => r.memory))
  const highest = Math.max(during, afterRuns.rss)
  console.log(`server memory: ${idle.rss.toFixed(0)} MiB resident before the runs, ${during.toFixed(0)} MiB at most during them `
    + `(sampled every 200 ms), ${afterRuns.rss.toFixed(0)} MiB after; VmHWM ${afterRuns.hwm.toFixed(0)} MiB (start-up and `
    + `seeding included); under 250 MB ${highest * 1.048576 < 250 ? 'met' : 'MISSED'}`)
  console.log(`floor memory (tsx loader included): ${floorMemory.rss.toFixed(0)} MiB resident, VmHWM ${floorMemory.hwm.toFixed(0)} MiB`)
} finally {
  await stop(floor)
  await stop(uncached)
  await stop(server)
  if (connected) await db.end()
  if (!keepDatabase) await dropDatabase()
}
