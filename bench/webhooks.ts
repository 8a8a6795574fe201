/**
 * Webhooks under load, in process (the app built as the tests build it, requests by inject):
 * what the outbox adds to a publish (ten webhooks wanting every event, against none), then how
 * fast one instance's worker sends the resulting calls to a receiver on 127.0.0.1, and how long
 * an event waits between its commit and its arrival when the worker has nothing else to do. It prints figures; it asserts nothing.
 *
 *   npx tsx bench/webhooks.ts                                   on an in-memory PGlite
 *   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/gudang_bench_webhooks npx tsx bench/webhooks.ts
 *
 * A DATABASE_URL must name an empty database made for the run (migrations are applied to it).
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'

const PUBLISHES = 200
const WEBHOOKS = 10
const admin = { email: 'bench@example.com', password: 'a benchmark passphrase' }

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number
}

const ms = (value: number) => `${value.toFixed(1)} ms`

// A receiver that notes when each call arrived, against the event's time.
const lags: number[] = []
const receiver = createServer((request, response) => {
  const chunks: Buffer[] = []
  request.on('data', (chunk: Buffer) => chunks.push(chunk))
  request.on('end', () => {
    const { createdAt } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { createdAt: string }
    lags.push(Date.now() - Date.parse(createdAt))
    response.writeHead(204).end()
  })
})
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
const { port } = receiver.address() as AddressInfo

const config = loadConfig({
  values: {
    LOG_LEVEL: 'warn',
    ...(process.env.DATABASE_URL === undefined
      ? { GUDANG_DATA_DIR: 'memory://' }
      : { DATABASE_URL: process.env.DATABASE_URL }),
    GUDANG_ADMIN_EMAIL: admin.email,
    GUDANG_ADMIN_PASSWORD: admin.password,
    GUDANG_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1',
    // The worker starts once the publishes are made.
    GUDANG_WEBHOOK_INTERVAL: 0,
    GUDANG_SCHEDULER_INTERVAL: 0,
  },
  fromEnvironment: false,
})
const app = buildApp(config, { logger: false })
await app.ready()
const login = await app.inject({ method: 'POST', url: '/auth/login', payload: admin })
const headers = { authorization: `Bearer ${login.json().data.accessToken as string}` }
await app.inject({
  method: 'POST',
  url: '/api/admin/content-types',
  headers,
  payload: {
    apiId: 'article',
    kind: 'collection',
    singularName: 'Article',
    pluralName: 'Articles',
    fields: [{ name: 'title', type: 'string' }],
  },
})

/** Creates and publishes `count` entries; answers each publish request's time. */
async function publishes(count: number): Promise<number[]> {
  const times: number[] = []
  for (let i = 0; i < count; i++) {
    const url = '/api/admin/content-types/article/entries'
    const entry = await app.inject({ method: 'POST', url, headers, payload: { data: { title: `Entry ${i}` } } })
    const began = performance.now()
    const res = await app.inject({ method: 'POST', url: `${url}/${entry.json().data.documentId as string}/publish`, headers })
    times.push(performance.now() - began)
    if (res.statusCode !== 200) throw new Error(`publish answered ${res.statusCode}: ${res.body}`)
  }
  return times
}

const without = await publishes(PUBLISHES)
for (let i = 0; i < WEBHOOKS; i++) {
  await app.inject({
    method: 'POST',
    url: '/api/admin/webhooks',
    headers,
    payload: {
      name: `Receiver ${i}`,
      url: `http://127.0.0.1:${port}/hook/${i}`,
      events: ['entry.create', 'entry.publish'],
    },
  })
}
const withHooks = await publishes(PUBLISHES)
console.log(`database: ${config.DATABASE_URL === undefined ? 'in-memory PGlite' : 'PostgreSQL'}`)
const figures = (times: number[]) => `p50 ${ms(percentile(times, 0.5))}, p95 ${ms(percentile(times, 0.95))}`
console.log(`publish, no webhook:           ${figures(without)}`)
console.log(`publish, ${WEBHOOKS} webhooks wanting it: ${figures(withHooks)}`)

const calls = PUBLISHES * WEBHOOKS * 2
const began = performance.now()
app.webhooks.start(50)
while (lags.length < calls) await sleep(20)
const seconds = (performance.now() - began) / 1000
console.log(`${calls} calls sent by one instance (GUDANG_WEBHOOK_CONCURRENCY ${config.GUDANG_WEBHOOK_CONCURRENCY}): `
  + `${seconds.toFixed(1)} s, ${(calls / seconds).toFixed(0)} calls/s`)

// A quiet worker's lag: one webhook left, one publish at a time, its two calls waited for.
const hooks = await app.inject({ url: '/api/admin/webhooks?pageSize=100', headers })
for (const { id } of (hooks.json().data as { id: string }[]).slice(1)) {
  await app.inject({ method: 'PATCH', url: `/api/admin/webhooks/${id}`, headers, payload: { enabled: false } })
}
lags.length = 0
for (let i = 0; i < 20; i++) {
  await publishes(1)
  while (lags.length < 2 * (i + 1)) await sleep(5)
}
const lag = `p50 ${ms(percentile(lags, 0.5))}, max ${ms(Math.max(...lags))}`
console.log(`from commit to arrival, worker idle (GUDANG_WEBHOOK_INTERVAL 50): ${lag}`)

await app.webhooks.stop()
await app.close()
receiver.close()
