import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { bearer, buildWithAdmin, login, roleId, type SignedIn, signInAs } from '../helper.js'

type App = Awaited<ReturnType<typeof buildWithAdmin>>

const TOKENS = '/api/admin/tokens'

/** A value with the shape of an API token that Gudang never issued. */
const UNKNOWN_TOKEN = 'gdt_' + 'x'.repeat(43)

const TOKEN_KEYS = [
  'createdAt', 'createdBy', 'description', 'expiresAt', 'hint', 'id', 'kind', 'lastUsedAt', 'name', 'role', 'updatedAt',
]

/** Builds the app and signs its administrator in. */
async function setUp(t: Test): Promise<{ app: App, admin: SignedIn }> {
  const app = await buildWithAdmin(t)
  return { app, admin: await login(app) }
}

/** Creates a token through the API; fails the test unless it answers 201. */
async function createToken(app: App, headers: { authorization: string }, payload: Record<string, unknown>) {
  const res = await app.inject({ method: 'POST', url: TOKENS, headers, payload })
  if (res.statusCode !== 201) throw new Error(`creating a token answered ${res.statusCode}: ${res.body}`)
  return res.json().data
}

/** Creates a custom role through the API and answers its id. */
async function createRole(app: App, admin: SignedIn, name: string, permissions: Record<string, unknown>[]) {
  const res = await app.inject({ method: 'POST', url: '/api/admin/roles', headers: admin.headers, payload: { name, permissions } })
  if (res.statusCode !== 201) throw new Error(`creating a role answered ${res.statusCode}: ${res.body}`)
  return res.json().data.id as string
}

/** Reads the users list, which needs `users:read`, with an API token. */
function readUsers(app: App, token: string) {
  return app.inject({ url: '/api/admin/users', headers: bearer(token) })
}

/** Permissions to manage tokens, and to read content and media: what a delivery or preview token grants. */
const tokenPermissions = (ownOnly: boolean) => [
  ...(['read', 'create', 'update', 'delete'] as const).map((action) => ({ subject: 'tokens', action, ownOnly })),
  { subject: 'content:*', action: 'read' },
  { subject: 'media', action: 'read' },
]

t.test('creating a token of each kind shows its value once, and only then', async (t) => {
  const { app, admin } = await setUp(t)
  const editorRole = await roleId(app, admin, 'editor')
  const created = []
  for (const kind of ['delivery', 'preview', 'full', 'custom']) {
    const res = await app.inject({
      method: 'POST',
      url: TOKENS,
      headers: admin.headers,
      payload: { name: `${kind} token`, kind, ...(kind === 'custom' ? { roleId: editorRole } : {}) },
    })
    t.equal(res.statusCode, 201, kind)
    const data = res.json().data
    t.same(Object.keys(data).sort(), [...TOKEN_KEYS, 'accessKey'].sort(), 'no hash among the keys')
    t.match(data.accessKey, /^gdt_[\w-]{43}$/)
    t.match(data, {
      id: String,
      name: `${kind} token`,
      description: '',
      kind,
      hint: `${data.accessKey.slice(0, 8)}…${data.accessKey.slice(-4)}`,
      expiresAt: null,
      lastUsedAt: null,
      createdBy: { id: admin.user.id, displayName: 'Administrator' },
    })
    t.same(data.role, kind === 'custom' ? { id: editorRole, name: 'Editor' } : null)
    const row = await app.prisma.apiToken.findUniqueOrThrow({ where: { id: data.id } })
    t.not(row.tokenHash, data.accessKey, 'the value itself is not stored')
    t.notOk(row.tokenHash.includes(data.accessKey.slice(4)), 'nor is any of its secret part')
    t.equal(row.hint, data.hint)
    created.push({ ...data, tokenHash: row.tokenHash })
  }

  const list = await app.inject({ url: TOKENS, headers: admin.headers })
  t.equal(list.statusCode, 200)
  const body = list.json()
  t.same(body.meta, { page: 1, pageSize: 25, total: 4 })
  t.same(body.data.map((token: { id: string }) => token.id).sort(), created.map((token) => token.id).sort())
  for (const token of body.data) t.same(Object.keys(token).sort(), TOKEN_KEYS)
  for (const { id, accessKey, tokenHash, ...shown } of created) {
    t.notOk(list.body.includes(accessKey), 'the list does not show the value')
    t.notOk(list.body.includes(tokenHash), 'the list does not show the hash')
    const read = await app.inject({ url: `${TOKENS}/${id}`, headers: admin.headers })
    t.equal(read.statusCode, 200)
    t.same(read.json(), { data: { id, ...shown } }, 'reading shows the token as it was made, without its value')
    t.notOk(read.body.includes(accessKey))
    t.notOk(read.body.includes(tokenHash))
  }
})

t.test('the list is paginated, oldest first', async (t) => {
  const { app, admin } = await setUp(t)
  const ids: string[] = []
  for (let i = 1; i <= 5; i++) ids.push((await createToken(app, admin.headers, { name: `token ${i}`, kind: 'delivery' })).id)
  // Made in the reverse order of their ids, so the order can only come from createdAt.
  for (const [index, id] of ids.entries()) {
    const createdAt = new Date(Date.UTC(2030, 0, 1) - index * 1000)
    await app.prisma.apiToken.update({ where: { id }, data: { createdAt } })
  }
  ids.reverse()

  const pages = []
  for (const page of [1, 2, 3, 4]) {
    const res = await app.inject({ url: `${TOKENS}?page=${page}&pageSize=2`, headers: admin.headers })
    t.equal(res.statusCode, 200)
    t.same(res.json().meta, { page, pageSize: 2, total: 5 })
    pages.push(res.json().data.map((token: { id: string }) => token.id))
  }
  t.same(pages, [ids.slice(0, 2), ids.slice(2, 4), ids.slice(4), []])

  // Tokens made in the same millisecond (a script, concurrent requests): paging through them
  // must still show each token once.
  await app.prisma.apiToken.createMany({
    data: Array.from({ length: 35 }, (_, i) => ({ name: `bulk ${i}`, kind: 'delivery' as const, tokenHash: randomUUID(), hint: 'x' })),
  })
  await app.prisma.apiToken.updateMany({ data: { createdAt: new Date(Date.UTC(2030, 0, 1)) } })
  const seen: string[] = []
  for (let page = 1; page <= 6; page++) {
    const res = await app.inject({ url: `${TOKENS}?page=${page}&pageSize=7`, headers: admin.headers })
    t.equal(res.json().meta.total, 40)
    seen.push(...res.json().data.map((token: { id: string }) => token.id))
  }
  t.equal(seen.length, 40)
  t.equal(new Set(seen).size, 40, 'every token once, on one page only')

  for (const query of ['page=0', 'pageSize=0', 'pageSize=101', 'page=x', 'sort=name']) {
    const res = await app.inject({ url: `${TOKENS}?${query}`, headers: admin.headers })
    t.equal(res.statusCode, 400, query)
    t.match(res.json(), { code: 'GUDANG_ERR_VALIDATION', details: [{ in: 'querystring' }] }, query)
  }
})

t.test('a new token is validated', async (t) => {
  const { app, admin } = await setUp(t)
  const editorRole = await roleId(app, admin, 'editor')
  const post = (payload: Record<string, unknown>) => app.inject({ method: 'POST', url: TOKENS, headers: admin.headers, payload })
  const refused = async (payload: Record<string, unknown>, path: string, message: RegExp | string, what: string) => {
    const res = await post(payload)
    t.equal(res.statusCode, 400, what)
    t.match(res.json(), { statusCode: 400, code: 'GUDANG_ERR_VALIDATION', error: 'Bad Request' }, what)
    t.match(res.json().details, [{ in: 'body', path, message }], what)
    t.notOk('accessKey' in res.json(), what)
  }

  await refused({ name: 'a', kind: 'custom' }, '/roleId', 'is required for a custom token and only for one', 'custom without a role')
  for (const kind of ['delivery', 'preview', 'full']) {
    await refused({ name: 'a', kind, roleId: editorRole }, '/roleId', 'is required for a custom token and only for one', `${kind} with a role`)
  }
  await refused({ name: 'a', kind: 'custom', roleId: randomUUID() }, '/roleId', 'names no role', 'an unknown role')
  await refused({ name: 'a', kind: 'custom', roleId: 'editor' }, '/roleId', /must match pattern/, 'a role that is not an id')
  await refused(
    { name: 'a', kind: 'delivery', expiresAt: new Date(Date.now() - 1000).toISOString() },
    '/expiresAt',
    'must be a time in the future',
    'an expiry in the past',
  )
  await refused({ name: 'a', kind: 'delivery', expiresAt: 'tomorrow' }, '/expiresAt', /format "date-time"/, 'an expiry that is no date')
  await refused({ name: 'a', kind: 'delivery', scopes: ['all'] }, '/scopes', /additional properties/, 'an unknown field')
  await refused({ name: 'a', kind: 'delivery', tokenHash: 'x' }, '/tokenHash', /additional properties/, 'the hash')
  await refused({ name: 'a', kind: 'delivery', accessKey: UNKNOWN_TOKEN }, '/accessKey', /additional properties/, 'a chosen value')
  await refused({ kind: 'delivery' }, '/name', /required/, 'no name')
  await refused({ name: '', kind: 'delivery' }, '/name', /fewer than 1/, 'an empty name')
  await refused({ name: 'a'.repeat(101), kind: 'delivery' }, '/name', /more than 100/, 'a long name')
  await refused({ name: 'a', kind: 'delivery', description: 'a'.repeat(1001) }, '/description', /more than 1000/, 'a long description')
  await refused({ name: 'a' }, '/kind', /required/, 'no kind')
  await refused({ name: 'a', kind: 'admin' }, '/kind', /./, 'an unknown kind')
  t.equal(await app.prisma.apiToken.count(), 0, 'nothing was made')

  t.equal((await post({ name: 'Website', kind: 'delivery' })).statusCode, 201)
  const duplicate = await post({ name: 'Website', kind: 'full' })
  t.equal(duplicate.statusCode, 409)
  t.match(duplicate.json(), { statusCode: 409, code: 'GUDANG_ERR_CONFLICT', error: 'Conflict' })
  t.notOk('accessKey' in duplicate.json())
  t.equal(await app.prisma.apiToken.count(), 1, 'the duplicate was not made')

  // RFC 3339, and so the date-time format, allows a leap second; `new Date()` does not.
  const leap = await post({ name: 'leap', kind: 'delivery', expiresAt: '2999-12-31T23:59:60Z' })
  t.equal(leap.statusCode, 400, 'an expiry on a leap second')
  t.match(leap.json(), { code: 'GUDANG_ERR_VALIDATION', details: [{ in: 'body', path: '/expiresAt' }] })
  t.equal(await app.prisma.apiToken.count(), 1, 'and nothing made')

  const expiresAt = new Date(Date.now() + 86_400_000).toISOString()
  const described = await post({ name: 'Site build', description: 'Used by the nightly build', kind: 'preview', expiresAt })
  t.equal(described.statusCode, 201)
  t.match(described.json().data, { name: 'Site build', description: 'Used by the nightly build', kind: 'preview', expiresAt })
  const row = await app.prisma.apiToken.findUniqueOrThrow({ where: { id: described.json().data.id } })
  t.equal(row.expiresAt?.toISOString(), expiresAt)
  t.equal(row.description, 'Used by the nightly build')
})

t.test('a token grants what its kind or its role allows, read afresh on every request', async (t) => {
  const { app, admin } = await setUp(t)
  for (const kind of ['delivery', 'preview', 'full']) {
    const { accessKey } = await createToken(app, admin.headers, { name: kind, kind })
    for (const url of ['/api/admin/users', TOKENS, '/api/admin/roles']) {
      const res = await app.inject({ url, headers: bearer(accessKey) })
      t.equal(res.statusCode, 403, `${kind} ${url}`)
      t.equal(res.json().code, 'GUDANG_ERR_FORBIDDEN', `${kind} ${url}`)
    }
  }
  const delivery = await createToken(app, admin.headers, { name: 'website', kind: 'delivery' })
  const refused = await readUsers(app, delivery.accessKey)
  t.same(refused.json(), {
    statusCode: 403,
    code: 'GUDANG_ERR_FORBIDDEN',
    error: 'Forbidden',
    message: 'Missing permission users:read',
    details: { subject: 'users', action: 'read' },
  })

  const readers = await createRole(app, admin, 'User readers', [{ subject: 'users', action: 'read' }])
  const custom = await createToken(app, admin.headers, { name: 'directory sync', kind: 'custom', roleId: readers })
  const allowed = await readUsers(app, custom.accessKey)
  t.equal(allowed.statusCode, 200)
  t.same(allowed.json().data.map((user: { id: string }) => user.id), [admin.user.id])
  t.equal((await app.inject({ method: 'DELETE', url: `${TOKENS}/${delivery.id}`, headers: bearer(custom.accessKey) })).statusCode, 403)

  const changed = await app.inject({
    method: 'PATCH',
    url: `/api/admin/roles/${readers}`,
    headers: admin.headers,
    payload: { permissions: [{ subject: 'media', action: 'read' }] },
  })
  t.equal(changed.statusCode, 200)
  const after = await readUsers(app, custom.accessKey)
  t.equal(after.statusCode, 403, 'the role\'s change applies to the next request')
  t.match(after.json(), { code: 'GUDANG_ERR_FORBIDDEN', details: { subject: 'users', action: 'read' } })

  await app.inject({
    method: 'PATCH',
    url: `/api/admin/roles/${readers}`,
    headers: admin.headers,
    payload: { permissions: [{ subject: 'users', action: 'read' }] },
  })
  t.equal((await readUsers(app, custom.accessKey)).statusCode, 200, 'and so does giving it back')
})

t.test('a token with tokens permissions manages tokens, as no one', async (t) => {
  const { app, admin } = await setUp(t)
  const keepers = await createRole(app, admin, 'Token managers', tokenPermissions(false))
  const manager = await createToken(app, admin.headers, { name: 'manager', kind: 'custom', roleId: keepers })
  const res = await app.inject({
    method: 'POST',
    url: TOKENS,
    headers: bearer(manager.accessKey),
    payload: { name: 'made by a token', kind: 'delivery' },
  })
  t.equal(res.statusCode, 201)
  t.equal(res.json().data.createdBy, null, 'a token is no user')
  const list = await app.inject({ url: TOKENS, headers: bearer(manager.accessKey) })
  t.equal(list.statusCode, 200)
  t.equal(list.json().meta.total, 2, 'without an own-only limit a token sees every token')
  t.notOk(list.body.includes(manager.accessKey))
})

t.test('refused credentials answer 401', async (t) => {
  const { app, admin } = await setUp(t)
  const unknown = await readUsers(app, UNKNOWN_TOKEN)
  t.equal(unknown.statusCode, 401)
  t.same(unknown.json(), {
    statusCode: 401,
    code: 'GUDANG_ERR_INVALID_TOKEN',
    error: 'Unauthorized',
    message: 'The token was refused: unknown or revoked API token',
  })
  t.equal(unknown.headers['www-authenticate'], 'Bearer error="invalid_token"')

  const malformed = await app.inject({ url: TOKENS, headers: { authorization: `Basic ${UNKNOWN_TOKEN}` } })
  t.equal(malformed.statusCode, 401)
  t.equal(malformed.json().code, 'GUDANG_ERR_INVALID_TOKEN')

  const readers = await createRole(app, admin, 'User readers', [{ subject: 'users', action: 'read' }])
  const soon = new Date(Date.now() + 60_000).toISOString()
  const token = await createToken(app, admin.headers, { name: 'short-lived', kind: 'custom', roleId: readers, expiresAt: soon })
  t.equal((await readUsers(app, token.accessKey)).statusCode, 200, 'works until it expires')
  await app.prisma.apiToken.update({ where: { id: token.id }, data: { expiresAt: new Date(Date.now() - 1000) } })
  const expired = await readUsers(app, token.accessKey)
  t.equal(expired.statusCode, 401)
  t.match(expired.json(), { code: 'GUDANG_ERR_INVALID_TOKEN', message: /expired/ })
  t.equal(expired.headers['www-authenticate'], 'Bearer error="invalid_token"')
  const stillListed = await app.inject({ url: `${TOKENS}/${token.id}`, headers: admin.headers })
  t.equal(stillListed.statusCode, 200, 'an expired token is still there to be seen and regenerated')
})

t.test('when a token was last used is kept to the minute', async (t) => {
  const { app, admin } = await setUp(t)
  const readers = await createRole(app, admin, 'Token readers', [{ subject: 'tokens', action: 'read' }])
  const token = await createToken(app, admin.headers, { name: 'watcher', kind: 'custom', roleId: readers })
  const lastUsed = async () => (await app.prisma.apiToken.findUniqueOrThrow({ where: { id: token.id } })).lastUsedAt
  t.equal(await lastUsed(), null, 'never used')
  const before = await app.inject({ url: `${TOKENS}/${token.id}`, headers: admin.headers })
  t.equal(before.json().data.lastUsedAt, null, 'a user\'s request is no use of the token')

  const start = Date.now()
  const used = await app.inject({ url: TOKENS, headers: bearer(token.accessKey) })
  t.equal(used.statusCode, 200)
  const first = await lastUsed()
  t.ok(first !== null && first.getTime() >= start - 1 && first.getTime() <= Date.now(), 'set by the use')
  t.equal(used.json().data[0].lastUsedAt, first?.toISOString(), 'already shown in the answer to that use')
  const listed = await app.inject({ url: TOKENS, headers: admin.headers })
  t.equal(listed.json().data[0].lastUsedAt, first?.toISOString(), 'and in the list')

  const recent = new Date(Date.now() - 30_000)
  await app.prisma.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: recent } })
  t.equal((await app.inject({ url: TOKENS, headers: bearer(token.accessKey) })).statusCode, 200)
  t.same(await lastUsed(), recent, 'not written again within a minute')

  const old = new Date(Date.now() - 120_000)
  await app.prisma.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: old } })
  t.equal((await app.inject({ url: TOKENS, headers: bearer(token.accessKey) })).statusCode, 200)
  t.ok(((await lastUsed())?.getTime() ?? 0) > recent.getTime(), 'written again after a minute')

  await app.prisma.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: null } })
  t.equal((await app.inject({ url: '/api/admin/users', headers: bearer(token.accessKey) })).statusCode, 403)
  t.not(await lastUsed(), null, 'a refused request is still a use of a valid token')
})

t.test('a revoked token stops working at once', async (t) => {
  const { app, admin } = await setUp(t)
  const readers = await createRole(app, admin, 'User readers', [{ subject: 'users', action: 'read' }])
  const token = await createToken(app, admin.headers, { name: 'doomed', kind: 'custom', roleId: readers })
  const other = await createToken(app, admin.headers, { name: 'survivor', kind: 'custom', roleId: readers })
  t.equal((await readUsers(app, token.accessKey)).statusCode, 200)

  const revoked = await app.inject({ method: 'DELETE', url: `${TOKENS}/${token.id}`, headers: admin.headers })
  t.equal(revoked.statusCode, 204)
  t.equal(revoked.body, '')
  const refused = await readUsers(app, token.accessKey)
  t.equal(refused.statusCode, 401)
  t.equal(refused.json().code, 'GUDANG_ERR_INVALID_TOKEN')
  t.equal(await app.prisma.apiToken.count({ where: { id: token.id } }), 0, 'the row is gone')
  t.equal((await readUsers(app, other.accessKey)).statusCode, 200, 'other tokens keep working')

  const again = await app.inject({ method: 'DELETE', url: `${TOKENS}/${token.id}`, headers: admin.headers })
  t.equal(again.statusCode, 404)
  t.same(again.json(), { statusCode: 404, code: 'GUDANG_ERR_NOT_FOUND', error: 'Not Found', message: 'No such API token' })
  t.equal((await app.inject({ url: `${TOKENS}/${token.id}`, headers: admin.headers })).statusCode, 404)
  const list = await app.inject({ url: TOKENS, headers: admin.headers })
  t.same(list.json().data.map((listed: { id: string }) => listed.id), [other.id])
})

t.test('a regenerated token has a new value and keeps everything else', async (t) => {
  const { app, admin } = await setUp(t)
  const readers = await createRole(app, admin, 'User readers', [{ subject: 'users', action: 'read' }])
  const expiresAt = new Date(Date.now() + 3_600_000).toISOString()
  const token = await createToken(app, admin.headers, {
    name: 'rotating', description: 'rotated monthly', kind: 'custom', roleId: readers, expiresAt,
  })
  t.equal((await readUsers(app, token.accessKey)).statusCode, 200)
  const oldHash = (await app.prisma.apiToken.findUniqueOrThrow({ where: { id: token.id } })).tokenHash

  const res = await app.inject({ method: 'POST', url: `${TOKENS}/${token.id}/regenerate`, headers: admin.headers })
  t.equal(res.statusCode, 200)
  const regenerated = res.json().data
  t.same(Object.keys(regenerated).sort(), [...TOKEN_KEYS, 'accessKey'].sort())
  t.match(regenerated.accessKey, /^gdt_[\w-]{43}$/)
  t.not(regenerated.accessKey, token.accessKey)
  t.equal(regenerated.hint, `${regenerated.accessKey.slice(0, 8)}…${regenerated.accessKey.slice(-4)}`)
  const { accessKey, hint, updatedAt, lastUsedAt, ...kept } = token
  t.match(regenerated, { ...kept, expiresAt, role: { id: readers, name: 'User readers' } }, 'same id and settings')
  t.ok(new Date(regenerated.updatedAt).getTime() >= new Date(updatedAt).getTime())
  t.not(regenerated.lastUsedAt, null, 'when it was last used is kept')
  t.equal(lastUsedAt, null)
  t.not(hint, regenerated.hint)
  const row = await app.prisma.apiToken.findUniqueOrThrow({ where: { id: token.id } })
  t.not(row.tokenHash, oldHash, 'a new hash is kept')
  t.not(row.tokenHash, regenerated.accessKey)
  t.equal(await app.prisma.apiToken.count(), 1, 'no second token was made')

  const old = await readUsers(app, accessKey)
  t.equal(old.statusCode, 401, 'the old value stops working at once')
  t.equal(old.json().code, 'GUDANG_ERR_INVALID_TOKEN')
  t.equal((await readUsers(app, regenerated.accessKey)).statusCode, 200, 'the new one works')
  const read = await app.inject({ url: `${TOKENS}/${token.id}`, headers: admin.headers })
  t.notOk(read.body.includes(regenerated.accessKey), 'and is not shown again')
  t.notOk(read.body.includes(row.tokenHash))
  t.equal(read.json().data.hint, regenerated.hint)

  const missing = await app.inject({ method: 'POST', url: `${TOKENS}/${randomUUID()}/regenerate`, headers: admin.headers })
  t.equal(missing.statusCode, 404)
  t.same(missing.json(), { statusCode: 404, code: 'GUDANG_ERR_NOT_FOUND', error: 'Not Found', message: 'No such API token' })
})

t.test('with own-only permissions a user sees and manages only the tokens they made', async (t) => {
  const { app, admin } = await setUp(t)
  const keepers = await createRole(app, admin, 'Token keepers', tokenPermissions(true))
  const a = await signInAs(app, admin, 'Token keepers')
  const b = await signInAs(app, admin, 'Token keepers')
  const ofA = await createToken(app, a.headers, { name: 'of A', kind: 'delivery' })
  t.same(ofA.createdBy, { id: a.user.id, displayName: 'Token keepers' })
  const ofAdmin = await createToken(app, admin.headers, { name: 'of the administrator', kind: 'full' })

  const listOfB = await app.inject({ url: TOKENS, headers: b.headers })
  t.equal(listOfB.statusCode, 200)
  t.same(listOfB.json(), { data: [], meta: { page: 1, pageSize: 25, total: 0 } })
  const listOfA = await app.inject({ url: TOKENS, headers: a.headers })
  t.same(listOfA.json().meta, { page: 1, pageSize: 25, total: 1 })
  t.same(listOfA.json().data.map((token: { id: string }) => token.id), [ofA.id])

  const hashes = () => app.prisma.apiToken.findMany({ select: { id: true, tokenHash: true }, orderBy: { id: 'asc' } })
  const before = await hashes()
  const notFound = { statusCode: 404, code: 'GUDANG_ERR_NOT_FOUND', error: 'Not Found', message: 'No such API token' }
  for (const [caller, token] of [[b, ofA], [a, ofAdmin], [b, ofAdmin]] as const) {
    for (const request of [
      { method: 'GET', url: `${TOKENS}/${token.id}` },
      { method: 'POST', url: `${TOKENS}/${token.id}/regenerate` },
      { method: 'DELETE', url: `${TOKENS}/${token.id}` },
    ] as const) {
      const res = await app.inject({ ...request, headers: caller.headers })
      t.equal(res.statusCode, 404, `${request.method} ${token.name} as another user`)
      t.same(res.json(), notFound, 'answered like a missing token, not 403')
    }
  }
  t.same(await hashes(), before, 'nothing was regenerated or deleted')

  const adminList = await app.inject({ url: TOKENS, headers: admin.headers })
  t.same(adminList.json().data.map((token: { id: string }) => token.id), [ofA.id, ofAdmin.id], 'the administrator sees all')
  t.equal(adminList.json().meta.total, 2)

  t.equal((await app.inject({ url: `${TOKENS}/${ofA.id}`, headers: a.headers })).statusCode, 200, 'A reads their own')
  const regenerated = await app.inject({ method: 'POST', url: `${TOKENS}/${ofA.id}/regenerate`, headers: a.headers })
  t.equal(regenerated.statusCode, 200, 'A regenerates their own')
  t.not(regenerated.json().data.accessKey, ofA.accessKey)
  const ofB = await createToken(app, b.headers, { name: 'of B', kind: 'preview' })
  t.same(ofB.createdBy, { id: b.user.id, displayName: 'Token keepers' })
  const listedForB = (await app.inject({ url: TOKENS, headers: b.headers })).json().data
  t.same(listedForB.map((token: { id: string }) => token.id), [ofB.id], 'B sees their own')
  t.equal((await app.inject({ method: 'DELETE', url: `${TOKENS}/${ofA.id}`, headers: a.headers })).statusCode, 204, 'A deletes their own')
  t.equal(await app.prisma.apiToken.count({ where: { id: ofA.id } }), 0)

  // An own-only permission needs an owner, and an API token owns nothing.
  const keeperToken = await createToken(app, admin.headers, { name: 'keeper token', kind: 'custom', roleId: keepers })
  for (const request of [
    { method: 'GET', url: TOKENS, action: 'read' },
    { method: 'GET', url: `${TOKENS}/${ofB.id}`, action: 'read' },
    { method: 'POST', url: TOKENS, action: 'create', payload: { name: 'x', kind: 'delivery' } },
    { method: 'POST', url: `${TOKENS}/${ofB.id}/regenerate`, action: 'update' },
    { method: 'DELETE', url: `${TOKENS}/${ofB.id}`, action: 'delete' },
  ] as const) {
    const { action, ...rest } = request
    const res = await app.inject({ ...rest, headers: bearer(keeperToken.accessKey) })
    t.equal(res.statusCode, 403, `${request.method} ${request.url} with an API token`)
    t.match(res.json(), { code: 'GUDANG_ERR_FORBIDDEN', details: { subject: 'tokens', action } })
  }
  t.same((await hashes()).map((token) => token.id).sort(), [ofAdmin.id, ofB.id, keeperToken.id].sort(), 'the API token made and deleted nothing')
})

t.test('a user may not give a token more than their own role allows', async (t) => {
  const { app, admin } = await setUp(t)
  await createRole(app, admin, 'Token keepers', tokenPermissions(true))
  const keeper = await signInAs(app, admin, 'Token keepers')
  const administrator = await roleId(app, admin, 'administrator')
  for (const payload of [
    { name: 'escalated', kind: 'custom', roleId: administrator },
    { name: 'all content', kind: 'full' },
  ]) {
    const res = await app.inject({ method: 'POST', url: TOKENS, headers: keeper.headers, payload })
    t.equal(res.statusCode, 403, payload.name)
    t.match(res.json(), { code: 'GUDANG_ERR_FORBIDDEN', message: /You cannot grant permissions you do not hold/ })
  }
  const full = await app.inject({ method: 'POST', url: TOKENS, headers: keeper.headers, payload: { name: 'f', kind: 'full' } })
  t.ok(full.json().details.permissions.includes('content:*:update'), 'the answer names what is not held')
  t.equal(await app.prisma.apiToken.count(), 0, 'no token was made')
  const delivery = await app.inject({ method: 'POST', url: TOKENS, headers: keeper.headers, payload: { name: 'd', kind: 'delivery' } })
  t.equal(delivery.statusCode, 201, 'a token within the role is made')
})

t.test('ids, missing tokens and callers without the permission', async (t) => {
  const { app, admin } = await setUp(t)
  const token = await createToken(app, admin.headers, { name: 'kept', kind: 'delivery' })
  const routes = (id: string) => [
    { method: 'GET', url: `${TOKENS}/${id}` },
    { method: 'POST', url: `${TOKENS}/${id}/regenerate` },
    { method: 'DELETE', url: `${TOKENS}/${id}` },
  ] as const

  for (const request of routes('not-a-uuid')) {
    const res = await app.inject({ ...request, headers: admin.headers })
    t.equal(res.statusCode, 400, `${request.method} ${request.url}`)
    t.match(res.json(), { code: 'GUDANG_ERR_VALIDATION', details: [{ in: 'params', path: '/id' }] })
  }
  for (const request of routes(randomUUID())) {
    const res = await app.inject({ ...request, headers: admin.headers })
    t.equal(res.statusCode, 404, `${request.method} a missing token`)
    t.equal(res.json().code, 'GUDANG_ERR_NOT_FOUND')
  }

  const editor = await signInAs(app, admin, 'editor')
  const every = [
    { method: 'GET', url: TOKENS },
    { method: 'POST', url: TOKENS, payload: { name: 'x', kind: 'delivery' } },
    ...routes(token.id),
  ] as const
  for (const request of every) {
    const anonymous = await app.inject(request)
    t.equal(anonymous.statusCode, 401, `${request.method} ${request.url} without credentials`)
    t.same(anonymous.json(), {
      statusCode: 401,
      code: 'GUDANG_ERR_UNAUTHENTICATED',
      error: 'Unauthorized',
      message: 'Authentication required: send Authorization: Bearer <access token or API token>',
    })
    t.equal(anonymous.headers['www-authenticate'], 'Bearer')

    const forbidden = await app.inject({ ...request, headers: editor.headers })
    t.equal(forbidden.statusCode, 403, `${request.method} ${request.url} as an editor`)
    t.match(forbidden.json(), { code: 'GUDANG_ERR_FORBIDDEN', details: { subject: 'tokens' } })
  }
  const row = await app.prisma.apiToken.findUniqueOrThrow({ where: { id: token.id } })
  t.equal(row.hint, token.hint, 'the token was not regenerated')
  t.equal(await app.prisma.apiToken.count(), 1, 'nor deleted, nor another made')
})

t.test('nobody regenerates, revokes or makes a token that can do more than they can', async (t) => {
  const { app, admin } = await setUp(t)
  await createRole(app, admin, 'Token keepers', tokenPermissions(false))
  const keeper = await signInAs(app, admin, 'Token keepers')
  const powerful = await createToken(app, admin.headers, { name: 'admin token', kind: 'custom', roleId: await roleId(app, admin, 'administrator') })
  const before = await app.prisma.apiToken.findUniqueOrThrow({ where: { id: powerful.id } })
  const regenerate = await app.inject({ method: 'POST', url: `${TOKENS}/${powerful.id}/regenerate`, headers: keeper.headers })
  t.equal(regenerate.statusCode, 403, 'its value would hand over the administrator\'s power')
  t.match(regenerate.json(), { code: 'GUDANG_ERR_FORBIDDEN', details: { permissions: Array } })
  t.notOk(regenerate.body.includes('gdt_'))
  const revoke = await app.inject({ method: 'DELETE', url: `${TOKENS}/${powerful.id}`, headers: keeper.headers })
  t.equal(revoke.statusCode, 403)
  t.same(await app.prisma.apiToken.findUniqueOrThrow({ where: { id: powerful.id } }), before, 'the token is untouched')

  // Reading drafts is a power of its own: users have it, delivery and custom tokens do not.
  const manager = await createToken(app, admin.headers, {
    name: 'token manager',
    kind: 'custom',
    roleId: await roleId(app, admin, 'Token keepers'),
  })
  const preview = await app.inject({ method: 'POST', url: TOKENS, headers: bearer(manager.accessKey), payload: { name: 'p', kind: 'preview' } })
  t.equal(preview.statusCode, 403)
  t.match(preview.json(), { code: 'GUDANG_ERR_FORBIDDEN', details: { permissions: ['drafts'] } })
  const byUser = await app.inject({ method: 'POST', url: TOKENS, headers: keeper.headers, payload: { name: 'p', kind: 'preview' } })
  t.equal(byUser.statusCode, 201, 'a user with the same role may: users read drafts')
  t.equal(byUser.headers['cache-control'], 'no-store', 'an answer holding a token value is not cached')
})

t.test('ids PostgreSQL cannot read, and text it cannot store, answer 400', async (t) => {
  const { app, admin } = await setUp(t)
  const urn = await app.inject({ url: `${TOKENS}/urn:uuid:00000000-0000-0000-0000-000000000000`, headers: admin.headers })
  t.equal(urn.statusCode, 400)
  t.match(urn.json(), { code: 'GUDANG_ERR_VALIDATION', details: [{ in: 'params', path: '/id' }] })
  const nul = await app.inject({ method: 'POST', url: TOKENS, headers: admin.headers, payload: { name: 'a\u0000b', kind: 'delivery' } })
  t.equal(nul.statusCode, 400)
  t.match(nul.json(), { code: 'GUDANG_ERR_VALIDATION', message: /A value cannot be stored/ })
  t.equal(await app.prisma.apiToken.count(), 0)
})
