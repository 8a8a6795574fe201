import { setTimeout as sleep } from 'node:timers/promises'
import { Webhook as Verifier } from 'standardwebhooks'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { build, buildWithAdmin, created, login, onPostgres, type SignedIn, testConfig } from '../helper.js'
import { type Call, poll, receiver } from '../webhook-receiver.js'

type App = Awaited<ReturnType<typeof buildWithAdmin>>

const TYPES = '/api/admin/content-types'
const ARTICLES = `${TYPES}/article/entries`
const HOOKS = '/api/admin/webhooks'

const article = {
  apiId: 'article',
  kind: 'collection',
  singularName: 'Article',
  pluralName: 'Articles',
  fields: [{ name: 'title', type: 'string', required: true }],
}

/** Receivers on 127.0.0.1 are allowed; retries come quickly. */
const FAST = { GUDANG_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1', GUDANG_WEBHOOK_RETRY_DELAY: 20, GUDANG_WEBHOOK_RETRY_MAX_DELAY: 50 }

async function setUp(t: Test, values: Record<string, unknown> = {}) {
  const app = await buildWithAdmin(t, { ...FAST, ...values })
  const admin = await login(app)
  await created(app, admin, TYPES, article)
  return { app, admin, ...client(app, admin) }
}

function client(app: App, admin: SignedIn) {
  async function call(method: 'GET' | 'POST', url: string, payload?: object) {
    const res = await app.inject({ method, url, headers: admin.headers, payload })
    if (res.statusCode >= 300) throw new Error(`${method} ${url} answered ${res.statusCode}: ${res.body}`)
    return res.json().data
  }
  /** A new draft, published: its document id. */
  async function publish(title: string): Promise<string> {
    const entry = await call('POST', ARTICLES, { data: { title } })
    await call('POST', `${ARTICLES}/${entry.documentId}/publish`)
    return entry.documentId
  }
  const hook = (payload: object) => call('POST', HOOKS, { name: 'Site build', events: ['entry.publish'], ...payload })
  return { call, publish, hook }
}

/** Whether the call carries a valid Standard Webhooks signature made with `secret`. */
function verified(secret: string, call: Call): unknown {
  return new Verifier(secret).verify(call.body, {
    'webhook-id': String(call.headers['webhook-id']),
    'webhook-timestamp': String(call.headers['webhook-timestamp']),
    'webhook-signature': String(call.headers['webhook-signature']),
  })
}

t.test('publishing an entry delivers one signed event whose signature verifies', async (t) => {
  const { app, call, publish, hook } = await setUp(t)
  const target = await receiver(t)
  const webhook = await hook({ url: target.url, headers: { authorization: 'Bearer receiver-token' } })
  t.match(webhook.secret, /^whsec_/, 'the secret is shown once, at creation')

  const documentId = await publish('Hello')
  t.equal(await app.webhooks.runDue(), 1, 'one call: the draft\'s creation is not an event the webhook wants')
  t.equal(target.calls.length, 1)
  const [received] = target.calls as [Call]
  t.match(received.json, {
    event: 'entry.publish',
    contentType: 'article',
    locale: 'en',
    events: 1,
    data: { documentId, locale: 'en', version: 2, data: { title: 'Hello' } },
  })
  t.same(verified(webhook.secret, received), received.json, 'the reference library verifies the signature')
  t.throws(() => verified(webhook.secret, { ...received, body: received.body.replace('Hello', 'Hullo') }), 'a changed body does not verify')
  const other = `whsec_${Buffer.alloc(32, 7).toString('base64')}`
  t.throws(() => verified(other, received), 'nor does another secret')
  t.match(received.headers, { 'authorization': 'Bearer receiver-token', 'content-type': 'application/json', 'user-agent': /^Gudang/ })

  const log = await call('GET', `${HOOKS}/${webhook.id}/deliveries`)
  t.equal(log.length, 1)
  t.match(log[0], { id: received.headers['webhook-id'], status: 'succeeded', attempts: 1, event: { event: 'entry.publish' } })
  const detail = await call('GET', `${HOOKS}/${webhook.id}/deliveries/${log[0].id}`)
  t.match(detail.log, [{ number: 1, statusCode: 204, error: null }])
  t.equal(await app.webhooks.runDue(), 0, 'nothing more to send')
})

t.test('a receiver that fails twice then succeeds gets the event on the third attempt; the log shows all three', async (t) => {
  const { call, publish, hook } = await setUp(t, { GUDANG_WEBHOOK_INTERVAL: 10 })
  const target = await receiver(t, (n) => (n <= 2 ? 500 : 200))
  const webhook = await hook({ url: target.url })
  await publish('Third time lucky')

  const [delivery] = await poll(async () => {
    const log = await call('GET', `${HOOKS}/${webhook.id}/deliveries`)
    return log[0]?.status === 'succeeded' ? log : undefined
  }, 'the delivery to succeed')
  t.equal(target.calls.length, 3)
  const ids = new Set(target.calls.map((c) => c.headers['webhook-id']))
  t.equal(ids.size, 1, 'one webhook-id for every attempt: receivers can deduplicate')
  for (const received of target.calls) t.ok(verified(webhook.secret, received), 'each attempt is signed afresh')
  const detail = await call('GET', `${HOOKS}/${webhook.id}/deliveries/${delivery.id}`)
  t.match(detail, { status: 'succeeded', attempts: 3 })
  const attempts = detail.log.map((a: { number: number, statusCode: number }) => [a.number, a.statusCode])
  t.same(attempts, [[1, 500], [2, 500], [3, 200]])
  t.match(detail.log[0], { response: 'answer 1', error: null })
})

t.test('a change whose transaction rolls back sends nothing', async (t) => {
  const { app, call, hook } = await setUp(t)
  const target = await receiver(t)
  await hook({ url: target.url })
  const good = await call('POST', ARTICLES, { data: { title: 'Good' } })
  const bad = await call('POST', ARTICLES, { data: {} })

  // The first publish is made, event and all, before the second fails and the whole bulk rolls back.
  const res = await app.inject({
    method: 'POST',
    url: `${ARTICLES}/bulk/publish`,
    headers: (await login(app)).headers,
    payload: { documentIds: [good.documentId, bad.documentId] },
  })
  t.equal(res.statusCode, 400)
  t.equal(await app.webhooks.runDue(), 0)
  t.equal(target.calls.length, 0, 'no call')
  t.equal(await app.prisma.webhookEvent.count(), 0, 'no event in the outbox')

  const fine = await app.inject({
    method: 'POST',
    url: `${ARTICLES}/bulk/publish`,
    headers: (await login(app)).headers,
    payload: { documentIds: [good.documentId] },
  })
  t.equal(fine.statusCode, 200)
  t.equal(await app.webhooks.runDue(), 1, 'the same publish, committed, is sent')
  t.equal(target.calls[0]?.json.data.documentId, good.documentId)
})

t.test('deliveries pending when the server stops are delivered after it starts again, none lost', async (t) => {
  // One database for both servers: a PGlite data folder, or the test's PostgreSQL database.
  const database = onPostgres ? {} : { GUDANG_DATA_DIR: t.testdir() }
  let down = true
  const target = await receiver(t, () => (down ? 503 : 204))
  // Retried until the receiver is back, however many attempts that takes.
  const patient = { ...FAST, GUDANG_WEBHOOK_INTERVAL: 10, GUDANG_WEBHOOK_MAX_ATTEMPTS: 1000 }
  const first = await buildWithAdmin(t, { ...patient, ...database })
  const admin = await login(first)
  await created(first, admin, TYPES, article)
  const { hook, publish } = client(first, admin)
  await hook({ url: target.url })
  const documents = [await publish('One'), await publish('Two'), await publish('Three')]
  await poll(() => (target.calls.length >= 3 ? true : undefined), 'the first, failing attempts')
  // And one delivery whose instance died in the middle of its call: its claim runs out.
  const dead = await first.prisma.webhookDelivery.findFirstOrThrow({ orderBy: { createdAt: 'asc' } })
  await first.close()
  const failedCalls = target.calls.length

  down = false
  const { DATABASE_URL, GUDANG_DATA_DIR } = first.config
  const second = await build(t, { ...patient, ...(onPostgres ? { DATABASE_URL } : { GUDANG_DATA_DIR }) })
  await second.ready()
  await second.prisma.webhookDelivery.update({
    where: { id: dead.id },
    data: { status: 'delivering', lockedUntil: new Date(Date.now() - 1000), nextAttemptAt: new Date(Date.now() - 1000) },
  })
  const delivered = await poll(async () => {
    const rows = await second.prisma.webhookDelivery.findMany({ include: { event: true } })
    return rows.every((row) => row.status === 'succeeded') ? rows : undefined
  }, 'every delivery to succeed')
  t.equal(delivered.length, 3)
  const sent = target.calls.slice(failedCalls).filter((c) => c.json.event === 'entry.publish')
  t.same(new Set(sent.map((c) => c.json.data.documentId)), new Set(documents), 'every publish arrived after the restart')
})

t.test('two server instances on one database deliver each event once', {
  skip: onPostgres ? false : 'needs PostgreSQL: two instances cannot share one embedded database',
}, async (t) => {
  const { app: one, hook, publish } = await setUp(t)
  const target = await receiver(t, () => 204, 20)
  await hook({ url: target.url })
  const other = buildApp(testConfig({ ...FAST, DATABASE_URL: one.config.DATABASE_URL }), { logger: false })
  t.teardown(() => other.close())
  await other.ready()

  const count = 20
  for (let i = 0; i < count; i++) await publish(`Article ${i}`)
  // Both at once, each also twice over: six workers race for every delivery.
  const instances = [one, other, one, other, one, other]
  const made = await Promise.all(instances.map((instance) => instance.webhooks.runDue()))
  t.equal(made.reduce((a, b) => a + b, 0), count, `the runs made ${made.join(', ')} calls: ${count} in all`)
  t.equal(target.calls.length, count)
  t.equal(new Set(target.calls.map((c) => c.headers['webhook-id'])).size, count, 'no delivery sent twice')
  t.equal(await one.prisma.webhookAttempt.count(), count, 'one attempt each')
})

t.test('debounce turns ten quick publishes into one call', async (t) => {
  const { app, publish, hook } = await setUp(t)
  const target = await receiver(t)
  await hook({ url: target.url, debounceSeconds: 1 })
  const documents: string[] = []
  for (let i = 0; i < 10; i++) documents.push(await publish(`Burst ${i}`))
  t.equal(await app.webhooks.runDue(), 0, 'nothing while the burst may go on')
  await sleep(1100)
  t.equal(await app.webhooks.runDue(), 1)
  t.equal(target.calls.length, 1, 'one call')
  t.match(target.calls[0]?.json, { event: 'entry.publish', events: 10, data: { documentId: documents[9] } }, 'the last event, counting ten')

  await publish('After the burst')
  await sleep(1100)
  t.equal(await app.webhooks.runDue(), 1, 'a later publish is a call of its own')
  t.match(target.calls[1]?.json, { events: 1 })
})

t.test('a burst that never pauses is sent all the same, 10 debounce periods after its first event', async (t) => {
  const { app, publish, hook } = await setUp(t)
  const target = await receiver(t)
  await hook({ url: target.url, debounceSeconds: 60 })
  await publish('First')
  t.equal(await app.webhooks.runDue(), 0, 'a minute of quiet is not over')
  // The burst began ten minutes ago and has gone on since: its first event is that old.
  const first = await app.prisma.webhookDelivery.findFirstOrThrow()
  const tenMinutesAgo = new Date(Date.now() - 601_000)
  await app.prisma.webhookDelivery.update({ where: { id: first.id }, data: { createdAt: tenMinutesAgo } })
  await publish('Still going')
  t.equal(await app.webhooks.runDue(), 1, 'sent, though the last event is a moment old')
  t.match(target.calls[0]?.json, { events: 2, data: { data: { title: 'Still going' } } })
})
