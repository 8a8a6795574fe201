import { createHmac } from 'node:crypto'
import t from 'tap'
import { assertWritableFields, exceededPermissions, readableFields } from '../../../src/services/access-control.js'
import { bearer, build, buildWithAdmin, login, roleId, signInAs } from '../../helper.js'

type App = Awaited<ReturnType<typeof build>>

/**
 * Row-owned content arrives with the entries API; until then these routes stand in for it: a
 * `notes` table whose rows record their creator, guarded like entries will be.
 */
function addNotes(app: App): void {
  app.addHook('onReady', async () => {
    await app.prisma.$executeRawUnsafe(
      'CREATE TABLE notes (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), created_by_id uuid NOT NULL, data jsonb NOT NULL)',
    )
  })
  type Note = { id: string, data: Record<string, unknown> }
  app.post('/api/admin/notes', { config: { access: { subject: 'content:note', action: 'create' } } }, async (request, reply) => {
    const data = request.body as Record<string, unknown>
    assertWritableFields(request.grant, data)
    const userId = request.principal.kind === 'user' ? request.principal.userId : null
    const [note] = await app.prisma.$queryRaw<Note[]>`
      INSERT INTO notes (created_by_id, data) VALUES (${userId}::uuid, ${JSON.stringify(data)}::jsonb) RETURNING id, data`
    return reply.status(201).send({ data: note })
  })
  app.get('/api/admin/notes/:id', { config: { access: { subject: 'content:note', action: 'read' } } }, async (request, reply) => {
    const { id } = request.params as { id: string }
    const owner = request.grant.where.createdById ?? null
    const [note] = await app.prisma.$queryRaw<Note[]>`
      SELECT id, data FROM notes WHERE id = ${id}::uuid AND (${owner}::uuid IS NULL OR created_by_id = ${owner}::uuid)`
    if (note === undefined) return reply.status(404).send({ code: 'GUDANG_ERR_NOT_FOUND' })
    return { data: { id: note.id, data: readableFields(request.grant, note.data) } }
  })
  app.patch('/api/admin/notes/:id', { config: { access: { subject: 'content:note', action: 'update' } } }, async (request, reply) => {
    const { id } = request.params as { id: string }
    const data = request.body as Record<string, unknown>
    assertWritableFields(request.grant, data)
    const owner = request.grant.where.createdById ?? null
    const updated = await app.prisma.$executeRaw`
      UPDATE notes SET data = data || ${JSON.stringify(data)}::jsonb
      WHERE id = ${id}::uuid AND (${owner}::uuid IS NULL OR created_by_id = ${owner}::uuid)`
    return updated === 0 ? reply.status(404).send({ code: 'GUDANG_ERR_NOT_FOUND' }) : { data: { id } }
  })
  app.post('/api/admin/notes/:id/publish', { config: { access: { subject: 'content:note', action: 'publish' } } }, async () => ({
    data: { published: true },
  }))
}

/** An HS256 (or unsigned) JWT made by hand, the way an attacker would. */
function jwt(payload: object, secret: string, alg = 'HS256'): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const unsigned = `${encode({ alg, typ: 'JWT' })}.${encode(payload)}`
  if (alg === 'none') return `${unsigned}.`
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`
}

t.test('a route that declares no access stops the app from starting', async (t) => {
  const app = await build(t)
  app.register(async (feature) => {
    feature.get('/forgotten', async () => ({ open: true }))
  }, { prefix: '/api/admin' })
  await t.rejects(async () => app.ready(), /GET \/api\/admin\/forgotten declares no config.access/)
})

t.test('wherever it is', async (t) => {
  const app = await build(t)
  app.register(async (feature) => {
    feature.get('/:id', async () => ({ open: true }))
  }, { prefix: '/assets' })
  await t.rejects(async () => app.ready(), /GET \/assets\/:id declares no config.access/)
})

t.test('an anonymous request is turned away before its body is read or validated', async (t) => {
  const app = await buildWithAdmin(t)
  const res = await app.inject({ method: 'POST', url: '/api/admin/users', payload: { not: 'a user' } })
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'GUDANG_ERR_UNAUTHENTICATED')
  const bad = await app.inject({ method: 'PATCH', url: '/api/admin/users/xyz', payload: '{not json' })
  t.equal(bad.statusCode, 401)
})

t.test('an own-only permission of the Public role admits nobody anonymous: they own nothing', async (t) => {
  const app = await buildWithAdmin(t)
  addNotes(app)
  const admin = await login(app)
  const created = await app.inject({ method: 'POST', url: '/api/admin/notes', headers: admin.headers, payload: { title: 'Hi' } })
  await app.inject({
    method: 'PATCH',
    url: `/api/admin/roles/${await roleId(app, admin, 'public')}`,
    headers: admin.headers,
    payload: { permissions: [{ subject: 'content:note', action: 'read', ownOnly: true }] },
  })
  const res = await app.inject({ url: `/api/admin/notes/${created.json().data.id}` })
  t.equal(res.statusCode, 401)
  t.equal(res.headers['www-authenticate'], 'Bearer')
})

t.test('no credentials: 401; credentials without the permission: 403; the Public role grants anonymous access', async (t) => {
  const app = await buildWithAdmin(t)
  addNotes(app)
  const admin = await login(app)
  const created = await app.inject({ method: 'POST', url: '/api/admin/notes', headers: admin.headers, payload: { title: 'Hi' } })
  t.equal(created.statusCode, 201)
  const note = `/api/admin/notes/${created.json().data.id}`

  const anonymous = await app.inject({ url: note })
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.headers['www-authenticate'], 'Bearer')
  t.equal(anonymous.json().code, 'GUDANG_ERR_UNAUTHENTICATED')

  const delivery = await app.inject({
    method: 'POST',
    url: '/api/admin/tokens',
    headers: admin.headers,
    payload: { name: 'site', kind: 'delivery' },
  })
  const token = bearer(delivery.json().data.accessKey)
  t.equal((await app.inject({ url: note, headers: token })).statusCode, 200, 'a delivery token reads content')
  const write = await app.inject({ method: 'PATCH', url: note, headers: token, payload: { title: 'Defaced' } })
  t.equal(write.statusCode, 403)
  t.match(write.json(), {
    code: 'GUDANG_ERR_FORBIDDEN',
    message: 'Missing permission content:note:update',
    details: { subject: 'content:note', action: 'update' },
  })

  const publicRole = await roleId(app, admin, 'public')
  const grant = await app.inject({
    method: 'PATCH',
    url: `/api/admin/roles/${publicRole}`,
    headers: admin.headers,
    payload: { permissions: [{ subject: 'content:note', action: 'read' }] },
  })
  t.equal(grant.statusCode, 200)
  t.equal((await app.inject({ url: note })).statusCode, 200, 'anonymous reads once Public may')
  const users = await app.inject({
    method: 'PATCH',
    url: `/api/admin/roles/${publicRole}`,
    headers: admin.headers,
    payload: { permissions: [{ subject: 'content:note', action: 'read' }, { subject: 'users', action: 'read' }] },
  })
  t.equal(users.statusCode, 400, 'the Public role gets content and media only')
  t.match(users.json().details, [{ path: '/permissions/1/subject', message: /content and media only/ }])
  t.equal((await app.inject({ method: 'PATCH', url: note, payload: { title: 'x' } })).statusCode, 401)
})

t.test('an Author edits only their own entries (another\'s answers 404) and cannot publish (403)', async (t) => {
  const app = await buildWithAdmin(t)
  addNotes(app)
  const admin = await login(app)
  const [ann, bob, editor] = [
    await signInAs(app, admin, 'author'),
    await signInAs(app, admin, 'author'),
    await signInAs(app, admin, 'editor'),
  ]
  const created = await app.inject({ method: 'POST', url: '/api/admin/notes', headers: ann.headers, payload: { title: 'Ann\'s' } })
  t.equal(created.statusCode, 201)
  const note = `/api/admin/notes/${created.json().data.id}`

  const others = await app.inject({ method: 'PATCH', url: note, headers: bob.headers, payload: { title: 'Bob was here' } })
  t.equal(others.statusCode, 404, 'the row limit is part of the query: another author\'s entry is not found')
  t.equal((await app.inject({ url: note, headers: bob.headers })).statusCode, 200, 'authors read every entry')
  t.equal((await app.inject({ method: 'PATCH', url: note, headers: ann.headers, payload: { title: 'Mine' } })).statusCode, 200)
  t.equal((await app.inject({ method: 'PATCH', url: note, headers: editor.headers, payload: { title: 'Edited' } })).statusCode, 200)
  t.same((await app.inject({ url: note, headers: bob.headers })).json().data.data, { title: 'Edited' })

  const publish = await app.inject({ method: 'POST', url: `${note}/publish`, headers: ann.headers })
  t.equal(publish.statusCode, 403)
  t.match(publish.json(), { code: 'GUDANG_ERR_FORBIDDEN', details: { subject: 'content:note', action: 'publish' } })
  t.equal((await app.inject({ method: 'POST', url: `${note}/publish`, headers: editor.headers })).statusCode, 200)
})

t.test('field allow-lists shape what is read and refuse writes to other fields; a type\'s own rule wins', async (t) => {
  const app = await buildWithAdmin(t)
  addNotes(app)
  const admin = await login(app)
  const created = await app.inject({
    method: 'POST',
    url: '/api/admin/notes',
    headers: admin.headers,
    payload: { title: 'Draft', body: 'Secret body', price: 3 },
  })
  const note = `/api/admin/notes/${created.json().data.id}`
  const role = await app.inject({
    method: 'POST',
    url: '/api/admin/roles',
    headers: admin.headers,
    payload: {
      name: 'Proofreader',
      permissions: [
        { subject: 'content:*', action: 'read' },
        { subject: 'content:note', action: 'read', fields: ['title', 'body'] },
        { subject: 'content:note', action: 'update', fields: ['title'] },
      ],
    },
  })
  t.equal(role.statusCode, 201, role.body)
  const proofreader = await signInAs(app, admin, 'Proofreader')

  t.same((await app.inject({ url: note, headers: proofreader.headers })).json().data.data, { title: 'Draft', body: 'Secret body' })
  const forbidden = await app.inject({
    method: 'PATCH',
    url: note,
    headers: proofreader.headers,
    payload: { title: 'Final', body: 'Rewritten', price: 0 },
  })
  t.equal(forbidden.statusCode, 403)
  t.match(forbidden.json(), { code: 'GUDANG_ERR_FORBIDDEN', details: { fields: ['body', 'price'] } })
  t.same((await app.inject({ url: note, headers: admin.headers })).json().data.data, {
    title: 'Draft',
    body: 'Secret body',
    price: 3,
  }, 'the refused write changed nothing')
  t.equal((await app.inject({ method: 'PATCH', url: note, headers: proofreader.headers, payload: { title: 'Final' } })).statusCode, 200)
})

t.test('forged, unsigned, expired and malformed access tokens are refused', async (t) => {
  const secret = 'a-test-secret-that-is-long-enough-0123456789'
  const app = await buildWithAdmin(t, { GUDANG_JWT_SECRET: secret })
  const admin = await login(app)
  const me = (authorization: string) => app.inject({ url: '/auth/me', headers: { authorization } })
  t.equal((await me(`Bearer ${admin.accessToken}`)).statusCode, 200)
  const [, payload] = admin.accessToken.split('.')
  const claims = JSON.parse(Buffer.from(String(payload), 'base64url').toString())
  const now = Math.floor(Date.now() / 1000)

  t.equal((await me(`Bearer ${jwt(claims, secret)}`)).statusCode, 200, 'the hand-made token is right when signed right')
  const cases: [string, string, RegExp][] = [
    ['forged', jwt(claims, 'another secret that is long enough too'), /not valid/],
    ['unsigned (alg none)', jwt(claims, secret, 'none'), /not valid/],
    ['expired', jwt({ ...claims, iat: now - 120, exp: now - 60 }, secret), /expired/],
    ['garbage', 'not-a-jwt', /not valid/],
  ]
  for (const [name, token, reason] of cases) {
    const res = await me(`Bearer ${token}`)
    t.equal(res.statusCode, 401, name)
    t.equal(res.json().code, 'GUDANG_ERR_INVALID_TOKEN', name)
    t.match(res.json().message, reason, name)
    t.equal(res.headers['www-authenticate'], 'Bearer error="invalid_token"', name)
  }
  const basic = await me('Basic YWRtaW46YWRtaW4=')
  t.equal(basic.statusCode, 401)
  t.match(basic.json(), { code: 'GUDANG_ERR_INVALID_TOKEN', message: /Bearer/ })
  const otherUser = await me(`Bearer ${jwt({ ...claims, sub: '0195f0a0-0000-7000-8000-000000000000' }, secret)}`)
  t.equal(otherUser.statusCode, 401, 'a token whose user is not the session\'s is refused')
})

t.test('a signing key that cannot be read is an outage (500), not a bad token; it is read again next time', async (t) => {
  const app = await build(t, { GUDANG_MIGRATE_ON_START: false })
  const token = jwt({ sub: 'x', sid: 'y', exp: Math.floor(Date.now() / 1000) + 60 }, 'whatever secret it may be')
  for (const attempt of [1, 2]) {
    const res = await app.inject({ url: '/auth/me', headers: bearer(token) })
    t.equal(res.statusCode, 500, `attempt ${attempt}`)
    t.equal(res.json().code, 'GUDANG_ERR_INTERNAL_SERVER_ERROR')
  }
})

t.test('the generated signing key is kept in the database and shared by every instance', async (t) => {
  const app = await buildWithAdmin(t)
  const admin = await login(app)
  const stored = await app.prisma.systemSecret.findUniqueOrThrow({ where: { name: 'jwt' } })
  t.ok(stored.value.length >= 64)
  const [header, payload, signature] = admin.accessToken.split('.')
  t.equal(createHmac('sha256', stored.value).update(`${header}.${payload}`).digest('base64url'), signature)
  t.equal(JSON.parse(Buffer.from(String(header), 'base64url').toString()).alg, 'HS256')
})

t.test('routes for signed-in users refuse API tokens (403) and anonymous requests (401)', async (t) => {
  const app = await buildWithAdmin(t)
  const admin = await login(app)
  const token = await app.inject({
    method: 'POST',
    url: '/api/admin/tokens',
    headers: admin.headers,
    payload: { name: 'full', kind: 'full' },
  })
  const res = await app.inject({ url: '/auth/me', headers: bearer(token.json().data.accessKey) })
  t.equal(res.statusCode, 403)
  t.match(res.json(), { code: 'GUDANG_ERR_FORBIDDEN', message: 'Only a signed-in user may do this' })
  t.equal((await app.inject({ url: '/auth/me' })).statusCode, 401)
  t.equal((await app.inject({ url: '/api/admin/users', headers: bearer(token.json().data.accessKey) })).statusCode, 403)
})

t.test('OpenAPI documents the security scheme and the access of every route', async (t) => {
  const app = await build(t)
  const doc = (await app.inject({ url: '/docs/json' })).json()
  t.match(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer' })
  const listUsers = doc.paths['/api/admin/users/'].get
  t.same(listUsers.security, [{ bearerAuth: [] }])
  t.match(listUsers.description, /Requires permission `users:read`/)
  t.same(listUsers['x-gudang-access'], { subject: 'users', action: 'read' })
  t.ok(listUsers.responses['401'] && listUsers.responses['403'], 'the refusals are documented')
  t.match(doc.paths['/auth/me'].get.description, /Requires a signed-in user/)
  t.same(doc.paths['/auth/login'].post.security, [], 'login needs no token')
  for (const [path, operations] of Object.entries<Record<string, { security?: unknown }>>(doc.paths)) {
    if (!/^\/(api|auth)\//.test(path)) continue
    for (const [method, operation] of Object.entries(operations)) {
      t.ok(operation.security !== undefined, `${method.toUpperCase()} ${path} documents its access`)
    }
  }
  t.notMatch(JSON.stringify(doc), /passwordHash|tokenHash/, 'no schema mentions a hash')
})

t.test('what a set of permissions holds beyond another', async (t) => {
  const rule = (subject: string, action: string, ownOnly = false, fields: string[] = []) =>
    ({ subject, action, ownOnly, fields })
  const admin = ['read', 'create', 'update', 'delete', 'publish'].map((action) => rule('*', action))
  t.same(exceededPermissions(admin, [rule('content:*', 'publish'), rule('users', 'delete')]), [], '* holds everything')
  t.same(exceededPermissions([rule('content:*', 'read')], [rule('content:article', 'read')]), [])
  t.same(exceededPermissions([rule('content:article', 'read')], [rule('content:*', 'read')]), ['content:*:read'])
  t.same(exceededPermissions([rule('content:*', 'update', true)], [rule('content:*', 'update')]), ['content:*:update'], 'all rows exceed own rows')
  t.same(exceededPermissions([rule('content:*', 'update', true)], [rule('content:*', 'update', true)]), [])
  t.same(exceededPermissions([rule('content:*', 'update')], [rule('content:*', 'update', true)]), [])
  const titles = [rule('content:*', 'read'), rule('content:note', 'read', false, ['title'])]
  t.same(exceededPermissions(titles, [rule('content:*', 'read')]), ['content:note:read'], 'a narrowed type stays narrowed')
  t.same(exceededPermissions(titles, [rule('content:note', 'read', false, ['title', 'body'])]), ['content:note:read'])
  t.same(exceededPermissions(titles, [rule('content:note', 'read', false, ['title'])]), [])
  const everything = [
    'content-types:read', 'content:*:read', 'media:read', 'roles:read', 'settings:read', 'tokens:read', 'users:read', 'webhooks:read',
  ]
  t.same(exceededPermissions([], [rule('*', 'read')]).sort(), everything)
  t.same(exceededPermissions([], [rule('*', 'publish')]), ['content:*:publish'], 'only content is published')
})

t.test('nobody hands out more than they hold: user managers cannot make or touch administrators', async (t) => {
  const app = await buildWithAdmin(t)
  const admin = await login(app)
  const managers = await app.inject({
    method: 'POST',
    url: '/api/admin/roles',
    headers: admin.headers,
    payload: {
      name: 'User managers',
      permissions: [
        ...['read', 'create', 'update', 'delete'].map((action) => ({ subject: 'users', action })),
        ...['read', 'create', 'update', 'delete'].map((action) => ({ subject: 'roles', action })),
        ...['read', 'create', 'update', 'delete', 'publish'].map((action) => ({ subject: 'content:*', action })),
        ...['read', 'create', 'update', 'delete'].map((action) => ({ subject: 'media', action })),
      ],
    },
  })
  t.equal(managers.statusCode, 201, managers.body)
  const manager = await signInAs(app, admin, 'User managers')
  const administrator = await roleId(app, admin, 'administrator')
  const editor = await roleId(app, admin, 'editor')

  const newAdmin = await app.inject({
    method: 'POST',
    url: '/api/admin/users',
    headers: manager.headers,
    payload: { email: 'mallory@example.com', displayName: 'M', password: 'a long enough password', roleId: administrator },
  })
  t.equal(newAdmin.statusCode, 403)
  t.match(newAdmin.json(), { code: 'GUDANG_ERR_FORBIDDEN', message: /tokens:read/ })
  t.ok(newAdmin.json().details.permissions.includes('settings:update'))
  const takeover = await app.inject({
    method: 'PATCH',
    url: `/api/admin/users/${admin.user.id}`,
    headers: manager.headers,
    payload: { password: 'i own you now, admin' },
  })
  t.equal(takeover.statusCode, 403, 'an administrator is out of a user manager\'s reach')
  await login(app)
  const promote = await app.inject({
    method: 'PATCH',
    url: `/api/admin/users/${manager.user.id}`,
    headers: manager.headers,
    payload: { roleId: administrator },
  })
  t.equal(promote.statusCode, 403, 'nor can they promote themselves')
  t.equal((await app.inject({ method: 'DELETE', url: `/api/admin/users/${admin.user.id}`, headers: manager.headers })).statusCode, 403)
  const grantSelf = await app.inject({
    method: 'POST',
    url: '/api/admin/roles',
    headers: manager.headers,
    payload: { name: 'Escalated', permissions: [{ subject: 'settings', action: 'update' }] },
  })
  t.equal(grantSelf.statusCode, 403)
  t.match(grantSelf.json().details, { permissions: ['settings:update'] })
  const editors = await app.inject({
    method: 'PATCH',
    url: `/api/admin/roles/${editor}`,
    headers: manager.headers,
    payload: { permissions: [{ subject: 'tokens', action: 'create' }] },
  })
  t.equal(editors.statusCode, 403, 'a role cannot be changed into one holding more than the caller')

  const editorUser = await app.inject({
    method: 'POST',
    url: '/api/admin/users',
    headers: manager.headers,
    payload: { email: 'ed@example.com', displayName: 'Ed', password: 'a long enough password', roleId: editor },
  })
  t.equal(editorUser.statusCode, 201, 'a role within theirs can be given')
})
