import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { Webhook as Verifier } from 'standardwebhooks'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { build, buildWithAdmin, created, login, type SignedIn, signInAs, testConfig, testDatabase } from '../helper.js'
import { multipart } from '../media-fixture.js'
import { type Call, poll, receiver } from '../webhook-receiver.js'

/**
 * The webhook API (/api/admin/webhooks) as administrators meet it: registration and its checks,
 * permissions, the secret, event filters, pings, redelivery, failures and what follows from
 * them, the worker's bookkeeping, pruning and the timer. Deliveries end to end: webhooks.test.ts.
 */

type App = Awaited<ReturnType<typeof buildWithAdmin>>
type Response = Awaited<ReturnType<App['inject']>>
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

const TYPES = '/api/admin/content-types'
const ARTICLES = `${TYPES}/article/entries`
const HOOKS = '/api/admin/webhooks'
const UNKNOWN = '00000000-0000-4000-8000-000000000000'

const article = {
  apiId: 'article',
  kind: 'collection',
  singularName: 'Article',
  pluralName: 'Articles',
  localized: true,
  fields: [{ name: 'title', type: 'string', required: true }],
}

const page = {
  apiId: 'page',
  kind: 'collection',
  singularName: 'Page',
  pluralName: 'Pages',
  localized: true,
  fields: [{ name: 'title', type: 'string' }],
}

/** Receivers on 127.0.0.1 may be called. */
const LOCAL = { GUDANG_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1' }

/** A promise that never settles: a receiver held by it never answers. */
const never = new Promise<never>(() => {})

async function setUp(t: Test, values: Record<string, unknown> = {}) {
  const app = await buildWithAdmin(t, { ...LOCAL, ...values })
  const admin = await login(app)
  await created(app, admin, TYPES, article)
  return { app, admin, ...client(app, admin) }
}

function client(app: App, admin: SignedIn) {
  const inject = (method: Method, url: string, payload?: object): Promise<Response> =>
    app.inject({ method, url, headers: admin.headers, ...(payload === undefined ? {} : { payload }) })
  /** The answer's data; throws unless it is a success. */
  async function call(method: Method, url: string, payload?: object) {
    const res = await inject(method, url, payload)
    if (res.statusCode >= 300) throw new Error(`${method} ${url} answered ${res.statusCode}: ${res.body}`)
    return res.statusCode === 204 ? undefined : res.json().data
  }
  const hook = (payload: object) => call('POST', HOOKS, { name: 'Site build', events: ['entry.publish'], ...payload })
  const ping = (id: string) => call('POST', `${HOOKS}/${id}/ping`)
  const delivery = (id: string, deliveryId: string) => call('GET', `${HOOKS}/${id}/deliveries/${deliveryId}`)
  const webhook = (id: string) => call('GET', `${HOOKS}/${id}`)
  /** A new draft, published: its document id. */
  async function publish(title: string): Promise<string> {
    const entry = await call('POST', ARTICLES, { data: { title } })
    await call('POST', `${ARTICLES}/${entry.documentId}/publish`)
    return entry.documentId
  }
  return { inject, call, hook, ping, delivery, webhook, publish }
}

/** The signed content of a call, verified with `secret` by the reference library; throws if it does not verify. */
function verified(secret: string, call: Call): unknown {
  return new Verifier(secret).verify(call.body, {
    'webhook-id': String(call.headers['webhook-id']),
    'webhook-timestamp': String(call.headers['webhook-timestamp']),
    'webhook-signature': String(call.headers['webhook-signature']),
  })
}

/** A delivery's attempts, as [number, status code] pairs. */
function tried(detail: { log: { number: number, statusCode: number | null }[] }): [number, number | null][] {
  return detail.log.map((attempt) => [attempt.number, attempt.statusCode])
}

/** A promise, and the function that settles it: a receiver held by it answers when told. */
function gate() {
  let open!: () => void
  const until = new Promise<void>((resolve) => {
    open = resolve
  })
  return { until, open }
}

/** A URL on 127.0.0.1 where nothing listens: a server's port, closed. */
async function closedPort(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}/hook`
}

/** The one problem of a 400 about the URL. */
function urlRefused(t: Test, res: Response, message: RegExp, what: string) {
  t.equal(res.statusCode, 400, what)
  t.match(res.json(), { code: 'GUDANG_ERR_VALIDATION', details: [{ in: 'body', path: '/url', message }] }, what)
}

/** A publish while the only webhook is disabled writes no event. */
async function publishNothing(t: Test, app: App, inject: ReturnType<typeof client>['inject']) {
  const before = await app.prisma.webhookEvent.count()
  const entry = (await inject('POST', ARTICLES, { data: { title: 'Unheard' } })).json().data
  t.equal((await inject('POST', `${ARTICLES}/${entry.documentId}/publish`)).statusCode, 200)
  t.equal(await app.prisma.webhookEvent.count(), before, 'a disabled webhook gets no events')
}

t.test('a webhook is registered, listed, read, changed and deleted; its secret shows only at registration', async (t) => {
  const { app, admin, inject, call, hook, ping } = await setUp(t)
  const target = await receiver(t)
  const res = await inject('POST', HOOKS, { name: 'Site build', url: target.url, events: ['entry.publish'] })
  t.equal(res.statusCode, 201)
  const registered = res.json().data
  t.match(registered, {
    name: 'Site build',
    url: target.url,
    events: ['entry.publish'],
    enabled: true,
    disabledReason: null,
    debounceSeconds: 0,
    failedDeliveries: 0,
    secret: /^whsec_[A-Za-z0-9+/]{43}=$/,
  })
  t.same([registered.contentTypes, registered.locales, registered.headers], [[], [], {}], 'no filters, no headers')
  t.notOk('createdById' in registered, 'who registered it is not shown')
  const other = await hook({ name: 'Search index', url: target.url })

  const list = await inject('GET', `${HOOKS}?pageSize=1`)
  t.equal(list.statusCode, 200)
  t.same(list.json().meta, { page: 1, pageSize: 1, total: 2 })
  t.equal(list.json().data.length, 1)
  t.equal(list.json().data[0].id, other.id, 'newest first')
  const second = await call('GET', `${HOOKS}?page=2&pageSize=1`)
  t.equal(second[0].id, registered.id)
  for (const shown of [...list.json().data, ...second]) t.notOk('secret' in shown, 'the list never shows a secret')
  const read = await call('GET', `${HOOKS}/${registered.id}`)
  t.notOk('secret' in read, 'nor does reading one')
  t.same({ ...read, secret: registered.secret }, registered)

  const changes = {
    name: 'Rebuild',
    events: ['entry.publish', 'entry.unpublish'],
    contentTypes: ['article'],
    locales: ['en'],
    headers: { authorization: 'Bearer b' },
    debounceSeconds: 5,
  }
  const patched = await inject('PATCH', `${HOOKS}/${registered.id}`, changes)
  t.equal(patched.statusCode, 200)
  t.same({ ...patched.json().data, ...changes }, patched.json().data, 'every change made')
  t.match(patched.json().data, { url: target.url, enabled: true })
  t.notOk('secret' in patched.json().data)
  t.match(await call('GET', `${HOOKS}/${registered.id}`), changes, 'the change is kept')

  await ping(registered.id)
  t.equal(await app.webhooks.runDue(), 1)
  t.equal(await app.prisma.webhookDelivery.count({ where: { webhookId: registered.id } }), 1)
  const removed = await inject('DELETE', `${HOOKS}/${registered.id}`)
  t.equal(removed.statusCode, 204)
  t.equal(removed.body, '')
  t.equal((await inject('GET', `${HOOKS}/${registered.id}`)).statusCode, 404, 'gone')
  t.equal(await app.prisma.webhookDelivery.count({ where: { webhookId: registered.id } }), 0, 'with its deliveries')
  t.equal(await app.prisma.webhookAttempt.count(), 0, 'and their attempts')
  t.same((await call('GET', HOOKS)).map((w: { id: string }) => w.id), [other.id], 'the other webhook stays')

  const audit = await app.inject({ url: '/api/admin/audit-log?subject=webhooks&pageSize=100', headers: admin.headers })
  const actions = audit.json().data.map((e: { action: string }) => e.action).reverse()
  t.same(actions, ['webhook.create', 'webhook.create', 'webhook.update', 'webhook.ping', 'webhook.delete'])
  t.match(audit.json().data[2], { action: 'webhook.update', userId: admin.user.id }, 'the change, by whom')
})

t.test('an unknown webhook or delivery answers 404 on every route', async (t) => {
  const { inject, hook, ping } = await setUp(t)
  const notFound = (message: string) => ({ statusCode: 404, code: 'GUDANG_ERR_NOT_FOUND', error: 'Not Found', message })
  const requests: [Method, string, object?][] = [
    ['GET', `${HOOKS}/${UNKNOWN}`],
    ['PATCH', `${HOOKS}/${UNKNOWN}`, { name: 'x' }],
    ['DELETE', `${HOOKS}/${UNKNOWN}`],
    ['POST', `${HOOKS}/${UNKNOWN}/secret`],
    ['POST', `${HOOKS}/${UNKNOWN}/ping`],
    ['GET', `${HOOKS}/${UNKNOWN}/deliveries`],
    ['GET', `${HOOKS}/${UNKNOWN}/deliveries/${UNKNOWN}`],
    ['POST', `${HOOKS}/${UNKNOWN}/deliveries/${UNKNOWN}/redeliver`],
  ]
  for (const [method, url, payload] of requests) {
    const res = await inject(method, url, payload)
    t.equal(res.statusCode, 404, `${method} ${url}`)
    // Reading a delivery looks for it alone; a redelivery first holds its webhook.
    const message = method === 'GET' && url.includes('/deliveries/') ? `No delivery ${UNKNOWN} of webhook ${UNKNOWN}` : `No webhook ${UNKNOWN}`
    t.same(res.json(), notFound(message), `${method} ${url}`)
  }

  // A delivery of another webhook is not this one's.
  const one = await hook({ url: 'https://hooks.example.com/one' })
  const two = await hook({ url: 'https://hooks.example.com/two' })
  const pinged = await ping(one.id)
  const res = await inject('GET', `${HOOKS}/${two.id}/deliveries/${pinged.id}`)
  t.same(res.json(), notFound(`No delivery ${pinged.id} of webhook ${two.id}`))
  const other = await inject('POST', `${HOOKS}/${two.id}/deliveries/${pinged.id}/redeliver`)
  t.same(other.json(), notFound(`No delivery ${pinged.id} of webhook ${two.id}`), 'nor can it be sent again through it')
  const malformed = await inject('GET', `${HOOKS}/not-a-uuid`)
  t.equal(malformed.statusCode, 400, 'an id that is not a UUID is a bad request')
})

t.test('a webhook registered with a secret of its own signs with it; a malformed secret is refused', async (t) => {
  const { app, inject, hook, ping } = await setUp(t)
  const target = await receiver(t)
  const secret = `whsec_${Buffer.alloc(32, 9).toString('base64')}`
  const registered = await hook({ url: target.url, secret })
  t.equal(registered.secret, secret, 'the answer shows the secret given')
  await ping(registered.id)
  t.equal(await app.webhooks.runDue(), 1)
  const [received] = target.calls as [Call]
  t.same(verified(secret, received), received.json, 'the call verifies with that secret')
  t.throws(() => verified(`whsec_${Buffer.alloc(32, 8).toString('base64')}`, received), 'and with no other')

  for (const bad of ['whsec_short', Buffer.alloc(32, 9).toString('base64'), `whsec_${'a'.repeat(40)}!`]) {
    const res = await inject('POST', HOOKS, { name: 'x', url: target.url, events: ['entry.publish'], secret: bad })
    t.equal(res.statusCode, 400, bad)
    t.match(res.json(), { code: 'GUDANG_ERR_VALIDATION', details: [{ path: '/secret' }] }, bad)
  }
  const res = await inject('PATCH', `${HOOKS}/${registered.id}`, { secret })
  t.equal(res.statusCode, 400, 'a change cannot set the secret: POST /:id/secret makes a new one')
  t.equal(await app.prisma.webhook.count(), 1, 'nothing else was registered')
})

t.test('URLs that cannot or must not be called are refused when a webhook is registered or changed', async (t) => {
  const { app, inject, hook } = await setUp(t)
  const register = (url: string) => inject('POST', HOOKS, { name: 'x', url, events: ['entry.publish'] })
  const notUrl = /absolute http or https URL/
  const privately = /private or reserved address; GUDANG_WEBHOOK_ALLOWED_NETWORKS may allow it/
  const cases: [string, RegExp][] = [
    ['not a URL', notUrl],
    ['/relative/path', notUrl],
    ['ftp://files.example.com/hook', notUrl],
    ['javascript:alert(1)', notUrl],
    ['https://user:password@hooks.example.com/', /must not carry credentials/],
    ['https://:password@hooks.example.com/', /must not carry credentials/],
    ['https://user@hooks.example.com/', /must not carry credentials/],
    ['http://10.0.0.1/hook', /^10\.0\.0\.1 is a private or reserved address/],
    ['http://192.168.1.20:8080/hook', privately],
    ['http://169.254.169.254/latest/meta-data', privately],
    ['http://127.0.0.2/hook', /^127\.0\.0\.2 is a private/],
    ['http://0.0.0.0/hook', privately],
    ['http://[::1]/hook', /^::1 is a private or reserved address/],
    ['http://[2001:db8::1]/hook', /^2001:db8::1 is a private/],
    ['http://[fd00::1]/hook', privately],
    ['http://[::ffff:10.0.0.1]/hook', privately],
  ]
  for (const [url, message] of cases) urlRefused(t, await register(url), message, url)
  t.equal(await app.prisma.webhook.count(), 0, 'none was registered')

  const literal = await register('http://93.184.216.34/hook')
  t.equal(literal.statusCode, 201, 'a public IPv4 address')
  t.equal((await register('https://[2606:4700::6810:84e5]/hook')).statusCode, 201, 'a public IPv6 address')
  t.equal((await register('http://127.0.0.1:9/hook')).statusCode, 201, 'an address GUDANG_WEBHOOK_ALLOWED_NETWORKS allows')

  const registered = await hook({ url: 'https://hooks.example.com/hook' })
  for (const [url, message] of [['ftp://x.example.com/', notUrl], ['http://10.1.2.3/', privately]] as const) {
    urlRefused(t, await inject('PATCH', `${HOOKS}/${registered.id}`, { url }), message, `PATCH ${url}`)
  }
  const fine = await inject('PATCH', `${HOOKS}/${registered.id}`, { url: 'https://other.example.com/hook' })
  t.equal(fine.statusCode, 200)
  t.equal(fine.json().data.url, 'https://other.example.com/hook')
  t.equal((await inject('POST', HOOKS, { name: 'x', url: '', events: ['entry.publish'] })).statusCode, 400, 'an empty URL')
})

t.test('GUDANG_WEBHOOK_ALLOWED_HOSTS allows its hosts exactly, and subdomains for a *. pattern', async (t) => {
  const { inject } = await setUp(t, { GUDANG_WEBHOOK_ALLOWED_HOSTS: 'api.example.net,*.Example.com' })
  const register = (url: string) => inject('POST', HOOKS, { name: 'x', url, events: ['entry.publish'] })
  for (const url of ['https://api.example.net/hook', 'https://hooks.example.com/hook', 'https://a.b.EXAMPLE.com/hook']) {
    t.equal((await register(url)).statusCode, 201, url)
  }
  const refused: [string, string][] = [
    ['https://example.org/hook', 'example.org'],
    ['https://example.com/hook', 'example.com'],
    ['https://www.example.net/hook', 'www.example.net'],
    ['https://hooks.example.com.evil.org/hook', 'hooks.example.com.evil.org'],
    ['https://93.184.216.34/hook', '93.184.216.34'],
  ]
  for (const [url, host] of refused) {
    urlRefused(t, await register(url), new RegExp(`^${host.replaceAll('.', '\\.')} is not among GUDANG_WEBHOOK_ALLOWED_HOSTS$`), url)
  }
})

t.test('GUDANG_WEBHOOK_ALLOWED_NETWORKS takes CIDRs and IPv6 addresses; an entry that is neither stops the start', async (t) => {
  const { inject } = await setUp(t, { GUDANG_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8,::1,10.1.0.0/16' })
  const register = (url: string) => inject('POST', HOOKS, { name: 'x', url, events: ['entry.publish'] })
  for (const url of ['http://127.8.9.10/hook', 'http://[::1]:8080/hook', 'http://10.1.200.3/hook']) {
    t.equal((await register(url)).statusCode, 201, url)
  }
  for (const url of ['http://10.2.0.1/hook', 'http://[::]/hook', 'http://[fe80::1]/hook', 'http://192.168.0.1/hook']) {
    urlRefused(t, await register(url), /private or reserved/, url)
  }

  for (const entry of ['1.2.3.4/99', '127.0.0.1,abc']) {
    const database = await testDatabase(t)
    const app = buildApp(testConfig({ ...database.values, GUDANG_WEBHOOK_ALLOWED_NETWORKS: entry }), { logger: false })
    t.teardown(() => app.close())
    const bad = entry.split(',').at(-1) as string
    await t.rejects(async () => app.ready(), { message: `GUDANG_WEBHOOK_ALLOWED_NETWORKS: "${bad}" is neither an address nor a CIDR` }, entry)
  }
})

t.test('headers Gudang sets cannot be a webhook\'s own, on registration or on change', async (t) => {
  const { app, inject, hook } = await setUp(t)
  const target = await receiver(t)
  const res = await inject('POST', HOOKS, {
    name: 'x',
    url: target.url,
    events: ['entry.publish'],
    headers: { 'Webhook-Signature': 'v1,forged', 'X-Fine': 'yes', 'content-type': 'text/plain' },
  })
  t.equal(res.statusCode, 400)
  t.match(res.json(), { code: 'GUDANG_ERR_VALIDATION', message: 'These headers cannot be replaced' })
  t.same(res.json().details, [
    { in: 'body', path: '/headers/Webhook-Signature', message: 'is set by Gudang' },
    { in: 'body', path: '/headers/content-type', message: 'is set by Gudang' },
  ])
  t.equal(await app.prisma.webhook.count(), 0)

  const registered = await hook({ url: target.url, headers: { 'X-Fine': 'yes' } })
  for (const name of ['Host', 'user-agent', 'webhook-id', 'Transfer-Encoding', 'proxy-authorization']) {
    const change = await inject('PATCH', `${HOOKS}/${registered.id}`, { headers: { [name]: 'x' } })
    t.equal(change.statusCode, 400, name)
    t.match(change.json(), { details: [{ path: `/headers/${name}`, message: 'is set by Gudang' }] }, name)
  }
  const line = await inject('PATCH', `${HOOKS}/${registered.id}`, { headers: { 'x-split': 'a\r\nInjected: yes' } })
  t.equal(line.statusCode, 400, 'a value cannot carry a line break')
  for (const value of ['Café €', 'bell\u0007', 'del\u007f']) {
    const refused = await inject('PATCH', `${HOOKS}/${registered.id}`, { headers: { 'X-Site': value } })
    t.equal(refused.statusCode, 400, `HTTP cannot carry ${JSON.stringify(value)}`)
  }
  const latin = await inject('PATCH', `${HOOKS}/${registered.id}`, { headers: { 'X-Site': 'Café\tà la carte' } })
  t.equal(latin.statusCode, 200, 'Latin-1 and tabs it can')
  const fine = await inject('PATCH', `${HOOKS}/${registered.id}`, { headers: { 'X-Other': 'ok' } })
  t.same(fine.json().data.headers, { 'X-Other': 'ok' })
  t.same((await app.prisma.webhook.findFirstOrThrow()).headers, { 'X-Other': 'ok' }, 'only the allowed change was made')
})

t.test('events must be known, and at least one', async (t) => {
  const { app, inject, hook } = await setUp(t)
  const register = (events: unknown) => inject('POST', HOOKS, { name: 'x', url: 'https://hooks.example.com/', events })
  for (const events of [['entry.explode'], [], ['webhook.ping'], ['entry.publish', 'entry.publish']]) {
    const res = await register(events)
    t.equal(res.statusCode, 400, JSON.stringify(events))
    t.match(res.json(), { code: 'GUDANG_ERR_VALIDATION', details: [{ path: /^\/events/ }] }, JSON.stringify(events))
  }
  const registered = await hook({ url: 'https://hooks.example.com/' })
  const res = await inject('PATCH', `${HOOKS}/${registered.id}`, { events: ['media.explode'] })
  t.equal(res.statusCode, 400)
  t.equal(await app.prisma.webhook.count(), 1)
  const all = await register(['entry.create', 'media.delete', 'content-type.update', 'component.create'])
  t.equal(all.statusCode, 201, 'events of every kind')
})

t.test('the webhook routes need a signed-in user with the webhooks permission', async (t) => {
  const { app, admin, inject, hook } = await setUp(t)
  const registered = await hook({ url: 'https://hooks.example.com/' })
  const anonymous = await app.inject({ url: HOOKS })
  t.equal(anonymous.statusCode, 401)
  const anonymousPing = await app.inject({ method: 'POST', url: `${HOOKS}/${registered.id}/ping` })
  t.equal(anonymousPing.statusCode, 401)

  const editor = await signInAs(app, admin, 'editor')
  const asEditor = (method: Method, url: string, payload?: object) =>
    app.inject({ method, url, headers: editor.headers, ...(payload === undefined ? {} : { payload }) })
  const list = await asEditor('GET', HOOKS)
  t.equal(list.statusCode, 403, 'an editor may not list webhooks')
  t.equal(list.json().code, 'GUDANG_ERR_FORBIDDEN')
  const create = await asEditor('POST', HOOKS, { name: 'x', url: 'https://hooks.example.com/', events: ['entry.publish'] })
  t.equal(create.statusCode, 403, 'nor register one')
  t.equal((await asEditor('POST', `${HOOKS}/${registered.id}/secret`)).statusCode, 403, 'nor see a new secret')
  t.equal((await asEditor('POST', `${HOOKS}/${registered.id}/ping`)).statusCode, 403, 'nor ping one')
  t.equal(await app.prisma.webhook.count(), 1)
  t.equal(await app.prisma.webhookDelivery.count(), 0)
  t.equal((await inject('GET', HOOKS)).statusCode, 200, 'the administrator may')
})

t.test('a new secret answers once and signs every later call; the old one no longer verifies', async (t) => {
  const { app, inject, hook, ping, webhook } = await setUp(t)
  const target = await receiver(t)
  const registered = await hook({ url: target.url })
  await ping(registered.id)
  t.equal(await app.webhooks.runDue(), 1)
  t.ok(verified(registered.secret, target.calls[0] as Call))

  const res = await inject('POST', `${HOOKS}/${registered.id}/secret`)
  t.equal(res.statusCode, 200)
  const rotated = res.json().data
  t.match(rotated, { id: registered.id, secret: /^whsec_/ })
  t.not(rotated.secret, registered.secret)
  t.notOk('secret' in await webhook(registered.id), 'reading the webhook does not show it')

  await ping(registered.id)
  t.equal(await app.webhooks.runDue(), 1)
  const later = target.calls[1] as Call
  t.same(verified(rotated.secret, later), later.json, 'the later call verifies with the new secret')
  t.throws(() => verified(registered.secret, later), 'not with the old')
})

t.test('content-type and locale filters choose the events a webhook gets; media events pass a type filter', async (t) => {
  const { app, admin, call, hook } = await setUp(t)
  await created(app, admin, '/api/admin/locales', { code: 'fr', name: 'French' })
  await created(app, admin, TYPES, page)
  const target = await receiver(t)
  const filtered = await hook({
    url: target.url,
    events: ['entry.create', 'media.create'],
    contentTypes: ['article'],
    locales: ['fr'],
  })
  const events = () => app.prisma.webhookEvent.count()

  await call('POST', ARTICLES, { data: { title: 'Hello' } })
  t.equal(await events(), 0, 'an article in English: not the locale')
  await call('POST', `${TYPES}/page/entries?locale=fr`, { data: { title: 'À propos' } })
  t.equal(await events(), 0, 'a page in French: not the type')
  const french = await call('POST', `${ARTICLES}?locale=fr`, { data: { title: 'Bonjour' } })
  t.equal(await events(), 1, 'an article in French')

  const body = multipart([{ name: 'file', filename: 'notes.txt', contentType: 'text/plain', data: 'some notes' }])
  const upload = await app.inject({ method: 'POST', url: '/api/admin/media', payload: body.payload, headers: { ...body.headers, ...admin.headers } })
  t.equal(upload.statusCode, 201)
  const [media] = upload.json().data
  t.equal(await events(), 2, 'media have no content type or locale, and pass the filters')

  t.equal(await app.webhooks.runDue(), 2)
  const received = target.calls.map((c) => c.json).sort((a, b) => a.event.localeCompare(b.event))
  t.match(received, [
    { event: 'entry.create', contentType: 'article', locale: 'fr', data: { documentId: french.documentId, locale: 'fr', data: { title: 'Bonjour' } } },
    { event: 'media.create', contentType: null, locale: null, data: { id: media.id, name: 'notes.txt' } },
  ])
  const log = await call('GET', `${HOOKS}/${filtered.id}/deliveries`)
  t.same(log.map((d: { event: { event: string } }) => d.event.event).sort(), ['entry.create', 'media.create'])
})

t.test('model changes are sent with their type; restore and discard as entry.update; deletes as entry.delete', async (t) => {
  const { app, call, hook } = await setUp(t)
  const target = await receiver(t)
  await hook({ url: target.url, events: ['content-type.update', 'entry.update', 'entry.delete'] })
  const received = async () => {
    t.equal(await app.webhooks.runDue(), 1)
    return (target.calls.at(-1) as Call).json
  }

  const { apiId, ...definition } = article
  await call('PUT', `${TYPES}/${apiId}`, { ...definition, fields: [...article.fields, { name: 'summary', type: 'text' }] })
  t.match(await received(), { event: 'content-type.update', contentType: 'article', locale: null, data: { apiId: 'article' } })

  const before = await app.prisma.webhookEvent.count()
  const entry = await call('POST', ARTICLES, { data: { title: 'One' } })
  await call('POST', `${ARTICLES}/${entry.documentId}/publish`)
  t.equal(await app.prisma.webhookEvent.count(), before, 'entry.create and entry.publish are not wanted: no event at all')
  t.equal(await app.webhooks.runDue(), 0)

  const at = `${ARTICLES}/${entry.documentId}`
  await call('PUT', at, { data: { title: 'Two' } })
  t.match(await received(), { event: 'entry.update', contentType: 'article', locale: 'en', data: { data: { title: 'Two' } } })
  await call('POST', `${at}/discard`)
  t.match(await received(), { event: 'entry.update', data: { documentId: entry.documentId, data: { title: 'One' } } }, 'discard')
  await call('PUT', at, { data: { title: 'Three' } })
  await received()
  await call('POST', `${at}/versions/1/restore`)
  t.match(await received(), { event: 'entry.update', data: { data: { title: 'One' } } }, 'restore')
  await call('DELETE', at)
  const deleted = await received()
  t.match(deleted, { event: 'entry.delete', contentType: 'article', locale: 'en', data: { documentId: entry.documentId, locale: 'en' } })
  t.notOk('data' in deleted.data, 'a deleted entry has no content to send')
  t.equal(await app.webhooks.runDue(), 0, 'nothing else was sent')
})

t.test('a ping is sent as webhook.ping; a disabled webhook\'s deliveries wait until it is enabled', async (t) => {
  const { app, inject, hook, delivery } = await setUp(t)
  const target = await receiver(t)
  const registered = await hook({ url: target.url, enabled: false })
  t.equal(registered.enabled, false)
  const res = await inject('POST', `${HOOKS}/${registered.id}/ping`)
  t.equal(res.statusCode, 202)
  const pinged = res.json().data
  t.match(pinged, {
    webhookId: registered.id,
    status: 'pending',
    attempts: 0,
    events: 1,
    redeliveryOf: null,
    finishedAt: null,
    event: { event: 'webhook.ping', contentType: null, locale: null, payload: { webhookId: registered.id } },
  })
  t.same(pinged.log, [], 'no attempt yet')
  t.equal(await app.webhooks.runDue(), 0, 'not while the webhook is disabled')
  t.equal(target.calls.length, 0)

  await publishNothing(t, app, inject)
  const enabled = await inject('PATCH', `${HOOKS}/${registered.id}`, { enabled: true })
  t.equal(enabled.json().data.enabled, true)
  t.equal(await app.webhooks.runDue(), 1, 'enabled, the ping goes')
  t.match(target.calls[0]?.json, { id: pinged.eventId, event: 'webhook.ping', contentType: null, data: { webhookId: registered.id } })
  t.equal(target.calls[0]?.headers['webhook-id'], pinged.id)
  const sent = await delivery(registered.id, pinged.id)
  t.match(sent, { status: 'succeeded', attempts: 1 })
  t.same(tried(sent), [[1, 204]])
})

t.test('a finished delivery is sent again as a new delivery of the same event; one under way cannot be', async (t) => {
  const { app, inject, call, hook, ping } = await setUp(t)
  const target = await receiver(t)
  const registered = await hook({ url: target.url })
  const first = await ping(registered.id)
  t.equal(await app.webhooks.runDue(), 1)

  const res = await inject('POST', `${HOOKS}/${registered.id}/deliveries/${first.id}/redeliver`)
  t.equal(res.statusCode, 202)
  const again = res.json().data
  t.match(again, { redeliveryOf: first.id, eventId: first.eventId, status: 'pending', attempts: 0 })
  t.same(again.log, [], 'a delivery of its own: no attempt yet')
  t.not(again.id, first.id)
  const busy = await inject('POST', `${HOOKS}/${registered.id}/deliveries/${again.id}/redeliver`)
  t.equal(busy.statusCode, 409, 'a pending delivery cannot be sent again')
  t.match(busy.json(), { code: 'GUDANG_ERR_CONFLICT', message: /pending/ })
  const unknown = await inject('POST', `${HOOKS}/${registered.id}/deliveries/${UNKNOWN}/redeliver`)
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().code, 'GUDANG_ERR_NOT_FOUND')

  const pending = await inject('GET', `${HOOKS}/${registered.id}/deliveries?status=pending`)
  t.same(pending.json().data.map((d: { id: string }) => d.id), [again.id])
  t.same(pending.json().meta, { page: 1, pageSize: 25, total: 1 })
  t.equal(await app.webhooks.runDue(), 1)
  t.equal(target.calls.length, 2)
  const [one, two] = target.calls as [Call, Call]
  t.equal(two.json.id, one.json.id, 'the same event')
  t.equal(two.headers['webhook-id'], again.id, 'as a new delivery')
  t.not(two.headers['webhook-id'], one.headers['webhook-id'])

  const succeeded = await inject('GET', `${HOOKS}/${registered.id}/deliveries?status=succeeded&pageSize=1`)
  t.same(succeeded.json().meta, { page: 1, pageSize: 1, total: 2 })
  t.equal(succeeded.json().data[0].id, again.id, 'newest first')
  t.same(await call('GET', `${HOOKS}/${registered.id}/deliveries?status=pending`), [])
  t.equal((await inject('GET', `${HOOKS}/${registered.id}/deliveries?status=lost`)).statusCode, 400)

  // A delivery another instance is making.
  await app.prisma.webhookDelivery.update({ where: { id: first.id }, data: { status: 'delivering' } })
  const making = await inject('POST', `${HOOKS}/${registered.id}/deliveries/${first.id}/redeliver`)
  t.equal(making.statusCode, 409)
  t.match(making.json().message, /delivering/)
})

t.test('a receiver that does not answer within GUDANG_WEBHOOK_TIMEOUT is an attempt without a status', async (t) => {
  const { app, hook, ping, delivery } = await setUp(t, { GUDANG_WEBHOOK_TIMEOUT: 200, GUDANG_WEBHOOK_MAX_ATTEMPTS: 1 })
  const target = await receiver(t, () => 204, 0, { until: never })
  const registered = await hook({ url: target.url })
  const pinged = await ping(registered.id)
  t.equal(await app.webhooks.runDue(), 1)
  t.equal(target.calls.length, 1, 'the receiver got the call')
  const detail = await delivery(registered.id, pinged.id)
  t.match(detail, { status: 'failed', attempts: 1, finishedAt: String })
  t.same(detail.log.map((a: object) => ({ ...a, startedAt: 0, durationMs: 0 })), [
    { number: 1, startedAt: 0, durationMs: 0, statusCode: null, error: 'No answer within 200 ms', response: null },
  ])
  t.ok(detail.log[0].durationMs >= 150, 'the call waited for the answer')
})

t.test('a call that finds nothing listening, or no TLS, records the network error', async (t) => {
  const { app, hook, ping, delivery } = await setUp(t, { GUDANG_WEBHOOK_MAX_ATTEMPTS: 1 })
  const target = await receiver(t)
  const closed = await hook({ url: await closedPort() })
  const tls = await hook({ url: target.url.replace('http:', 'https:') })
  const refused = await ping(closed.id)
  const plain = await ping(tls.id)
  t.equal(await app.webhooks.runDue(), 2)
  const nobody = await delivery(closed.id, refused.id)
  t.match(nobody, { status: 'failed', log: [{ error: /ECONNREFUSED 127\.0\.0\.1/, response: null }] })
  t.same(tried(nobody), [[1, null]])
  const https = await delivery(tls.id, plain.id)
  t.match(https, { status: 'failed', log: [{ error: /SSL|TLS|EPROTO/, response: null }] })
  t.same(tried(https), [[1, null]])
  t.equal(target.calls.length, 0, 'a plain HTTP server takes no TLS call')
})

t.test('a long answer is kept to its first 1024 bytes; an answer cut off halfway counts by its status', async (t) => {
  const { app, hook, ping, delivery } = await setUp(t)
  const long = await receiver(t, () => 200, 0, { body: () => `${'x'.repeat(1024)}${'y'.repeat(100_000)}` })
  const cut = await receiver(t, () => 200, 0, { body: () => 'z'.repeat(800), cut: true })
  const failing = await receiver(t, () => 502, 0, { body: () => 'z'.repeat(800), cut: true })
  const [a, b, c] = [await hook({ url: long.url }), await hook({ url: cut.url }), await hook({ url: failing.url })]
  const pings = [await ping(a.id), await ping(b.id), await ping(c.id)]
  t.equal(await app.webhooks.runDue(), 3)

  const kept = await delivery(a.id, pings[0].id)
  t.match(kept, { status: 'succeeded', log: [{ error: null }] })
  t.same(tried(kept), [[1, 200]])
  t.equal(kept.log[0].response, 'x'.repeat(1024), 'the first 1024 bytes')
  const halved = await delivery(b.id, pings[1].id)
  t.match(halved, { status: 'succeeded', log: [{ error: null, response: 'z'.repeat(400) }] })
  t.same(tried(halved), [[1, 200]], 'the status came: the answer counts, though its body was cut off')
  const retried = await delivery(c.id, pings[2].id)
  t.match(retried, { status: 'pending', log: [{ response: 'z'.repeat(400) }] })
  t.same(tried(retried), [[1, 502]])
})

t.test('a host name of a private address is accepted at registration, and refused when called', async (t) => {
  // No GUDANG_WEBHOOK_ALLOWED_NETWORKS: 127.0.0.1 is private.
  const { app, hook, ping, delivery } = await setUp(t, { GUDANG_WEBHOOK_ALLOWED_NETWORKS: '', GUDANG_WEBHOOK_MAX_ATTEMPTS: 1 })
  const target = await receiver(t)
  const registered = await hook({ url: `http://localhost:${target.port}/hook` })
  t.equal(registered.url, `http://localhost:${target.port}/hook`, 'names are resolved at each call, not at registration')
  const pinged = await ping(registered.id)
  t.equal(await app.webhooks.runDue(), 1)
  const detail = await delivery(registered.id, pinged.id)
  t.match(detail, { status: 'failed', log: [{ error: /^localhost: (127\.0\.0\.1|::1) is a private or reserved address/ }] })
  t.same(tried(detail), [[1, null]])
  t.equal(target.calls.length, 0, 'the receiver got nothing')
})

t.test('a host name that does not resolve is an attempt with the resolver\'s error', async (t) => {
  const { app, hook, ping, delivery } = await setUp(t, { GUDANG_WEBHOOK_MAX_ATTEMPTS: 1 })
  const registered = await hook({ url: 'http://gudang-no-such-host.invalid/hook' })
  const pinged = await ping(registered.id)
  t.equal(await app.webhooks.runDue(), 1)
  t.match(await delivery(registered.id, pinged.id), { status: 'failed', log: [{ statusCode: null, error: /ENOTFOUND/ }] })
})

t.test('an answer with NUL bytes is recorded, the NULs replaced', async (t) => {
  const { app, hook, ping, delivery } = await setUp(t)
  const target = await receiver(t, () => 200, 0, { body: () => 'a\u0000b' })
  const registered = await hook({ url: target.url })
  const pinged = await ping(registered.id)
  t.equal(await app.webhooks.runDue(), 1)
  t.match(await delivery(registered.id, pinged.id), { status: 'succeeded', log: [{ statusCode: 200, response: 'a\uFFFDb' }] })
})

t.test('a webhook whose host is no longer among GUDANG_WEBHOOK_ALLOWED_HOSTS is refused at the call', async (t) => {
  const { app, hook, ping, delivery } = await setUp(t, { GUDANG_WEBHOOK_ALLOWED_HOSTS: 'hooks.example.com', GUDANG_WEBHOOK_MAX_ATTEMPTS: 1 })
  const target = await receiver(t)
  const registered = await hook({ url: 'https://hooks.example.com/hook' })
  // Registered when another list was in force.
  await app.prisma.webhook.update({ where: { id: registered.id }, data: { url: target.url } })
  const pinged = await ping(registered.id)
  t.equal(await app.webhooks.runDue(), 1)
  const refused = await delivery(registered.id, pinged.id)
  t.match(refused, { status: 'failed', log: [{ error: '127.0.0.1 is not among GUDANG_WEBHOOK_ALLOWED_HOSTS', response: null }] })
  t.same(tried(refused), [[1, null]])
  t.equal(target.calls.length, 0)
})

t.test('a webhook whose deliveries keep failing is disabled with the reason; enabling it starts afresh', async (t) => {
  const values = { GUDANG_WEBHOOK_MAX_ATTEMPTS: 1, GUDANG_WEBHOOK_DISABLE_AFTER: 2 }
  const { app, admin, inject, hook, webhook, publish } = await setUp(t, values)
  let status = 500
  const target = await receiver(t, () => status)
  const registered = await hook({ url: target.url })

  await publish('One')
  t.equal(await app.webhooks.runDue(), 1)
  t.match(await webhook(registered.id), { enabled: true, failedDeliveries: 1, disabledReason: null }, 'one failure is not enough')
  await publish('Two')
  t.equal(await app.webhooks.runDue(), 1)
  const disabled = await webhook(registered.id)
  t.match(disabled, {
    enabled: false,
    failedDeliveries: 2,
    disabledReason: 'Disabled after 2 deliveries in a row failed, 1 attempts each; the last answer: HTTP 500',
  })
  const audit = await app.inject({ url: '/api/admin/audit-log?action=webhook.disable', headers: admin.headers })
  t.same(audit.json().meta.total, 1)
  t.match(audit.json().data[0], {
    subject: 'webhooks',
    userId: null,
    tokenId: null,
    details: { id: registered.id, reason: disabled.disabledReason },
  })

  await publishNothing(t, app, inject)
  t.equal(await app.webhooks.runDue(), 0)
  t.equal(target.calls.length, 2)

  const enabled = await inject('PATCH', `${HOOKS}/${registered.id}`, { enabled: true })
  t.match(enabled.json().data, { enabled: true, disabledReason: null, failedDeliveries: 0 })
  await publish('Three')
  t.equal(await app.webhooks.runDue(), 1)
  t.match(await webhook(registered.id), { enabled: true, failedDeliveries: 1 })
  status = 204
  await publish('Four')
  t.equal(await app.webhooks.runDue(), 1)
  t.match(await webhook(registered.id), { enabled: true, failedDeliveries: 0, disabledReason: null }, 'a success starts the count again')

  const renamed = await inject('PATCH', `${HOOKS}/${registered.id}`, { name: 'Renamed', enabled: false })
  t.match(renamed.json().data, { enabled: false, disabledReason: null }, 'disabled by hand: no reason')
})

t.test('deliveries failing for good together disable their webhook once', async (t) => {
  const values = { GUDANG_WEBHOOK_MAX_ATTEMPTS: 1, GUDANG_WEBHOOK_DISABLE_AFTER: 2 }
  const { app, admin, hook, webhook, publish } = await setUp(t, values)
  const target = await receiver(t, () => 500)
  const registered = await hook({ url: target.url })
  for (const title of ['One', 'Two', 'Three', 'Four']) await publish(title)
  t.equal(await app.webhooks.runDue(), 4, 'one batch of four (GUDANG_WEBHOOK_CONCURRENCY)')
  const disabled = { enabled: false, failedDeliveries: 4, disabledReason: /^Disabled after 2 deliveries/ }
  t.match(await webhook(registered.id), disabled)
  const audit = await app.inject({ url: '/api/admin/audit-log?action=webhook.disable', headers: admin.headers })
  t.equal(audit.json().meta.total, 1, 'disabled once')
})

t.test('a webhook disabled after calls that got no answer gives the error as the reason', async (t) => {
  const values = { GUDANG_WEBHOOK_MAX_ATTEMPTS: 1, GUDANG_WEBHOOK_DISABLE_AFTER: 1 }
  const { app, hook, webhook, publish } = await setUp(t, values)
  const url = await closedPort()
  const registered = await hook({ url })
  await publish('Into the void')
  t.equal(await app.webhooks.runDue(), 1)
  const disabled = await webhook(registered.id)
  t.equal(disabled.enabled, false)
  const reason = new RegExp('^Disabled after 1 deliveries in a row failed, 1 attempts each; the last answer: connect ECONNREFUSED 127\\.0\\.0\\.1:\\d+$')
  t.match(disabled.disabledReason, reason)
})

t.test('a failed attempt that is not the last is tried again later', async (t) => {
  const delay = 60_000
  const values = { GUDANG_WEBHOOK_MAX_ATTEMPTS: 3, GUDANG_WEBHOOK_RETRY_DELAY: delay }
  const { app, hook, publish, webhook } = await setUp(t, values)
  const target = await receiver(t, () => 503)
  const registered = await hook({ url: target.url })
  await publish('Soon')
  const before = Date.now()
  t.equal(await app.webhooks.runDue(), 1)
  const after = Date.now()
  const row = await app.prisma.webhookDelivery.findFirstOrThrow({ include: { log: true } })
  t.match(row, { status: 'pending', attempts: 1, lockedUntil: null, finishedAt: null })
  t.same(tried(row), [[1, 503]])
  const wait = row.nextAttemptAt.getTime()
  t.ok(wait >= before + delay / 2 && wait <= after + delay, `the next attempt within half to all of ${delay} ms`)
  t.equal(await app.webhooks.runDue(), 0, 'not before then')
  t.equal((await webhook(registered.id)).failedDeliveries, 0, 'a retry is not a failed delivery')

  // Past its time, the second attempt is made; failing again, it waits twice as long at most.
  const due = new Date(Date.now() - 1000)
  await app.prisma.webhookDelivery.update({ where: { id: row.id }, data: { nextAttemptAt: due } })
  const second = Date.now()
  t.equal(await app.webhooks.runDue(), 1)
  const next = (await app.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: row.id } })).nextAttemptAt.getTime()
  t.ok(next >= second + delay && next <= Date.now() + 2 * delay, 'the wait doubles')
  t.equal(target.calls.length, 2)
})

t.test('a delivery whose instance stopped during its last attempt fails without another call', async (t) => {
  const { app, hook, publish, delivery, webhook } = await setUp(t, { GUDANG_WEBHOOK_MAX_ATTEMPTS: 3 })
  const target = await receiver(t)
  const registered = await hook({ url: target.url })
  await publish('Stranded')
  const row = await app.prisma.webhookDelivery.findFirstOrThrow()
  // Claimed for its third attempt by an instance that stopped: its lease ran out.
  const past = new Date(Date.now() - 1000)
  await app.prisma.webhookDelivery.update({
    where: { id: row.id },
    data: { status: 'delivering', attempts: 3, lockedUntil: past, nextAttemptAt: past },
  })
  t.equal(await app.webhooks.runDue(), 1)
  t.equal(target.calls.length, 0, 'the receiver is not called a fourth time')
  const stranded = await delivery(registered.id, row.id)
  t.match(stranded, {
    status: 'failed',
    attempts: 4,
    log: [{ error: 'The instance making the last attempt stopped before it ended', response: null }],
  })
  t.same(tried(stranded), [[4, null]])
  t.equal((await webhook(registered.id)).failedDeliveries, 1)

  // One whose lease has not run out stays with its instance.
  await publish('Under way')
  const busy = await app.prisma.webhookDelivery.findFirstOrThrow({ where: { status: 'pending' } })
  await app.prisma.webhookDelivery.update({
    where: { id: busy.id },
    data: { status: 'delivering', attempts: 1, lockedUntil: new Date(Date.now() + 60_000), nextAttemptAt: past },
  })
  t.equal(await app.webhooks.runDue(), 0)
})

t.test('a call whose claim was taken over meanwhile records its attempt and leaves the delivery alone', async (t) => {
  const values = { GUDANG_WEBHOOK_MAX_ATTEMPTS: 1, GUDANG_WEBHOOK_DISABLE_AFTER: 1 }
  const { app, hook, publish, delivery, webhook } = await setUp(t, values)
  const held = gate()
  const target = await receiver(t, () => 500, 0, { until: held.until })
  const registered = await hook({ url: target.url })
  await publish('Slow')
  const running = app.webhooks.runDue()
  await poll(() => (target.calls.length === 1 ? true : undefined), 'the call')
  const row = await app.prisma.webhookDelivery.findFirstOrThrow()
  t.match(row, { status: 'delivering', attempts: 1 })
  // Another instance took the delivery over (its lease ran out, say) and is making attempt 2.
  await app.prisma.webhookDelivery.update({ where: { id: row.id }, data: { attempts: 2 } })
  held.open()
  t.equal(await running, 1)

  const taken = await delivery(registered.id, row.id)
  t.match(taken, { status: 'delivering', attempts: 2, finishedAt: null }, 'the delivery is the other instance\'s')
  t.same(tried(taken), [[1, 500]], 'the attempt is recorded')
  t.match(await webhook(registered.id), { enabled: true, failedDeliveries: 0 }, 'the last attempt failing is not counted')
})

t.test('a webhook deleted during a call: the call ends quietly, recording nothing', async (t) => {
  const { app, inject, hook, publish } = await setUp(t)
  const held = gate()
  const target = await receiver(t, () => 200, 0, { until: held.until })
  const registered = await hook({ url: target.url })
  await publish('Gone meanwhile')
  const running = app.webhooks.runDue()
  await poll(() => (target.calls.length === 1 ? true : undefined), 'the call')
  t.equal((await inject('DELETE', `${HOOKS}/${registered.id}`)).statusCode, 204)
  held.open()
  t.equal(await running, 1, 'the run ends without an error')
  t.equal(await app.prisma.webhookAttempt.count(), 0)
  t.equal(await app.prisma.webhookDelivery.count(), 0)
})

t.test('a successful call whose claim was taken over leaves the delivery to the other instance', async (t) => {
  const { app, hook, publish, delivery } = await setUp(t)
  const held = gate()
  const target = await receiver(t, () => 200, 0, { until: held.until })
  const registered = await hook({ url: target.url })
  await publish('Slow')
  const running = app.webhooks.runDue()
  await poll(() => (target.calls.length === 1 ? true : undefined), 'the call')
  const row = await app.prisma.webhookDelivery.findFirstOrThrow()
  await app.prisma.webhookDelivery.update({ where: { id: row.id }, data: { attempts: 2 } })
  held.open()
  t.equal(await running, 1)
  const taken = await delivery(registered.id, row.id)
  t.match(taken, { status: 'delivering', attempts: 2, finishedAt: null }, 'the delivery is the other instance\'s')
  t.same(tried(taken), [[1, 200]], 'the attempt is recorded')
})

t.test('prune forgets finished deliveries and events left without any, older than GUDANG_WEBHOOK_LOG_DAYS', async (t) => {
  const { app, inject, hook, ping } = await setUp(t, { GUDANG_WEBHOOK_LOG_DAYS: 7, GUDANG_WEBHOOK_MAX_ATTEMPTS: 1 })
  let status = 204
  const target = await receiver(t, () => status)
  const registered = await hook({ url: target.url })
  const old = await ping(registered.id)
  const oldOfRecentEvent = await ping(registered.id)
  const oldRedelivered = await ping(registered.id)
  const recent = await ping(registered.id)
  t.equal(await app.webhooks.runDue(), 4)
  status = 500
  const oldFailed = await ping(registered.id)
  t.equal(await app.webhooks.runDue(), 1)
  const redelivery = await inject('POST', `${HOOKS}/${registered.id}/deliveries/${oldRedelivered.id}/redeliver`)
  t.equal(redelivery.json().data.status, 'pending')
  const pending = await ping(registered.id)

  const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000)
  /** Backdates a delivery's end and its event. */
  const age = async (delivery: { id: string, eventId: string }, finished: number, happened: number) => {
    await app.prisma.webhookDelivery.update({ where: { id: delivery.id }, data: { finishedAt: daysAgo(finished) } })
    await app.prisma.webhookEvent.update({ where: { id: delivery.eventId }, data: { createdAt: daysAgo(happened) } })
  }
  await age(old, 8, 8)
  await age(oldFailed, 8, 8)
  await age(oldOfRecentEvent, 8, 6)
  await age(oldRedelivered, 8, 8)
  await age(recent, 6, 6)
  await app.prisma.webhookEvent.update({ where: { id: pending.eventId }, data: { createdAt: daysAgo(30) } })

  await app.webhooks.prune()
  const deliveries = await app.prisma.webhookDelivery.findMany({ select: { id: true } })
  t.same(
    new Set(deliveries.map((d) => d.id)),
    new Set([recent.id, redelivery.json().data.id, pending.id]),
    'finished deliveries older than 7 days go; recent and pending ones stay',
  )
  const events = await app.prisma.webhookEvent.findMany({ select: { id: true } })
  t.same(
    new Set(events.map((e) => e.id)),
    new Set([oldOfRecentEvent.eventId, oldRedelivered.eventId, recent.eventId, pending.eventId]),
    'an event goes when it is older than 7 days and no delivery is left for it',
  )
  t.equal(await app.prisma.webhookAttempt.count(), 1, 'the attempts of the deliveries forgotten go with them')
})

t.test('with GUDANG_WEBHOOK_INTERVAL the worker delivers by itself, prunes once at start, and stops with the app', async (t) => {
  const app = await buildWithAdmin(t, { ...LOCAL, GUDANG_WEBHOOK_INTERVAL: 10 })
  await app.after()
  const { prune, runDue } = app.webhooks
  let prunes = 0
  let runs = 0
  app.webhooks.prune = async () => {
    prunes++
    return prune()
  }
  app.webhooks.runDue = async () => {
    runs++
    return runDue()
  }
  await app.ready()
  const admin = await login(app)
  await created(app, admin, TYPES, article)
  const target = await receiver(t)
  const { hook, ping, publish } = client(app, admin)
  const registered = await hook({ url: target.url })
  await publish('By itself')
  await ping(registered.id)
  await poll(() => (target.calls.length === 2 ? true : undefined), 'the worker to send both')
  t.same(target.calls.map((c) => c.json.event).sort(), ['entry.publish', 'webhook.ping'])
  await poll(() => (runs >= 3 ? true : undefined), 'more runs')
  t.equal(prunes, 1, 'pruned at start, not at every run')

  await app.close()
  const stopped = runs
  await sleep(100)
  t.equal(runs, stopped, 'no run after close')
  t.equal(await runDue(), 0, 'a stopped worker claims nothing')
})

t.test('a run of the webhook worker that fails is logged, and the timer goes on', async (t) => {
  const logs: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(chunk.toString())
      callback()
    },
  })
  const app = await build(t, { GUDANG_WEBHOOK_INTERVAL: 10 }, { logger: { level: 'error', stream } })
  await app.after()
  let calls = 0
  app.webhooks.runDue = async () => {
    calls++
    throw new Error('the database is away')
  }
  await app.ready()
  await poll(() => (calls >= 3 ? true : undefined), 'three runs')
  const logged = logs.map((line) => JSON.parse(line)).filter((line) => line.msg === 'the webhook worker failed')
  t.ok(logged.length >= 2, 'each failure is logged')
  t.equal(logged[0].err.message, 'the database is away')
})
