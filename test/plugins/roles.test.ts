import { randomUUID } from 'node:crypto'
import type { LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { bearer, buildWithAdmin, login, roleId, type SignedIn, signInAs } from '../helper.js'

type App = Awaited<ReturnType<typeof buildWithAdmin>>

interface Permission {
  subject: string
  action: string
  ownOnly: boolean
  fields: string[] | null
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/
const ACTIONS = ['read', 'create', 'update', 'delete', 'publish']

/** The first administrator, signed in, on an app of the test's own. */
async function setup(t: Test): Promise<{ app: App, admin: SignedIn }> {
  const app = await buildWithAdmin(t)
  return { app, admin: await login(app) }
}

function rule(subject: string, action: string, ownOnly = false, fields: string[] | null = null): Permission {
  return { subject, action, ownOnly, fields }
}

/** Permissions in a stable order: the API orders them by subject only. */
function sorted(permissions: Permission[]): Permission[] {
  const key = (p: Permission) => `${p.subject} ${p.action}`
  return [...permissions].sort((a, b) => key(a).localeCompare(key(b)))
}

/** A role with its permissions in a stable order, to compare two answers. */
function stable<R extends { permissions: Permission[] }>(role: R): R {
  return { ...role, permissions: sorted(role.permissions) }
}

function createRole(app: App, admin: SignedIn, payload: Record<string, unknown>) {
  return app.inject({ method: 'POST', url: '/api/admin/roles', headers: admin.headers, payload })
}

function patchRole(app: App, admin: SignedIn, id: string, payload: Record<string, unknown>) {
  return app.inject({ method: 'PATCH', url: `/api/admin/roles/${id}`, headers: admin.headers, payload })
}

function deleteRole(app: App, admin: SignedIn, id: string) {
  return app.inject({ method: 'DELETE', url: `/api/admin/roles/${id}`, headers: admin.headers })
}

function getRole(app: App, admin: SignedIn, id: string) {
  return app.inject({ url: `/api/admin/roles/${id}`, headers: admin.headers })
}

async function listRoles(app: App, admin: SignedIn) {
  const res = await app.inject({ url: '/api/admin/roles', headers: admin.headers })
  if (res.statusCode !== 200) throw new Error(`listing roles answered ${res.statusCode}: ${res.body}`)
  return res.json() as { data: { id: string, key: string | null, name: string, permissions: Permission[] }[] }
}

/** Creates a custom role, failing the test unless it answers 201; its id. */
async function newRole(app: App, admin: SignedIn, name: string, permissions: Partial<Permission>[] = []) {
  const res = await createRole(app, admin, { name, permissions })
  if (res.statusCode !== 201) throw new Error(`creating a role answered ${res.statusCode}: ${res.body}`)
  return res.json().data.id as string
}

function assertConflict(t: Test, res: LightMyRequestResponse, code: string, message: string | RegExp, what = code) {
  t.equal(res.statusCode, 409, what)
  t.match(res.json(), { statusCode: 409, code, error: 'Conflict', message }, what)
}

t.test('GET /api/admin/roles lists the built-in roles with their permissions and holders', async (t) => {
  const { app, admin } = await setup(t)
  await signInAs(app, admin, 'editor')

  const res = await app.inject({ url: '/api/admin/roles', headers: admin.headers })
  t.equal(res.statusCode, 200)
  const { data, meta } = res.json()
  t.same(meta, { total: 4 })
  const byKey = Object.fromEntries(data.map((role: { key: string }) => [role.key, role]))
  t.same(Object.keys(byKey).sort(), ['administrator', 'author', 'editor', 'public'])

  t.match(byKey.administrator, {
    id: UUID,
    key: 'administrator',
    name: 'Administrator',
    description: 'Everything, including users, roles and tokens',
    holders: { users: 1, tokens: 0 },
    createdAt: ISO,
    updatedAt: ISO,
  })
  t.same(sorted(byKey.administrator.permissions), sorted(ACTIONS.map((action) => rule('*', action))))

  t.match(byKey.editor, { name: 'Editor', holders: { users: 1, tokens: 0 } })
  t.same(sorted(byKey.editor.permissions), sorted([
    ...ACTIONS.map((action) => rule('content:*', action)),
    ...['read', 'create', 'update', 'delete'].map((action) => rule('media', action)),
  ]))

  t.match(byKey.author, { name: 'Author', holders: { users: 0, tokens: 0 } })
  t.same(sorted(byKey.author.permissions), sorted([
    rule('content:*', 'read'),
    rule('content:*', 'create'),
    rule('content:*', 'update', true),
    rule('content:*', 'delete', true),
    rule('media', 'read'),
    rule('media', 'create'),
    rule('media', 'update', true),
    rule('media', 'delete', true),
  ]), 'authors change only their own content and media, and do not publish')

  t.match(byKey.public, { name: 'Public', holders: { users: 0, tokens: 0 }, permissions: [] })

  const one = await getRole(app, admin, byKey.editor.id)
  t.equal(one.statusCode, 200)
  const { permissions, ...editor } = byKey.editor
  t.match(one.json().data, editor, 'GET /:id answers the role as listed')
  t.same(sorted(one.json().data.permissions), sorted(permissions))

  const missing = await getRole(app, admin, randomUUID())
  t.equal(missing.statusCode, 404)
  t.match(missing.json(), { code: 'GUDANG_ERR_NOT_FOUND', message: 'No such role' })
  const malformed = await getRole(app, admin, 'editor')
  t.equal(malformed.statusCode, 400)
  t.match(malformed.json(), { code: 'GUDANG_ERR_VALIDATION', details: [{ in: 'params', path: '/id' }] })
})

t.test('POST /api/admin/roles creates a custom role; unlimited field lists are null', async (t) => {
  const { app, admin } = await setup(t)
  const permissions = [
    { subject: 'content:article', action: 'read', fields: ['title', 'body'] },
    { subject: 'content:article', action: 'update', ownOnly: true, fields: ['body'] },
    { subject: 'content:*', action: 'publish', fields: null },
    { subject: 'content:page', action: 'create' },
    { subject: 'media', action: 'delete', ownOnly: true },
    { subject: 'tokens', action: 'read', ownOnly: true },
    { subject: '*', action: 'read' },
    { subject: 'users', action: 'update' },
    { subject: 'settings', action: 'update', fields: null },
  ]

  const res = await createRole(app, admin, { name: 'Reviewer', description: 'Reads and fixes articles', permissions })
  t.equal(res.statusCode, 201)
  const role = res.json().data
  t.match(role, {
    id: UUID,
    key: null,
    name: 'Reviewer',
    description: 'Reads and fixes articles',
    holders: { users: 0, tokens: 0 },
    createdAt: ISO,
    updatedAt: ISO,
  })
  t.same(sorted(role.permissions), sorted([
    rule('content:article', 'read', false, ['title', 'body']),
    rule('content:article', 'update', true, ['body']),
    rule('content:*', 'publish'),
    rule('content:page', 'create'),
    rule('media', 'delete', true),
    rule('tokens', 'read', true),
    rule('*', 'read'),
    rule('users', 'update'),
    rule('settings', 'update'),
  ]), 'ownOnly defaults to false; no field list and null both come back as null')

  const read = (await getRole(app, admin, role.id)).json().data
  t.same(stable(read), stable(role), 'GET answers what POST answered')
  const list = await listRoles(app, admin)
  t.equal(list.data.length, 5)

  const bare = await createRole(app, admin, { name: 'Nobody', permissions: [] })
  t.equal(bare.statusCode, 201)
  t.match(bare.json().data, { key: null, name: 'Nobody', description: '', permissions: [] }, 'description defaults to empty')

  const holder = await signInAs(app, admin, 'Reviewer')
  const me = await app.inject({ url: '/auth/me', headers: holder.headers })
  t.equal(me.statusCode, 200)
  t.same(sorted(me.json().data.role.permissions), sorted(role.permissions), '/auth/me shows the same permissions')
  t.same((await getRole(app, admin, role.id)).json().data.holders, { users: 1, tokens: 0 })
})

t.test('POST /api/admin/roles refuses invalid permissions, naming every problem', async (t) => {
  const { app, admin } = await setup(t)

  const res = await createRole(app, admin, {
    name: 'Broken',
    permissions: [
      { subject: 'widgets', action: 'read' },
      { subject: 'media', action: 'publish' },
      { subject: 'users', action: 'read', ownOnly: true },
      { subject: 'roles', action: 'read', fields: ['name'] },
      { subject: 'content:article', action: 'read' },
      { subject: 'content:article', action: 'read', fields: ['title'] },
      { subject: 'content:Article', action: 'update' },
      { subject: 'content:', action: 'update' },
      { subject: 'settings', action: 'update', ownOnly: true },
      { subject: '*', action: 'delete', ownOnly: true },
      { subject: 'content:*', action: 'delete', ownOnly: true, fields: ['title'] },
      { subject: 'tokens', action: 'publish' },
      { subject: '*', action: 'publish' },
    ],
  })
  t.equal(res.statusCode, 400)
  t.match(res.json(), { statusCode: 400, code: 'GUDANG_ERR_VALIDATION', error: 'Bad Request', message: 'Invalid permissions' })
  t.same(res.json().details.map((d: { in: string, path: string }) => `${d.in} ${d.path}`), [
    'body /permissions/0/subject',
    'body /permissions/1/action',
    'body /permissions/2/ownOnly',
    'body /permissions/3/fields',
    'body /permissions/5/action',
    'body /permissions/6/subject',
    'body /permissions/7/subject',
    'body /permissions/8/ownOnly',
    'body /permissions/9/ownOnly',
    'body /permissions/11/action',
  ], 'every problem, in order, and only the problems')
  t.match(res.json().details, [
    { message: /must be \*, content:\*, content:<api id> or one of media, users, roles, tokens, settings/ },
    { message: 'only content is published' },
    { message: 'applies to content, media and tokens only' },
    { message: 'field lists apply to content only' },
    { message: 'content:article:read is given twice' },
  ])

  const unknownAndPublish = await createRole(app, admin, {
    name: 'Broken',
    permissions: [{ subject: 'widgets', action: 'publish', ownOnly: true, fields: ['x'] }],
  })
  t.same(unknownAndPublish.json().details.map((d: { path: string }) => d.path), [
    '/permissions/0/subject',
    '/permissions/0/action',
    '/permissions/0/ownOnly',
    '/permissions/0/fields',
  ], 'one permission can have several problems')

  const schema: [string, Record<string, unknown>, string[]][] = [
    ['an empty field list', { name: 'Broken', permissions: [rule('content:article', 'read', false, [])] }, ['/permissions/0/fields']],
    ['a field named twice', { name: 'Broken', permissions: [rule('content:a', 'read', false, ['x', 'x'])] }, ['/permissions/0/fields']],
    ['an unknown action', { name: 'Broken', permissions: [{ subject: 'media', action: 'destroy' }] }, ['/permissions/0/action']],
    ['an unknown property', { name: 'Broken', permissions: [{ subject: 'media', action: 'read', own: true }] }, ['/permissions/0/own']],
    ['no subject', { name: 'Broken', permissions: [{ action: 'read' }] }, ['/permissions/0/subject']],
    ['no name, no permissions', { description: 'x' }, ['/name', '/permissions']],
    ['an empty name', { name: '', permissions: [] }, ['/name']],
    ['an unknown field', { name: 'Broken', permissions: [], key: 'editor' }, ['/key']],
  ]
  for (const [what, payload, paths] of schema) {
    const refused = await createRole(app, admin, payload)
    t.equal(refused.statusCode, 400, what)
    t.equal(refused.json().code, 'GUDANG_ERR_VALIDATION', what)
    t.same([...new Set(refused.json().details.map((d: { path: string }) => d.path))].sort(), paths, what)
  }

  t.equal((await listRoles(app, admin)).data.length, 4, 'no role was created')
})

t.test('a role name is unique', async (t) => {
  const { app, admin } = await setup(t)
  const id = await newRole(app, admin, 'Reviewer')
  const other = await newRole(app, admin, 'Translator')

  for (const name of ['Reviewer', 'Editor', 'Administrator']) {
    const res = await createRole(app, admin, { name, permissions: [] })
    assertConflict(t, res, 'GUDANG_ERR_CONFLICT', 'A record with the same unique value already exists', `create ${name}`)
  }
  const renamed = await patchRole(app, admin, other, { name: 'Reviewer' })
  assertConflict(t, renamed, 'GUDANG_ERR_CONFLICT', 'A record with the same unique value already exists', 'rename')

  const roles = await listRoles(app, admin)
  t.same(roles.data.map((r) => r.name).sort(), ['Administrator', 'Author', 'Editor', 'Public', 'Reviewer', 'Translator'])
  t.equal((await patchRole(app, admin, id, { name: 'Reviewer' })).statusCode, 200, 'keeping its own name is fine')
})

t.test('PATCH /api/admin/roles/:id changes a role; permissions replace the whole set', async (t) => {
  const { app, admin } = await setup(t)
  const id = await newRole(app, admin, 'Reviewer', [
    { subject: 'content:article', action: 'read' },
    { subject: 'content:article', action: 'update', fields: ['body'] },
  ])
  const before = (await getRole(app, admin, id)).json().data

  const renamed = await patchRole(app, admin, id, { name: 'Proofreader', description: 'Fixes typos' })
  t.equal(renamed.statusCode, 200)
  t.match(renamed.json().data, { id, key: null, name: 'Proofreader', description: 'Fixes typos' })
  t.same(sorted(renamed.json().data.permissions), sorted(before.permissions), 'permissions are kept when not given')

  const replaced = await patchRole(app, admin, id, {
    permissions: [
      { subject: 'content:article', action: 'update', fields: ['title', 'body'] },
      { subject: 'media', action: 'read' },
    ],
  })
  t.equal(replaced.statusCode, 200)
  t.same(sorted(replaced.json().data.permissions), [
    rule('content:article', 'update', false, ['title', 'body']),
    rule('media', 'read'),
  ], 'the given set replaces the old one: content:article:read is gone')
  t.match(replaced.json().data, { name: 'Proofreader', description: 'Fixes typos' }, 'name and description are kept')

  const invalid = await patchRole(app, admin, id, {
    name: 'Never',
    permissions: [{ subject: 'media', action: 'read' }, { subject: 'media', action: 'read' }, { subject: 'x', action: 'read' }],
  })
  t.equal(invalid.statusCode, 400)
  t.same(invalid.json().details.map((d: { path: string }) => d.path), ['/permissions/1/action', '/permissions/2/subject'])
  t.same((await getRole(app, admin, id)).json().data, replaced.json().data, 'a refused change changes nothing')

  const emptied = await patchRole(app, admin, id, { permissions: [] })
  t.equal(emptied.statusCode, 200)
  t.same(emptied.json().data.permissions, [], 'an empty set removes every permission')

  const nothing = await patchRole(app, admin, id, {})
  t.equal(nothing.statusCode, 200, 'an empty change')
  t.match(nothing.json().data, { name: 'Proofreader', description: 'Fixes typos', permissions: [] })

  const unknown = await patchRole(app, admin, id, { key: 'administrator' })
  t.equal(unknown.statusCode, 400)
  t.match(unknown.json(), { code: 'GUDANG_ERR_VALIDATION', details: [{ in: 'body', path: '/key' }] })

  const missing = await patchRole(app, admin, randomUUID(), { name: 'Ghost' })
  t.equal(missing.statusCode, 404)
  t.match(missing.json(), { code: 'GUDANG_ERR_NOT_FOUND', message: 'No such role' })
  const malformed = await patchRole(app, admin, 'reviewer', { name: 'Ghost' })
  t.equal(malformed.statusCode, 400)
  t.match(malformed.json().details, [{ in: 'params', path: '/id' }])
})

t.test('the Administrator role cannot be changed or deleted', async (t) => {
  const { app, admin } = await setup(t)
  const id = await roleId(app, admin, 'administrator')
  const before = (await getRole(app, admin, id)).json().data
  const message = 'The Administrator role can do everything and cannot be changed'

  for (const [what, payload] of [
    ['rename', { name: 'Root' }],
    ['describe', { description: 'Less than everything' }],
    ['narrow', { permissions: [{ subject: 'content:*', action: 'read' }] }],
    ['an empty change', {}],
  ] as const) {
    assertConflict(t, await patchRole(app, admin, id, payload), 'GUDANG_ERR_BUILT_IN_ROLE', message, what)
  }
  assertConflict(t, await deleteRole(app, admin, id), 'GUDANG_ERR_BUILT_IN_ROLE', message, 'delete')

  t.same(stable((await getRole(app, admin, id)).json().data), stable(before), 'nothing changed')
  t.equal((await app.inject({ url: '/api/admin/users', headers: admin.headers })).statusCode, 200)
})

t.test('the other built-in roles can be changed but not deleted', async (t) => {
  const { app, admin } = await setup(t)

  for (const key of ['editor', 'author', 'public']) {
    const id = await roleId(app, admin, key)
    const changed = await patchRole(app, admin, id, {
      name: `Our ${key}`,
      description: `The ${key}, our way`,
      permissions: [{ subject: 'content:*', action: 'read' }],
    })
    t.equal(changed.statusCode, 200, `change ${key}`)
    t.match(changed.json().data, {
      id,
      key,
      name: `Our ${key}`,
      description: `The ${key}, our way`,
      permissions: [rule('content:*', 'read')],
    }, `${key} keeps its key`)

    const deleted = await deleteRole(app, admin, id)
    assertConflict(t, deleted, 'GUDANG_ERR_BUILT_IN_ROLE', 'Built-in roles cannot be deleted', `delete ${key}`)
    t.equal((await getRole(app, admin, id)).statusCode, 200, `${key} is still there`)
  }
  t.equal((await listRoles(app, admin)).data.length, 4)
})

t.test('a role that users or API tokens hold cannot be deleted; an unused one can', async (t) => {
  const { app, admin } = await setup(t)
  const id = await newRole(app, admin, 'Reviewer', [{ subject: 'content:*', action: 'read' }])
  const holder = await signInAs(app, admin, 'Reviewer')

  const byUser = await deleteRole(app, admin, id)
  assertConflict(t, byUser, 'GUDANG_ERR_ROLE_IN_USE', 'The role is held by 1 user(s) and 0 API token(s); give them another role first')

  const token = await app.inject({
    method: 'POST',
    url: '/api/admin/tokens',
    headers: admin.headers,
    payload: { name: 'Review site', kind: 'custom', roleId: id },
  })
  t.equal(token.statusCode, 201)
  const both = await deleteRole(app, admin, id)
  assertConflict(t, both, 'GUDANG_ERR_ROLE_IN_USE', 'The role is held by 1 user(s) and 1 API token(s); give them another role first')
  t.same((await getRole(app, admin, id)).json().data.holders, { users: 1, tokens: 1 })

  const moved = await app.inject({
    method: 'PATCH',
    url: `/api/admin/users/${holder.user.id}`,
    headers: admin.headers,
    payload: { roleId: await roleId(app, admin, 'author') },
  })
  t.equal(moved.statusCode, 200)
  const byToken = await deleteRole(app, admin, id)
  assertConflict(t, byToken, 'GUDANG_ERR_ROLE_IN_USE', 'The role is held by 0 user(s) and 1 API token(s); give them another role first')

  const revoked = await app.inject({ method: 'DELETE', url: `/api/admin/tokens/${token.json().data.id}`, headers: admin.headers })
  t.equal(revoked.statusCode, 204)
  const deleted = await deleteRole(app, admin, id)
  t.equal(deleted.statusCode, 204, 'an unused custom role is deleted')
  t.equal(deleted.body, '')
  t.equal((await getRole(app, admin, id)).statusCode, 404)
  const again = await deleteRole(app, admin, id)
  t.equal(again.statusCode, 404, 'deleting twice')
  t.match(again.json(), { code: 'GUDANG_ERR_NOT_FOUND', message: 'No such role' })
  t.equal((await deleteRole(app, admin, 'reviewer')).statusCode, 400, 'a malformed id')
  t.equal((await listRoles(app, admin)).data.length, 4)
})

t.test('a role change is seen by the next request, with no new sign-in', async (t) => {
  const { app, admin } = await setup(t)
  const id = await newRole(app, admin, 'User reader', [{ subject: 'users', action: 'read' }])
  const reader = await signInAs(app, admin, 'User reader')
  const listUsers = () => app.inject({ url: '/api/admin/users', headers: reader.headers })

  const allowed = await listUsers()
  t.equal(allowed.statusCode, 200)
  t.equal(allowed.json().meta.total, 2)
  const roles = await app.inject({ url: '/api/admin/roles', headers: reader.headers })
  t.equal(roles.statusCode, 403, 'users:read gives nothing else')
  t.same(roles.json().details, { subject: 'roles', action: 'read' })

  t.equal((await patchRole(app, admin, id, { permissions: [{ subject: 'media', action: 'read' }] })).statusCode, 200)
  const denied = await listUsers()
  t.equal(denied.statusCode, 403, 'the same access token is refused once the permission is gone')
  t.match(denied.json(), { code: 'GUDANG_ERR_FORBIDDEN', details: { subject: 'users', action: 'read' } })
  const me = await app.inject({ url: '/auth/me', headers: reader.headers })
  t.same(me.json().data.role.permissions, [rule('media', 'read')], '/auth/me shows the new permissions')

  t.equal((await patchRole(app, admin, id, { permissions: [{ subject: '*', action: 'read' }] })).statusCode, 200)
  t.equal((await listUsers()).statusCode, 200, 'and allowed again once it is back, through *')
  t.equal((await app.inject({ url: '/api/admin/roles', headers: reader.headers })).statusCode, 200)
})

t.test('only callers with the roles permission reach the routes', async (t) => {
  const { app, admin } = await setup(t)
  const editor = await signInAs(app, admin, 'editor')
  const id = await roleId(app, admin, 'author')
  const routes = [
    { method: 'GET', url: '/api/admin/roles', action: 'read' },
    { method: 'GET', url: `/api/admin/roles/${id}`, action: 'read' },
    { method: 'POST', url: '/api/admin/roles', action: 'create', payload: { name: 'Mine', permissions: [] } },
    { method: 'PATCH', url: `/api/admin/roles/${id}`, action: 'update', payload: { permissions: [] } },
    { method: 'DELETE', url: `/api/admin/roles/${id}`, action: 'delete' },
  ] as const

  for (const { action, ...route } of routes) {
    const what = `${route.method} ${route.url}`
    const forbidden = await app.inject({ ...route, headers: editor.headers })
    t.equal(forbidden.statusCode, 403, `an Editor: ${what}`)
    t.same(forbidden.json(), {
      statusCode: 403,
      code: 'GUDANG_ERR_FORBIDDEN',
      error: 'Forbidden',
      message: `Missing permission roles:${action}`,
      details: { subject: 'roles', action },
    }, what)

    const anonymous = await app.inject(route)
    t.equal(anonymous.statusCode, 401, `no token: ${what}`)
    t.equal(anonymous.json().code, 'GUDANG_ERR_UNAUTHENTICATED', what)

    const forged = await app.inject({ ...route, headers: bearer('not.a.jwt') })
    t.equal(forged.statusCode, 401, `a forged token: ${what}`)
    t.equal(forged.json().code, 'GUDANG_ERR_INVALID_TOKEN', what)
  }

  const roles = await listRoles(app, admin)
  t.equal(roles.data.length, 4, 'nothing was created')
  t.equal(roles.data.find((r) => r.key === 'author')?.permissions.length, 8, 'nothing was changed')
})

t.test('a caller grants, changes and deletes only roles within their own permissions', async (t) => {
  const { app, admin } = await setup(t)
  const held = [
    ...['read', 'create', 'update', 'delete'].map((action) => ({ subject: 'roles', action })),
    { subject: 'content:*', action: 'read' },
    { subject: 'content:article', action: 'read', fields: ['title'] },
    { subject: 'media', action: 'update', ownOnly: true },
  ]
  await newRole(app, admin, 'Role manager', held)
  const bigger = await newRole(app, admin, 'Bigger', [{ subject: 'users', action: 'read' }])
  const manager = await signInAs(app, admin, 'Role manager')

  const within = await createRole(app, manager, {
    name: 'Lesser',
    permissions: [
      { subject: 'content:*', action: 'read' },
      { subject: 'content:article', action: 'read', fields: ['title'] },
      { subject: 'content:page', action: 'read', fields: ['title', 'body'] },
      { subject: 'media', action: 'update', ownOnly: true },
      { subject: 'roles', action: 'read' },
    ],
  })
  t.equal(within.statusCode, 201, 'permissions the caller holds, or fewer rows or fields of them')
  const lesser: string = within.json().data.id

  const refused = [
    ['more rows', [{ subject: 'media', action: 'update' }], ['media:update']],
    ['every field', [{ subject: 'content:article', action: 'read' }], ['content:article:read']],
    ['another field', [{ subject: 'content:article', action: 'read', fields: ['title', 'body'] }], ['content:article:read']],
    ['another action', [{ subject: 'content:*', action: 'publish' }], ['content:*:publish', 'content:article:publish']],
    ['another subject', [{ subject: 'users', action: 'read' }], ['users:read']],
    ['everything', [{ subject: '*', action: 'read' }], [
      'content-types:read', 'content:article:read', 'media:read', 'settings:read', 'tokens:read', 'users:read', 'webhooks:read',
    ]],
  ] as const
  for (const [what, permissions, exceeded] of refused) {
    const res = await createRole(app, manager, { name: `Escalated ${what}`, permissions })
    t.equal(res.statusCode, 403, what)
    t.match(res.json(), { code: 'GUDANG_ERR_FORBIDDEN', message: /^You cannot grant permissions you do not hold: / }, what)
    t.same([...res.json().details.permissions].sort(), exceeded, what)
  }
  t.equal((await listRoles(app, admin)).data.length, 7, 'no role was created')

  const renamed = await patchRole(app, manager, lesser, { name: 'Lesser still' })
  t.equal(renamed.statusCode, 200)
  const grown = await patchRole(app, manager, lesser, { permissions: [{ subject: 'users', action: 'read' }] })
  t.equal(grown.statusCode, 403, 'a role cannot be changed into more than the caller holds')
  t.same(grown.json().details, { permissions: ['users:read'] })
  t.equal((await getRole(app, admin, lesser)).json().data.permissions.length, 5, 'its permissions are unchanged')

  const editor = await roleId(app, admin, 'editor')
  const editorBefore = stable((await getRole(app, admin, editor)).json().data)
  for (const [what, payload] of [['renamed', { name: 'Mine' }], ['narrowed', { permissions: [] }]] as const) {
    const res = await patchRole(app, manager, editor, payload)
    t.equal(res.statusCode, 403, `a role holding more than the caller cannot be ${what}`)
    t.equal(res.json().code, 'GUDANG_ERR_FORBIDDEN')
  }
  t.same(stable((await getRole(app, admin, editor)).json().data), editorBefore, 'the Editor role is unchanged')

  const deleteBigger = await deleteRole(app, manager, bigger)
  t.equal(deleteBigger.statusCode, 403, 'nor deleted')
  t.same(deleteBigger.json().details, { permissions: ['users:read'] })
  t.equal((await getRole(app, admin, bigger)).statusCode, 200)
  t.equal((await deleteRole(app, manager, editor)).statusCode, 403, 'the Editor role is out of reach first')
  const administrator = await roleId(app, admin, 'administrator')
  t.equal((await deleteRole(app, manager, administrator)).json().code, 'GUDANG_ERR_BUILT_IN_ROLE')
  t.equal((await patchRole(app, manager, administrator, {})).json().code, 'GUDANG_ERR_BUILT_IN_ROLE')

  t.equal((await deleteRole(app, manager, lesser)).statusCode, 204, 'a role within reach is deleted')
  t.equal((await listRoles(app, admin)).data.length, 6)
})

t.test('a role\'s permissions come back in one order, whatever order they were written in', async (t) => {
  const { app, admin } = await setup(t)
  const written = [
    { subject: 'content:*', action: 'update' },
    { subject: 'media', action: 'read' },
    { subject: 'content:*', action: 'read' },
    { subject: 'content:*', action: 'create' },
  ]
  const id = await newRole(app, admin, 'Ordered', written)
  const first = (await getRole(app, admin, id)).json().data.permissions
  t.equal((await patchRole(app, admin, id, { permissions: [...written].reverse() })).statusCode, 200)
  const second = (await getRole(app, admin, id)).json().data.permissions
  t.same(sorted(second), sorted(first), 'the same permissions')
  t.same(second, first, 'in the same order')
})

t.test('deleting a role while a user is given it answers 204 or 409, and the PATCH 200 or 400: never 500', async (t) => {
  const { app, admin } = await setup(t)
  const user = await signInAs(app, admin, 'author')
  const author = await roleId(app, admin, 'author')
  const code = (res: LightMyRequestResponse) => (res.body === '' ? '' : res.json().code ?? '')
  for (let i = 0; i < 10; i++) {
    const id = await newRole(app, admin, `Short-lived ${i}`)
    const [deleted, given] = await Promise.all([
      deleteRole(app, admin, id),
      app.inject({ method: 'PATCH', url: `/api/admin/users/${user.user.id}`, headers: admin.headers, payload: { roleId: id } }),
    ])
    const role = await getRole(app, admin, id)
    const holder = (await app.inject({ url: `/api/admin/users/${user.user.id}`, headers: admin.headers })).json().data
    // Either the role went first (the PATCH found no role) or the user got it first (the role is in use).
    const consistent = (deleted.statusCode === 204 && given.statusCode === 400 && role.statusCode === 404)
      || (deleted.statusCode === 409 && given.statusCode === 200 && holder.role.id === id)
    t.ok(consistent, `attempt ${i}: DELETE ${deleted.statusCode} ${code(deleted)}, PATCH ${given.statusCode} ${code(given)}`)
    await app.inject({ method: 'PATCH', url: `/api/admin/users/${user.user.id}`, headers: admin.headers, payload: { roleId: author } })
  }
})
