import { randomUUID } from 'node:crypto'
import type { LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { ADMIN, bearer, build, buildWithAdmin, login, onPostgres, roleId, type SignedIn, signInAs } from '../helper.js'

type App = Awaited<ReturnType<typeof buildWithAdmin>>

const PASSWORD = 'a long enough password'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

/** The first administrator, signed in, on an app of the test's own. */
async function setup(t: Test): Promise<{ app: App, admin: SignedIn }> {
  const app = await buildWithAdmin(t)
  return { app, admin: await login(app) }
}

/** POST /api/admin/users; `role` (a built-in key or a role name) is looked up unless `roleId` is given. */
async function createUser(
  app: App,
  caller: SignedIn,
  { role = 'editor', ...fields }: { role?: string } & Record<string, unknown> = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/api/admin/users',
    headers: caller.headers,
    payload: {
      email: `user-${randomUUID()}@example.com`,
      displayName: 'Someone',
      password: PASSWORD,
      roleId: fields.roleId ?? await roleId(app, caller, role),
      ...fields,
    },
  })
}

/** Creates a user, failing the test unless it answers 201; their data. */
async function newUser(app: App, admin: SignedIn, fields: { role?: string } & Record<string, unknown> = {}) {
  const res = await createUser(app, admin, fields)
  if (res.statusCode !== 201) throw new Error(`creating a user answered ${res.statusCode}: ${res.body}`)
  return res.json().data as { id: string, email: string }
}

/** Asserts that no password hash left the server in this answer. */
function noPasswordHash(t: Test, res: LightMyRequestResponse): void {
  t.notOk(res.body.includes('passwordHash'), 'no passwordHash in the body')
  t.notOk(res.body.includes('scrypt'), 'no scrypt hash in the body')
}

function patch(app: App, caller: SignedIn, id: string, payload: Record<string, unknown>) {
  return app.inject({ method: 'PATCH', url: `/api/admin/users/${id}`, headers: caller.headers, payload })
}

function getUser(app: App, caller: SignedIn, id: string) {
  return app.inject({ url: `/api/admin/users/${id}`, headers: caller.headers })
}

function me(app: App, accessToken: string) {
  return app.inject({ url: '/auth/me', headers: bearer(accessToken) })
}

function refresh(app: App, refreshToken: string) {
  return app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken } })
}

function tryLogin(app: App, email: string, password: string) {
  return app.inject({ method: 'POST', url: '/auth/login', payload: { email, password } })
}

/** Asserts that a signed-in user's access token and refresh token both stopped working. */
async function assertSessionEnded(t: Test, app: App, session: SignedIn): Promise<void> {
  const res = await me(app, session.accessToken)
  t.equal(res.statusCode, 401, 'the access token is refused')
  t.equal(res.json().code, 'GUDANG_ERR_INVALID_TOKEN')
  t.match(res.json().message, /session has ended/)
  const refreshed = await refresh(app, session.refreshToken)
  t.equal(refreshed.statusCode, 401, 'the refresh token is refused')
  t.equal(refreshed.json().code, 'GUDANG_ERR_INVALID_TOKEN')
}

t.test('GET /api/admin/users lists users a page at a time', async (t) => {
  const { app, admin } = await setup(t)
  const second = await newUser(app, admin, { displayName: 'Second' })
  const third = await newUser(app, admin, { displayName: 'Third', role: 'author' })

  const all = await app.inject({ url: '/api/admin/users', headers: admin.headers })
  t.equal(all.statusCode, 200)
  t.same(all.json().meta, { page: 1, pageSize: 25, total: 3 }, 'page 1 of 25 by default')
  t.same(all.json().data.map((u: { id: string }) => u.id), [admin.user.id, second.id, third.id], 'oldest first')
  t.match(all.json().data[0], {
    id: admin.user.id,
    email: ADMIN.email,
    displayName: 'Administrator',
    isActive: true,
    role: { id: String, key: 'administrator', name: 'Administrator' },
    createdAt: ISO,
    updatedAt: ISO,
  })
  for (const user of all.json().data) t.notOk('passwordHash' in user)
  noPasswordHash(t, all)

  const first = await app.inject({ url: '/api/admin/users?page=1&pageSize=2', headers: admin.headers })
  t.equal(first.statusCode, 200)
  t.same(first.json().meta, { page: 1, pageSize: 2, total: 3 })
  t.same(first.json().data.map((u: { id: string }) => u.id), [admin.user.id, second.id])

  const last = await app.inject({ url: '/api/admin/users?page=2&pageSize=2', headers: admin.headers })
  t.same(last.json().meta, { page: 2, pageSize: 2, total: 3 })
  t.same(last.json().data.map((u: { id: string }) => u.id), [third.id])

  const beyond = await app.inject({ url: '/api/admin/users?page=3&pageSize=2', headers: admin.headers })
  t.equal(beyond.statusCode, 200)
  t.same(beyond.json(), { data: [], meta: { page: 3, pageSize: 2, total: 3 } }, 'past the end: no data, the total')

  for (const [query, path] of [
    ['page=0', '/page'],
    ['pageSize=0', '/pageSize'],
    ['pageSize=101', '/pageSize'],
    ['page=first', '/page'],
    ['sort=email', '/sort'],
  ] as const) {
    const res = await app.inject({ url: `/api/admin/users?${query}`, headers: admin.headers })
    t.equal(res.statusCode, 400, query)
    t.equal(res.json().code, 'GUDANG_ERR_VALIDATION', query)
    t.match(res.json().details, [{ in: 'querystring', path }], query)
  }
})

t.test('POST /api/admin/users creates a user, its email in lower case', async (t) => {
  const { app, admin } = await setup(t)
  const editorId = await roleId(app, admin, 'editor')

  const res = await app.inject({
    method: 'POST',
    url: '/api/admin/users',
    headers: admin.headers,
    payload: { email: 'Jane.Doe@Example.COM', displayName: 'Jane Doe', password: PASSWORD, roleId: editorId },
  })
  t.equal(res.statusCode, 201)
  const created = res.json().data
  t.match(created, {
    id: UUID,
    email: 'jane.doe@example.com',
    displayName: 'Jane Doe',
    isActive: true,
    role: { id: editorId, key: 'editor', name: 'Editor' },
    createdAt: ISO,
    updatedAt: ISO,
  })
  t.same(Object.keys(created).sort(), ['createdAt', 'displayName', 'email', 'id', 'isActive', 'role', 'updatedAt'])
  noPasswordHash(t, res)

  const read = await getUser(app, admin, created.id)
  t.equal(read.statusCode, 200)
  t.same(read.json(), { data: created }, 'GET answers what POST answered')
  noPasswordHash(t, read)

  const signedIn = await tryLogin(app, 'JANE.DOE@example.com', PASSWORD)
  t.equal(signedIn.statusCode, 200, 'signs in with the email in any case')
  t.equal(signedIn.json().data.user.id, created.id)
  noPasswordHash(t, signedIn)

  const disabled = await createUser(app, admin, { email: 'disabled@example.com', isActive: false })
  t.equal(disabled.statusCode, 201)
  t.equal(disabled.json().data.isActive, false, 'a user can be created disabled')
  const refused = await tryLogin(app, 'disabled@example.com', PASSWORD)
  t.equal(refused.statusCode, 401, 'a disabled user cannot sign in')
  t.equal(refused.json().code, 'GUDANG_ERR_INVALID_CREDENTIALS')
})

t.test('POST /api/admin/users refuses an invalid user and creates nothing', async (t) => {
  const { app, admin } = await setup(t)
  const publicId = await roleId(app, admin, 'public')

  const taken = await createUser(app, admin, { email: 'ADMIN@example.com' })
  t.equal(taken.statusCode, 409, 'an email taken in another case')
  t.match(taken.json(), {
    statusCode: 409,
    code: 'GUDANG_ERR_CONFLICT',
    error: 'Conflict',
    message: 'A record with the same unique value already exists',
  })

  const unknown = await createUser(app, admin, { passwordHash: 'scrypt$1$2$3$x$y', isAdmin: true })
  t.equal(unknown.statusCode, 400, 'unknown fields')
  t.equal(unknown.json().code, 'GUDANG_ERR_VALIDATION')
  t.same(
    unknown.json().details.map((d: { path: string }) => d.path).sort(),
    ['/isAdmin', '/passwordHash'],
    'every unknown field is named',
  )

  const invalid = await app.inject({
    method: 'POST',
    url: '/api/admin/users',
    headers: admin.headers,
    payload: { email: 'not an email', displayName: '', password: 'short', roleId: 'editor' },
  })
  t.equal(invalid.statusCode, 400)
  t.same(
    [...new Set(invalid.json().details.map((d: { path: string }) => d.path))].sort(),
    ['/displayName', '/email', '/password', '/roleId'],
    'every failing field is named',
  )

  const missing = await app.inject({ method: 'POST', url: '/api/admin/users', headers: admin.headers, payload: {} })
  t.equal(missing.statusCode, 400)
  t.same(
    missing.json().details.map((d: { path: string }) => d.path).sort(),
    ['/displayName', '/email', '/password', '/roleId'],
  )

  for (const [what, id] of [['an unknown role', randomUUID()], ['the Public role', publicId]] as const) {
    const res = await createUser(app, admin, { roleId: id })
    t.equal(res.statusCode, 400, what)
    t.match(res.json(), {
      code: 'GUDANG_ERR_VALIDATION',
      message: 'roleId names no role a user can have',
      details: [{ in: 'body', path: '/roleId', message: String }],
    }, what)
    t.equal(res.json().details.length, 1, what)
  }

  const list = await app.inject({ url: '/api/admin/users', headers: admin.headers })
  t.equal(list.json().meta.total, 1, 'no user was created')
})

t.test('a missing user answers 404, an id that is no uuid 400', async (t) => {
  const { app, admin } = await setup(t)
  const missing = randomUUID()
  for (const [method, payload] of [['GET'], ['PATCH', { displayName: 'Ghost' }], ['DELETE']] as const) {
    const res = await app.inject({ method, url: `/api/admin/users/${missing}`, headers: admin.headers, payload })
    t.equal(res.statusCode, 404, `${method} of a missing user`)
    t.match(res.json(), { statusCode: 404, code: 'GUDANG_ERR_NOT_FOUND', error: 'Not Found' }, method)

    const malformed = await app.inject({ method, url: '/api/admin/users/42', headers: admin.headers, payload })
    t.equal(malformed.statusCode, 400, `${method} of a malformed id`)
    t.match(malformed.json(), { code: 'GUDANG_ERR_VALIDATION', details: [{ in: 'params', path: '/id' }] }, method)
  }
  t.equal((await app.inject({ url: '/api/admin/users', headers: admin.headers })).json().meta.total, 1)
})

t.test('PATCH /api/admin/users/:id changes a user', async (t) => {
  const { app, admin } = await setup(t)
  const user = await signInAs(app, admin, 'editor')
  const authorId = await roleId(app, admin, 'author')

  const renamed = await patch(app, admin, user.user.id, { displayName: 'Renamed' })
  t.equal(renamed.statusCode, 200)
  t.match(renamed.json().data, { id: user.user.id, displayName: 'Renamed', email: user.user.email, isActive: true })
  noPasswordHash(t, renamed)
  t.equal((await me(app, user.accessToken)).statusCode, 200, 'a new name leaves the sessions alone')

  const moved = await patch(app, admin, user.user.id, { email: '  Moved@Example.com ', roleId: authorId })
  t.equal(moved.statusCode, 400, 'an email with spaces is no email')

  const changed = await patch(app, admin, user.user.id, { email: 'Moved@Example.COM', roleId: authorId })
  t.equal(changed.statusCode, 200)
  t.match(changed.json().data, {
    email: 'moved@example.com',
    displayName: 'Renamed',
    role: { id: authorId, key: 'author', name: 'Author' },
  })
  t.equal((await me(app, user.accessToken)).json().data.role.key, 'author', 'the new role applies at once')

  const read = await getUser(app, admin, user.user.id)
  t.same(read.json().data, changed.json().data, 'the change is stored')

  const unknown = await patch(app, admin, user.user.id, { displayName: 'X', passwordHash: 'x' })
  t.equal(unknown.statusCode, 400, 'unknown fields')
  t.match(unknown.json(), { code: 'GUDANG_ERR_VALIDATION', details: [{ in: 'body', path: '/passwordHash' }] })

  const taken = await patch(app, admin, user.user.id, { email: ADMIN.email.toUpperCase() })
  t.equal(taken.statusCode, 409, 'an email another user has')
  t.equal(taken.json().code, 'GUDANG_ERR_CONFLICT')

  for (const [what, id] of [['an unknown role', randomUUID()], ['the Public role', await roleId(app, admin, 'public')]] as const) {
    const res = await patch(app, admin, user.user.id, { roleId: id, displayName: 'Never' })
    t.equal(res.statusCode, 400, what)
    t.match(res.json(), { code: 'GUDANG_ERR_VALIDATION', details: [{ in: 'body', path: '/roleId' }] }, what)
  }

  const weak = await patch(app, admin, user.user.id, { password: 'too short' })
  t.equal(weak.statusCode, 400, 'a password shorter than 12 characters')
  t.match(weak.json().details, [{ in: 'body', path: '/password' }])

  t.same((await getUser(app, admin, user.user.id)).json().data, changed.json().data, 'refused changes change nothing')
  t.equal((await me(app, user.accessToken)).statusCode, 200, 'refused changes leave the sessions alone')
  t.equal((await tryLogin(app, 'moved@example.com', PASSWORD)).statusCode, 200, 'the password is unchanged')
})

t.test('a new password ends the user\'s sessions', async (t) => {
  const { app, admin } = await setup(t)
  const user = await signInAs(app, admin, 'editor')
  const other = await login(app, user.user.email, PASSWORD)

  const res = await patch(app, admin, user.user.id, { password: 'a brand new password' })
  t.equal(res.statusCode, 200)
  noPasswordHash(t, res)
  await assertSessionEnded(t, app, user)
  await assertSessionEnded(t, app, other)

  t.equal((await tryLogin(app, user.user.email, PASSWORD)).statusCode, 401, 'the old password is refused')
  const again = await login(app, user.user.email, 'a brand new password')
  t.equal((await me(app, again.accessToken)).statusCode, 200, 'the new password signs in')
  t.equal((await me(app, admin.accessToken)).statusCode, 200, 'other users keep their sessions')
})

t.test('disabling a user ends their sessions and refuses their sign-in until enabled again', async (t) => {
  const { app, admin } = await setup(t)
  const user = await signInAs(app, admin, 'author')

  const disabled = await patch(app, admin, user.user.id, { isActive: false })
  t.equal(disabled.statusCode, 200)
  t.equal(disabled.json().data.isActive, false)
  await assertSessionEnded(t, app, user)
  const refused = await tryLogin(app, user.user.email, PASSWORD)
  t.equal(refused.statusCode, 401)
  t.equal(refused.json().code, 'GUDANG_ERR_INVALID_CREDENTIALS')

  const enabled = await patch(app, admin, user.user.id, { isActive: true })
  t.equal(enabled.statusCode, 200)
  t.equal(enabled.json().data.isActive, true)
  await assertSessionEnded(t, app, user)
  const back = await login(app, user.user.email, PASSWORD)
  t.equal((await me(app, back.accessToken)).statusCode, 200, 'an enabled user signs in again')

  const kept = await patch(app, admin, user.user.id, { isActive: true })
  t.equal(kept.statusCode, 200)
  t.equal((await me(app, back.accessToken)).statusCode, 200, 'enabling an active user ends no session')
})

t.test('the last active administrator cannot be disabled, demoted or deleted', async (t) => {
  const { app, admin } = await setup(t)
  const id = admin.user.id
  const before = (await getUser(app, admin, id)).json().data
  // A disabled administrator does not count.
  await newUser(app, admin, { role: 'administrator', isActive: false })

  const attempts: [string, () => Promise<LightMyRequestResponse>][] = [
    ['disable', () => patch(app, admin, id, { isActive: false })],
    ['disable with a new password', () => patch(app, admin, id, { isActive: false, password: 'another password!' })],
    ['demote', async () => patch(app, admin, id, { roleId: await roleId(app, admin, 'editor'), displayName: 'Demoted' })],
    ['delete', () => app.inject({ method: 'DELETE', url: `/api/admin/users/${id}`, headers: admin.headers })],
  ]
  for (const [what, attempt] of attempts) {
    const res = await attempt()
    t.equal(res.statusCode, 409, what)
    t.same(res.json(), {
      statusCode: 409,
      code: 'GUDANG_ERR_LAST_ADMINISTRATOR',
      error: 'Conflict',
      message: 'Gudang must keep at least one active administrator',
    }, what)
  }

  t.same((await getUser(app, admin, id)).json().data, before, 'nothing changed')
  t.equal((await me(app, admin.accessToken)).statusCode, 200, 'the session goes on')
  t.equal((await refresh(app, admin.refreshToken)).statusCode, 200, 'the refresh token still works')
  t.equal((await tryLogin(app, ADMIN.email, ADMIN.password)).statusCode, 200, 'the password is unchanged')
})

t.test('with a second active administrator, either can be disabled, demoted or deleted', async (t) => {
  const { app, admin } = await setup(t)
  const second = await signInAs(app, admin, 'administrator')
  const editorId = await roleId(app, admin, 'editor')
  const administratorId = await roleId(app, admin, 'administrator')

  const disabled = await patch(app, admin, second.user.id, { isActive: false })
  t.equal(disabled.statusCode, 200, 'disable the second')
  t.equal(disabled.json().data.isActive, false)
  const blocked = await patch(app, admin, admin.user.id, { isActive: false })
  t.equal(blocked.statusCode, 409, 'now the first is the last active one')
  t.equal(blocked.json().code, 'GUDANG_ERR_LAST_ADMINISTRATOR')
  t.equal((await patch(app, admin, second.user.id, { isActive: true })).statusCode, 200, 'enable the second')

  const demoted = await patch(app, admin, second.user.id, { roleId: editorId })
  t.equal(demoted.statusCode, 200, 'demote the second')
  t.equal(demoted.json().data.role.key, 'editor')
  t.equal((await patch(app, admin, second.user.id, { roleId: administratorId })).statusCode, 200, 'promote again')

  const again = await login(app, second.user.email, PASSWORD)
  const self = await patch(app, again, admin.user.id, { roleId: editorId })
  t.equal(self.statusCode, 200, 'the second demotes the first')
  const forbidden = await app.inject({ url: '/api/admin/users', headers: admin.headers })
  t.equal(forbidden.statusCode, 403, 'the demoted first has lost the users permission at once')

  const last = await app.inject({ method: 'DELETE', url: `/api/admin/users/${second.user.id}`, headers: again.headers })
  t.equal(last.statusCode, 409, 'the second is now the last administrator')
  t.equal(last.json().code, 'GUDANG_ERR_LAST_ADMINISTRATOR')

  t.equal((await patch(app, again, admin.user.id, { roleId: administratorId })).statusCode, 200)
  const deleted = await app.inject({ method: 'DELETE', url: `/api/admin/users/${admin.user.id}`, headers: again.headers })
  t.equal(deleted.statusCode, 204, 'the second deletes the first')
  t.equal(deleted.body, '')
  t.equal((await getUser(app, again, admin.user.id)).statusCode, 404)
})

t.test('two administrators disabling each other at once: one wins, the other is refused', async (t) => {
  const { app, admin } = await setup(t)
  const second = await signInAs(app, admin, 'administrator')

  const answers = await Promise.all([
    patch(app, admin, second.user.id, { isActive: false }),
    patch(app, second, admin.user.id, { isActive: false }),
  ])
  t.same(answers.map((res) => res.statusCode).sort(), [200, 409], answers.map((res) => res.body).join('\n'))
  t.equal(answers.find((res) => res.statusCode === 409)?.json().code, 'GUDANG_ERR_LAST_ADMINISTRATOR')

  const winner = answers[0]?.statusCode === 200 ? admin : second
  const list = await app.inject({ url: '/api/admin/users', headers: winner.headers })
  t.same(
    list.json().data.filter((u: { isActive: boolean }) => u.isActive).map((u: { id: string }) => u.id),
    [winner.user.id],
    'exactly one active administrator remains',
  )
})

t.test('DELETE /api/admin/users/:id removes a user and ends their sessions', async (t) => {
  const { app, admin } = await setup(t)
  const user = await signInAs(app, admin, 'editor')

  const res = await app.inject({ method: 'DELETE', url: `/api/admin/users/${user.user.id}`, headers: admin.headers })
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')

  const read = await getUser(app, admin, user.user.id)
  t.equal(read.statusCode, 404)
  t.equal(read.json().code, 'GUDANG_ERR_NOT_FOUND')
  const again = await app.inject({ method: 'DELETE', url: `/api/admin/users/${user.user.id}`, headers: admin.headers })
  t.equal(again.statusCode, 404, 'deleting twice')
  t.equal((await app.inject({ url: '/api/admin/users', headers: admin.headers })).json().meta.total, 1)

  await assertSessionEnded(t, app, user)
  t.equal((await tryLogin(app, user.user.email, PASSWORD)).statusCode, 401, 'a deleted user cannot sign in')
})

t.test('only callers with the users permission reach the routes', async (t) => {
  const { app, admin } = await setup(t)
  const editor = await signInAs(app, admin, 'editor')
  const id = admin.user.id
  // Valid requests: the body is validated before the permission is checked.
  const newUser = { email: 'new@example.com', displayName: 'New', password: PASSWORD, roleId: await roleId(app, admin, 'editor') }
  const routes = [
    { method: 'GET', url: '/api/admin/users', action: 'read' },
    { method: 'GET', url: `/api/admin/users/${id}`, action: 'read' },
    { method: 'POST', url: '/api/admin/users', action: 'create', payload: newUser },
    { method: 'PATCH', url: `/api/admin/users/${id}`, action: 'update', payload: { isActive: false } },
    { method: 'DELETE', url: `/api/admin/users/${id}`, action: 'delete' },
  ] as const

  for (const { action, ...route } of routes) {
    const what = `${route.method} ${route.url}`
    const forbidden = await app.inject({ ...route, headers: editor.headers })
    t.equal(forbidden.statusCode, 403, `an Editor: ${what}`)
    t.same(forbidden.json(), {
      statusCode: 403,
      code: 'GUDANG_ERR_FORBIDDEN',
      error: 'Forbidden',
      message: `Missing permission users:${action}`,
      details: { subject: 'users', action },
    }, what)

    const anonymous = await app.inject(route)
    t.equal(anonymous.statusCode, 401, `no token: ${what}`)
    t.equal(anonymous.json().code, 'GUDANG_ERR_UNAUTHENTICATED', what)
    t.equal(anonymous.headers['www-authenticate'], 'Bearer', what)

    const forged = await app.inject({ ...route, headers: bearer('not.a.jwt') })
    t.equal(forged.statusCode, 401, `a forged token: ${what}`)
    t.equal(forged.json().code, 'GUDANG_ERR_INVALID_TOKEN', what)
  }

  const after = await getUser(app, admin, id)
  t.equal(after.json().data.isActive, true, 'the refused PATCH changed nothing')
  t.equal((await app.inject({ url: '/api/admin/users', headers: admin.headers })).json().meta.total, 2)
})

t.test('a user changes their own password; their other sessions end, this one goes on', async (t) => {
  const { app, admin } = await setup(t)
  const user = await signInAs(app, admin, 'author')
  const other = await login(app, user.user.email, PASSWORD)
  const change = (currentPassword: string) => app.inject({
    method: 'PUT',
    url: '/auth/me/password',
    headers: user.headers,
    payload: { currentPassword, newPassword: 'my own new password' },
  })

  const wrong = await change('not my password')
  t.equal(wrong.statusCode, 400)
  t.match(wrong.json(), { statusCode: 400, details: [{ in: 'body', path: '/currentPassword' }] })
  t.equal((await me(app, other.accessToken)).statusCode, 200, 'a refused change ends no session')

  const res = await change(PASSWORD)
  t.equal(res.statusCode, 204)
  t.equal((await me(app, user.accessToken)).statusCode, 200, 'this session goes on')
  await assertSessionEnded(t, app, other)
  t.equal((await tryLogin(app, user.user.email, PASSWORD)).statusCode, 401, 'the old password is refused')
  t.equal((await tryLogin(app, user.user.email, 'my own new password')).statusCode, 200)
})

t.test('GUDANG_ADMIN_EMAIL makes the first administrator only while there is no user', async (t) => {
  const first = await buildWithAdmin(t, onPostgres ? {} : { GUDANG_DATA_DIR: t.testdir() })
  await first.ready()
  const { DATABASE_URL, GUDANG_DATA_DIR } = first.config
  await first.close()

  // The same database, started again with another administrator configured.
  const again = await buildWithAdmin(t, {
    ...(onPostgres ? { DATABASE_URL } : { GUDANG_DATA_DIR }),
    GUDANG_ADMIN_EMAIL: 'other@example.com',
    GUDANG_ADMIN_PASSWORD: 'another admin password',
  })
  const other = await tryLogin(again, 'other@example.com', 'another admin password')
  t.equal(other.statusCode, 401, 'no second administrator is made')
  const admin = await login(again)
  const list = await again.inject({ url: '/api/admin/users', headers: admin.headers })
  t.same(list.json().data.map((u: { email: string }) => u.email), [ADMIN.email])

  const unconfigured = await build(t)
  const none = await tryLogin(unconfigured, ADMIN.email, ADMIN.password)
  t.equal(none.statusCode, 401, 'without GUDANG_ADMIN_EMAIL no user is made')
  t.equal(none.json().code, 'GUDANG_ERR_INVALID_CREDENTIALS')
})

t.test('instances starting together on an empty database make one first administrator', {
  skip: onPostgres ? false : 'a PGlite data folder serves one instance at a time',
}, async (t) => {
  const empty = await build(t)
  await empty.ready()
  const { DATABASE_URL } = empty.config
  await empty.close()

  const instances = await Promise.all([0, 1].map(() => buildWithAdmin(t, { DATABASE_URL })))
  await Promise.all(instances.map((instance) => instance.ready()))
  const [one, other] = instances as [App, App]
  const admin = await login(one)
  const list = await other.inject({ url: '/api/admin/users', headers: admin.headers })
  t.equal(list.statusCode, 200)
  t.same(list.json().data.map((u: { email: string }) => u.email), [ADMIN.email], 'one administrator, not two')
})

t.test('a caller manages only users whose role is within their own permissions', async (t) => {
  const { app, admin } = await setup(t)
  for (const [name, permissions] of [
    ['User manager', [...['read', 'create', 'update', 'delete'].map((action) => ({ subject: 'users', action }))]],
    ['Reader', []],
  ] as const) {
    const res = await app.inject({
      method: 'POST',
      url: '/api/admin/roles',
      headers: admin.headers,
      payload: { name, permissions: [...permissions, { subject: 'content:*', action: 'read' }] },
    })
    t.equal(res.statusCode, 201, `role ${name}`)
  }
  const manager = await signInAs(app, admin, 'User manager')
  const editor = await newUser(app, admin, { role: 'editor', displayName: 'Ed' })
  const total = async () => (await app.inject({ url: '/api/admin/users', headers: admin.headers })).json().meta.total
  // Looked up by the administrator: the manager may not read roles.
  const roles = {
    reader: await roleId(app, admin, 'Reader'),
    manager: await roleId(app, admin, 'User manager'),
    editor: await roleId(app, admin, 'editor'),
    administrator: await roleId(app, admin, 'administrator'),
  }

  const reader = await createUser(app, manager, { roleId: roles.reader, displayName: 'Reader' })
  t.equal(reader.statusCode, 201, 'a user with a role within the caller\'s permissions')
  const readerId: string = reader.json().data.id

  const tooMuch = await createUser(app, manager, { roleId: roles.editor })
  t.equal(tooMuch.statusCode, 403, 'a user with a role beyond them')
  const exceeded = [
    'media:read',
    'media:create',
    'media:update',
    'media:delete',
    'content:*:create',
    'content:*:update',
    'content:*:delete',
    'content:*:publish',
  ]
  t.same(tooMuch.json(), {
    statusCode: 403,
    code: 'GUDANG_ERR_FORBIDDEN',
    error: 'Forbidden',
    message: `You cannot grant permissions you do not hold: ${exceeded.join(', ')}`,
    details: { permissions: exceeded },
  })
  t.equal(await total(), 4, 'no user was created')

  const renamed = await patch(app, manager, readerId, { displayName: 'Renamed reader' })
  t.equal(renamed.statusCode, 200)
  t.equal(renamed.json().data.displayName, 'Renamed reader')
  const peer = await patch(app, manager, readerId, { roleId: roles.manager })
  t.equal(peer.statusCode, 200, 'a role equal to the caller\'s is within reach')
  const promoted = await patch(app, manager, readerId, { roleId: roles.editor })
  t.equal(promoted.statusCode, 403, 'a role beyond the caller\'s is not')
  t.same(promoted.json().details, { permissions: exceeded })
  t.equal((await getUser(app, admin, readerId)).json().data.role.name, 'User manager', 'the role is unchanged')

  const self = await patch(app, manager, manager.user.id, { roleId: roles.administrator })
  t.equal(self.statusCode, 403, 'nobody promotes themselves')
  t.equal(self.json().code, 'GUDANG_ERR_FORBIDDEN')

  for (const [who, id] of [['an Editor', editor.id], ['an Administrator', admin.user.id]] as const) {
    const before = (await getUser(app, manager, id)).json().data
    const changes = [{ displayName: 'Taken over' }, { password: 'i own you now, really' }, { isActive: false }]
    for (const changed of changes) {
      const res = await patch(app, manager, id, changed)
      t.equal(res.statusCode, 403, `${who} is out of reach: ${Object.keys(changed)[0]}`)
      t.match(res.json(), { code: 'GUDANG_ERR_FORBIDDEN', message: /^You cannot grant permissions you do not hold: / })
    }
    const deleted = await app.inject({ method: 'DELETE', url: `/api/admin/users/${id}`, headers: manager.headers })
    t.equal(deleted.statusCode, 403, `${who} cannot be deleted`)
    t.same((await getUser(app, admin, id)).json().data, before, `${who} is unchanged`)
  }
  t.equal((await me(app, admin.accessToken)).statusCode, 200, 'the administrator\'s session goes on')
  t.equal((await tryLogin(app, ADMIN.email, ADMIN.password)).statusCode, 200, 'and their password is unchanged')

  const missing = await patch(app, manager, randomUUID(), { displayName: 'Ghost' })
  t.equal(missing.statusCode, 404)
  t.match(missing.json(), { code: 'GUDANG_ERR_NOT_FOUND', message: 'No such user' })

  const removed = await app.inject({ method: 'DELETE', url: `/api/admin/users/${readerId}`, headers: manager.headers })
  t.equal(removed.statusCode, 204, 'a user within reach is deleted')
  t.equal(await total(), 3)
})
