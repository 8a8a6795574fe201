import { type AddressInfo, createServer, connect, type Socket } from 'node:net'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { buildWithAdmin, created, login, onPostgres, type SignedIn, signInAs, testConfig } from '../helper.js'

type Payload = Record<string, unknown>
type Entry = Record<string, unknown> & { documentId: string, version: number, status: string }

const TYPES = '/api/admin/content-types'
const ARTICLES = `${TYPES}/article/entries`
const NOTES = `${TYPES}/note/entries`
const missing = '0195f0a0-0000-7000-8000-000000000001'

/** A title is required to publish; a draft may lack it. */
const article = {
  apiId: 'article',
  kind: 'collection',
  singularName: 'Article',
  pluralName: 'Articles',
  fields: [{ name: 'title', type: 'string', required: true }, { name: 'summary', type: 'text' }],
}
/** Without draft & publish: saving publishes. */
const note = {
  apiId: 'note',
  kind: 'collection',
  singularName: 'Note',
  pluralName: 'Notes',
  draftAndPublish: false,
  fields: [{ name: 'title', type: 'string' }],
}

async function setUp(t: Test) {
  const app = await buildWithAdmin(t)
  const admin = await login(app)
  for (const type of [article, note]) await created(app, admin, TYPES, type)

  function call(method: 'GET' | 'POST' | 'DELETE', url: string, options: { payload?: object, as?: SignedIn } = {}) {
    return app.inject({ method, url, headers: (options.as ?? admin).headers, payload: options.payload })
  }

  async function create(data: Payload, options: { url?: string, as?: SignedIn } = {}): Promise<Entry> {
    const url = options.url ?? ARTICLES
    const res = await call('POST', url, { payload: { data }, as: options.as })
    if (res.statusCode !== 201) throw new Error(`POST ${url} answered ${res.statusCode}: ${res.body}`)
    return res.json().data
  }

  /** An entry's status and version, or 404. */
  async function state(documentId: string, url = ARTICLES): Promise<[status: string, version: number] | 404> {
    const res = await call('GET', `${url}/${documentId}`)
    if (res.statusCode === 404) return 404
    return [res.json().data.status, res.json().data.version]
  }

  function bulk(operation: 'publish' | 'unpublish' | 'delete', documentIds: string[], options: { as?: SignedIn, url?: string } = {}) {
    return call('POST', `${options.url ?? ARTICLES}/bulk/${operation}`, { payload: { documentIds }, as: options.as })
  }

  /** How many entry changes of an action the audit log holds. */
  async function audited(action: string): Promise<number> {
    return app.prisma.auditEvent.count({ where: { action } })
  }

  return { app, admin, call, create, state, bulk, audited }
}

t.test('bulk publish publishes every entry listed; a duplicate counts once', async (t) => {
  const { app, create, state, bulk, audited } = await setUp(t)
  const entries = await Promise.all(['One', 'Two', 'Three'].map((title) => create({ title })))
  const ids = entries.map((e) => e.documentId)
  const other = await create({ title: 'Not listed' })

  const res = await bulk('publish', ids)
  t.equal(res.statusCode, 200)
  t.strictSame(res.json(), { data: { count: 3 } })
  for (const id of ids) t.same(await state(id), ['published', 2], id)
  t.same(await state(other.documentId), ['draft', 1], 'an entry not listed stays as it is')
  t.equal(await audited('entry.publish'), 3)

  const fresh = await create({ title: 'Fresh' })
  const twice = await bulk('publish', [fresh.documentId, fresh.documentId, ids[0] as string])
  t.equal(twice.statusCode, 200)
  t.strictSame(twice.json(), { data: { count: 2 } }, 'the duplicate counted once')
  t.same(await state(fresh.documentId), ['published', 2])
  t.same(await state(ids[0] as string), ['published', 2], 'publishing what is published changes nothing')
  const publishes = await app.prisma.entryVersion.count({ where: { action: 'publish', entry: { documentId: fresh.documentId } } })
  t.equal(publishes, 1, 'published once')
  t.equal(await audited('entry.publish'), 4)
})

t.test('one entry that cannot be published: 400 listing each failure, and nothing changes', async (t) => {
  const { create, state, bulk, audited } = await setUp(t)
  const first = await create({ title: 'Good' })
  const invalid = await create({ summary: 'no title' })
  const second = await create({ title: 'Also good' })

  const res = await bulk('publish', [first.documentId, invalid.documentId, second.documentId, missing])
  t.equal(res.statusCode, 400)
  t.strictSame(res.json(), {
    statusCode: 400,
    code: 'GUDANG_ERR_VALIDATION',
    error: 'Bad Request',
    message: '2 of 4 entries could not be changed: nothing was',
    details: [
      {
        in: 'body',
        path: '/documentIds/1',
        documentId: invalid.documentId,
        code: 'GUDANG_ERR_VALIDATION',
        message: 'Cannot publish: /title must have required property \'title\'',
        details: [{ in: 'body', path: '/data/title', message: 'must have required property \'title\'' }],
      },
      { in: 'body', path: '/documentIds/3', documentId: missing, code: 'GUDANG_ERR_NOT_FOUND', message: `No "article" entry ${missing}` },
    ],
  })
  for (const entry of [first, invalid, second]) t.same(await state(entry.documentId), ['draft', 1], 'still a draft')
  t.equal(await audited('entry.publish'), 0, 'no publish was recorded')
})

t.test('bulk unpublish takes entries off; every one must exist', async (t) => {
  const { create, state, bulk, audited } = await setUp(t)
  const entries = await Promise.all(['One', 'Two'].map((title) => create({ title })))
  const ids = entries.map((e) => e.documentId)
  t.equal((await bulk('publish', ids)).statusCode, 200)

  // Listed twice: counted once, and told where it first is.
  const refused = await bulk('unpublish', [ids[0] as string, missing, ...ids, missing])
  t.equal(refused.statusCode, 400)
  t.equal(refused.json().message, '1 of 3 entries could not be changed: nothing was')
  t.strictSame(refused.json().details, [
    { in: 'body', path: '/documentIds/1', documentId: missing, code: 'GUDANG_ERR_NOT_FOUND', message: `No "article" entry ${missing}` },
  ])
  for (const id of ids) t.same(await state(id), ['published', 2], 'still published')

  const res = await bulk('unpublish', ids)
  t.equal(res.statusCode, 200)
  t.strictSame(res.json(), { data: { count: 2 } })
  for (const id of ids) t.same(await state(id), ['draft', 3])
  t.equal(await audited('entry.unpublish'), 2)
})

t.test('bulk delete deletes every entry listed, or none', async (t) => {
  const { app, create, state, bulk, audited } = await setUp(t)
  const entries = await Promise.all(['One', 'Two'].map((title) => create({ title })))
  const ids = entries.map((e) => e.documentId)
  const kept = await create({ title: 'Kept' })

  const refused = await bulk('delete', [missing, ...ids])
  t.equal(refused.statusCode, 400)
  t.equal(refused.json().code, 'GUDANG_ERR_VALIDATION')
  t.strictSame(refused.json().details, [
    { in: 'body', path: '/documentIds/0', documentId: missing, code: 'GUDANG_ERR_NOT_FOUND', message: `No "article" entry ${missing}` },
  ])
  for (const id of ids) t.same(await state(id), ['draft', 1], 'not deleted')

  const res = await bulk('delete', ids)
  t.equal(res.statusCode, 200)
  t.strictSame(res.json(), { data: { count: 2 } })
  for (const id of ids) t.equal(await state(id), 404)
  t.same(await state(kept.documentId), ['draft', 1])
  t.equal(await audited('entry.delete'), 2)
  t.equal(await app.prisma.entryVersion.count({ where: { entry: { documentId: { in: ids } } } }), 0, 'their versions went with them')

  const notes = await Promise.all(['A', 'B'].map((title) => create({ title }, { url: NOTES })))
  const deleted = await bulk('delete', notes.map((n) => n.documentId), { url: NOTES })
  t.strictSame(deleted.json(), { data: { count: 2 } }, 'entries of a type without draft & publish are deleted too')
})

t.test('a type without draft & publish has nothing to publish in bulk: each entry is listed', async (t) => {
  const { create, state, bulk } = await setUp(t)
  const notes = await Promise.all(['A', 'B'].map((title) => create({ title }, { url: NOTES })))
  const res = await bulk('publish', notes.map((n) => n.documentId), { url: NOTES })
  t.equal(res.statusCode, 400)
  t.strictSame(res.json().details, notes.map((n, i) => ({
    in: 'body',
    path: `/documentIds/${i}`,
    documentId: n.documentId,
    code: 'GUDANG_ERR_CONFLICT',
    message: '"note" has no draft & publish: saving publishes',
  })))
  for (const n of notes) t.same(await state(n.documentId, NOTES), ['published', 1])
})

t.test('the list: 1 to 100 document ids; an unknown type is not found', async (t) => {
  const { create, state, bulk, call } = await setUp(t)
  const entry = await create({ title: 'One' })
  const tooMany = Array.from({ length: 101 }, (_, i) => `0195f0a0-0000-7000-8000-${String(i).padStart(12, '0')}`)

  const over = await bulk('publish', tooMany)
  t.equal(over.statusCode, 400)
  t.equal(over.json().code, 'GUDANG_ERR_VALIDATION')
  t.same(over.json().details, [{ in: 'body', path: '/documentIds', message: 'must NOT have more than 100 items' }])
  const hundred = await bulk('delete', [entry.documentId, ...tooMany.slice(0, 99)])
  t.equal(hundred.statusCode, 400, 'a hundred are taken')
  t.equal(hundred.json().details.length, 99, 'each missing one is listed')
  t.same(await state(entry.documentId), ['draft', 1])

  const none = await bulk('publish', [])
  t.equal(none.statusCode, 400)
  t.same(none.json().details.map((d: { path: string }) => d.path), ['/documentIds'])
  const notIds = await bulk('publish', ['not-an-id'])
  t.equal(notIds.statusCode, 400)
  t.same(notIds.json().details.map((d: { path: string }) => d.path), ['/documentIds/0'])
  const noList = await call('POST', `${ARTICLES}/bulk/publish`, { payload: {} })
  t.equal(noList.statusCode, 400)

  const noType = await bulk('publish', [entry.documentId], { url: `${TYPES}/gone/entries` })
  t.equal(noType.statusCode, 404)
  t.equal(noType.json().code, 'GUDANG_ERR_NOT_FOUND')
})

t.test('bulk publishing needs the publish permission; bulk delete, delete (an Author: their own entries)', async (t) => {
  const { app, admin, call, create, state, bulk } = await setUp(t)
  const roleRes = await call('POST', '/api/admin/roles', {
    payload: {
      name: 'Writer',
      permissions: ['read', 'create', 'update', 'delete'].map((action) => ({ subject: 'content:*', action })),
    },
  })
  t.equal(roleRes.statusCode, 201)
  const writer = await signInAs(app, admin, 'Writer')
  const author = await signInAs(app, admin, 'author')
  const adminsEntry = await create({ title: 'By the administrator' })
  const authorsEntry = await create({ title: 'By the author' }, { as: author })
  const ids = [adminsEntry.documentId]

  for (const who of [author, writer]) {
    for (const operation of ['publish', 'unpublish'] as const) {
      const res = await bulk(operation, ids, { as: who })
      t.equal(res.statusCode, 403, `${who.user.email} ${operation}`)
      t.equal(res.json().code, 'GUDANG_ERR_FORBIDDEN')
      t.same(res.json().details, { subject: 'content:article', action: 'publish' })
    }
  }
  const anonymous = await app.inject({ method: 'POST', url: `${ARTICLES}/bulk/publish`, payload: { documentIds: ids } })
  t.equal(anonymous.statusCode, 401)
  t.same(await state(adminsEntry.documentId), ['draft', 1], 'nothing was published')

  const others = await bulk('delete', [authorsEntry.documentId, adminsEntry.documentId], { as: author })
  t.equal(others.statusCode, 400, 'an entry the author may not delete is one they cannot see')
  t.strictSame(others.json().details, [
    {
      in: 'body',
      path: '/documentIds/1',
      documentId: adminsEntry.documentId,
      code: 'GUDANG_ERR_NOT_FOUND',
      message: `No "article" entry ${adminsEntry.documentId}`,
    },
  ])
  t.same(await state(authorsEntry.documentId), ['draft', 1], 'their own is not deleted either')
  const own = await bulk('delete', [authorsEntry.documentId], { as: author })
  t.strictSame(own.json(), { data: { count: 1 } })
  t.equal(await state(authorsEntry.documentId), 404)

  const byWriter = await bulk('delete', ids, { as: writer })
  t.strictSame(byWriter.json(), { data: { count: 1 } }, 'the writer may delete any entry')
  t.equal(await state(adminsEntry.documentId), 404)
})

t.test('an error that is no entry\'s fault stops a bulk change: 500, and nothing changes', async (t) => {
  const { app, create, state, bulk } = await setUp(t)
  const entries = await Promise.all(['One', 'Broken', 'Three'].map((title) => create({ title })))
  // The database fails to write one of them, as a full disk would.
  await app.prisma.$executeRawUnsafe(`
    CREATE FUNCTION fail_broken() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.draft->>'title' = 'Broken' THEN RAISE EXCEPTION 'could not extend file'; END IF;
      RETURN NEW;
    END $$`)
  await app.prisma.$executeRawUnsafe('CREATE TRIGGER fail_broken BEFORE UPDATE ON entries FOR EACH ROW EXECUTE FUNCTION fail_broken()')

  const res = await bulk('publish', entries.map((e) => e.documentId))
  t.equal(res.statusCode, 500)
  t.equal(res.json().code, 'GUDANG_ERR_INTERNAL_SERVER_ERROR')
  t.equal(res.json().message, 'Internal Server Error', 'the reason is not shown')
  const states = await Promise.all(entries.map((e) => state(e.documentId)))
  t.same(states, [['draft', 1], ['draft', 1], ['draft', 1]], 'the first one is not published either')
})

/** A TCP proxy to `target` that holds every chunk `delay` ms each way: a database server farther away. */
async function slowProxy(t: Test, target: URL, delay: number): Promise<number> {
  const sockets = new Set<Socket>()
  const { hostname, port } = target
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname)
    for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
      sockets.add(from)
      from.on('data', (chunk) => setTimeout(() => to.write(chunk), delay))
      from.on('close', () => setTimeout(() => to.destroy(), delay))
      from.on('error', () => to.destroy())
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy()
    server.close(() => resolve())
  }))
  return (server.address() as AddressInfo).port
}

t.test('a bulk change of many entries is not cut short by a database a few milliseconds away', {
  skip: onPostgres ? false : 'needs PostgreSQL: the latency is put between the app and its database server',
}, async (t) => {
  const { app, create, state } = await setUp(t)
  const entries = []
  for (let i = 0; i < 40; i++) entries.push(await create({ title: `Article ${i}` }))
  const direct = new URL(app.config.DATABASE_URL as string)
  const url = new URL(direct)
  url.port = String(await slowProxy(t, direct, 10))
  // Migrated already, by the first instance.
  const far = buildApp(testConfig({ DATABASE_URL: url.toString(), GUDANG_MIGRATE_ON_START: false }), { logger: false })
  t.teardown(() => far.close())
  // Signed in on this instance: each instance signs its own access tokens.
  const farAdmin = await login(far)
  const res = await far.inject({
    method: 'POST',
    url: `${ARTICLES}/bulk/publish`,
    headers: farAdmin.headers,
    payload: { documentIds: entries.map((e) => e.documentId) },
  })
  t.equal(res.statusCode, 200, res.body)
  t.strictSame(res.json(), { data: { count: 40 } })
  const states = await Promise.all(entries.map((e) => state(e.documentId)))
  t.same(states, entries.map(() => ['published', 2]), 'every one published')
})
