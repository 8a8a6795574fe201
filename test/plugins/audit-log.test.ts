import t, { type Test } from 'tap'
import { bearer, buildWithAdmin, login, type SignedIn, signInAs } from '../helper.js'

type App = Awaited<ReturnType<typeof buildWithAdmin>>
interface AuditEvent {
  id: string
  action: string
  subject: string
  userId: string | null
  tokenId: string | null
  details: Record<string, unknown>
  createdAt: string
}

const AUDIT = '/api/admin/audit-log'
const TYPES = '/api/admin/content-types'
const COMPONENTS = '/api/admin/components'
const missing = '0195f0a0-0000-7000-8000-000000000001'

const seo = { uid: 'shared.seo', displayName: 'SEO', fields: [{ name: 'metaTitle', type: 'string' }] }
const article = {
  apiId: 'article',
  kind: 'collection',
  singularName: 'Article',
  pluralName: 'Articles',
  fields: [{ name: 'title', type: 'string', required: true }, { name: 'seo', type: 'component', component: 'shared.seo' }],
}

async function setUp(t: Test) {
  const app = await buildWithAdmin(t)
  const admin = await login(app)

  function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, options: { payload?: object, as?: SignedIn } = {}) {
    return app.inject({ method, url, headers: (options.as ?? admin).headers, payload: options.payload })
  }

  /** A request that must answer `status`. */
  async function expect(status: number, method: 'POST' | 'PUT' | 'DELETE', url: string, options: { payload?: object, as?: SignedIn } = {}) {
    const res = await call(method, url, options)
    if (res.statusCode !== status) throw new Error(`${method} ${url} answered ${res.statusCode}: ${res.body}`)
    return res.statusCode === 204 ? undefined : res.json().data
  }

  /** The audit log as the administrator reads it. */
  async function log(query = ''): Promise<{ data: AuditEvent[], meta: { page: number, pageSize: number, total: number } }> {
    const res = await call('GET', `${AUDIT}${query}`)
    if (res.statusCode !== 200) throw new Error(`GET ${AUDIT}${query} answered ${res.statusCode}: ${res.body}`)
    return res.json()
  }

  return { app, admin, call, expect, log }
}

/** A role that may change the content model (and not read the audit log). */
async function modeler(app: App, admin: SignedIn): Promise<SignedIn> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/admin/roles',
    headers: admin.headers,
    payload: {
      name: 'Modeler',
      permissions: [
        ...['read', 'create', 'update', 'delete'].map((action) => ({ subject: 'content-types', action })),
        { subject: 'content:*', action: 'read' },
      ],
    },
  })
  if (res.statusCode !== 201) throw new Error(`POST roles answered ${res.statusCode}: ${res.body}`)
  return signInAs(app, admin, 'Modeler')
}

t.test('reading the audit log needs settings:read', async (t) => {
  const { app, admin, call } = await setUp(t)
  const res = await call('GET', AUDIT)
  t.equal(res.statusCode, 200)
  t.same(res.json(), { data: [], meta: { page: 1, pageSize: 25, total: 0 } }, 'nothing has changed yet')

  for (const role of ['editor', 'author']) {
    const denied = await call('GET', AUDIT, { as: await signInAs(app, admin, role) })
    t.equal(denied.statusCode, 403, role)
    t.equal(denied.json().code, 'GUDANG_ERR_FORBIDDEN')
    t.same(denied.json().details, { subject: 'settings', action: 'read' })
  }
  const anonymous = await app.inject({ url: AUDIT })
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.json().code, 'GUDANG_ERR_UNAUTHENTICATED')
  t.equal(anonymous.headers['www-authenticate'], 'Bearer')

  const role = await call('POST', '/api/admin/roles', {
    payload: { name: 'Auditor', permissions: [{ subject: 'settings', action: 'read' }] },
  })
  t.equal(role.statusCode, 201)
  const auditor = await signInAs(app, admin, 'Auditor')
  const read = await call('GET', AUDIT, { as: auditor })
  t.equal(read.statusCode, 200, 'any role with settings:read may read it')
  t.equal(read.json().meta.total, 0)
})

t.test('changes of the content model are recorded, with who made them and the steps', async (t) => {
  const { app, admin, expect, log } = await setUp(t)
  const designer = await modeler(app, admin)
  await expect(201, 'POST', COMPONENTS, { payload: seo })
  await expect(201, 'POST', TYPES, { payload: article, as: designer })
  const { apiId, ...definition } = article
  await expect(200, 'PUT', `${TYPES}/${apiId}`, {
    as: designer,
    payload: {
      ...definition,
      fields: [{ name: 'headline', type: 'string', required: true }, ...article.fields.slice(1), { name: 'body', type: 'text' }],
      changes: { rename: { title: 'headline' } },
    },
  })
  await expect(200, 'PUT', `${COMPONENTS}/shared.seo`, {
    payload: { displayName: 'SEO', fields: [...seo.fields, { name: 'noIndex', type: 'boolean' }] },
  })
  // Refused changes are not recorded.
  await expect(409, 'DELETE', `${COMPONENTS}/shared.seo`)
  await expect(404, 'DELETE', `${TYPES}/gone`, { as: designer })
  await expect(204, 'DELETE', `${TYPES}/article`, { as: designer })
  await expect(204, 'DELETE', `${COMPONENTS}/shared.seo`)

  const { data, meta } = await log('?subject=content-types')
  t.equal(meta.total, 6)
  t.same(data.map((e) => [e.action, e.subject, e.userId, e.tokenId]), [
    ['component.delete', 'content-types', admin.user.id, null],
    ['content-type.delete', 'content-types', designer.user.id, null],
    ['component.update', 'content-types', admin.user.id, null],
    ['content-type.update', 'content-types', designer.user.id, null],
    ['content-type.create', 'content-types', designer.user.id, null],
    ['component.create', 'content-types', admin.user.id, null],
  ], 'newest first')
  t.strictSame(data.map((e) => e.details), [
    { uid: 'shared.seo' },
    { apiId: 'article' },
    { uid: 'shared.seo', changes: [{ action: 'add', field: 'noIndex', type: 'boolean', entries: 0 }] },
    {
      apiId: 'article',
      version: 2,
      changes: [
        { action: 'rename', field: 'headline', from: 'title', entries: 0 },
        { action: 'add', field: 'body', type: 'text', entries: 0 },
      ],
    },
    {
      apiId: 'article',
      version: 1,
      changes: [{ action: 'add', field: 'title', type: 'string' }, { action: 'add', field: 'seo', type: 'component' }],
    },
    { uid: 'shared.seo', changes: [{ action: 'add', field: 'metaTitle', type: 'string' }] },
  ])
  t.ok(data.every((e) => Number.isFinite(Date.parse(e.createdAt))))
})

t.test('changes of entries are recorded: create, publish, schedule, delete; by a user or an API token', async (t) => {
  const { app, admin, expect, log } = await setUp(t)
  await expect(201, 'POST', COMPONENTS, { payload: seo })
  await expect(201, 'POST', TYPES, { payload: article })
  const entries = `${TYPES}/article/entries`
  const entry = await expect(201, 'POST', entries, { payload: { data: { title: 'Hello' } } })
  const at = `${entries}/${entry.documentId}`
  await expect(200, 'POST', `${at}/publish`)
  const runAt = new Date(Date.now() + 3_600_000).toISOString()
  await expect(201, 'POST', `${at}/schedule`, { payload: { action: 'unpublish', at: runAt } })
  await expect(204, 'DELETE', at)
  const token = await expect(201, 'POST', '/api/admin/tokens', { payload: { name: 'Importer', kind: 'full' } })
  const byToken = await app.inject({ method: 'POST', url: entries, headers: bearer(token.accessKey), payload: { data: { title: 'Imported' } } })
  t.equal(byToken.statusCode, 201)

  const { data, meta } = await log('?subject=content:article')
  t.equal(meta.total, 5)
  const base = { documentId: entry.documentId, locale: 'en' }
  t.strictSame(data.map((e) => [e.action, e.userId, e.tokenId, e.details]), [
    ['entry.create', null, token.id, { documentId: byToken.json().data.documentId, locale: 'en', version: 1, changed: ['title'] }],
    ['entry.delete', admin.user.id, null, { ...base, version: 2 }],
    ['entry.schedule', admin.user.id, null, { ...base, action: 'unpublish', at: runAt }],
    ['entry.publish', admin.user.id, null, { ...base, version: 2, changed: ['title'] }],
    ['entry.create', admin.user.id, null, { ...base, version: 1, changed: ['title'] }],
  ])
})

t.test('newest first, filtered by action, subject and user, in pages', async (t) => {
  const { app, admin, call, expect, log } = await setUp(t)
  const editor = await signInAs(app, admin, 'editor')
  await expect(201, 'POST', TYPES, { payload: { ...article, fields: article.fields.slice(0, 1) } })
  const entries = `${TYPES}/article/entries`
  const titles = ['One', 'Two', 'Three', 'Four', 'Five']
  const created: { documentId: string }[] = []
  for (const [i, title] of titles.entries()) {
    created.push(await expect(201, 'POST', entries, { payload: { data: { title } }, as: i % 2 === 0 ? admin : editor }))
  }
  await expect(200, 'POST', `${entries}/${created[0]?.documentId}/publish`, { as: editor })

  const all = await log()
  t.same(all.meta, { page: 1, pageSize: 25, total: 7 })
  t.same(all.data.map((e) => [e.action, e.userId]), [
    ['entry.publish', editor.user.id],
    ['entry.create', admin.user.id],
    ['entry.create', editor.user.id],
    ['entry.create', admin.user.id],
    ['entry.create', editor.user.id],
    ['entry.create', admin.user.id],
    ['content-type.create', admin.user.id],
  ])
  t.same(all.data.slice(1, 6).map((e) => e.details.documentId), created.map((c) => c.documentId).reverse(), 'newest first')
  const times = all.data.map((e) => Date.parse(e.createdAt))
  t.same(times, [...times].sort((a, b) => b - a))

  const page2 = await log('?page=2&pageSize=3')
  t.same(page2.meta, { page: 2, pageSize: 3, total: 7 })
  t.same(page2.data.map((e) => e.id), all.data.slice(3, 6).map((e) => e.id))
  const page3 = await log('?page=3&pageSize=3')
  t.same(page3.data.map((e) => e.id), all.data.slice(6).map((e) => e.id))
  const beyond = await log('?page=4&pageSize=3')
  t.same(beyond, { data: [], meta: { page: 4, pageSize: 3, total: 7 } })

  const creates = await log('?action=entry.create')
  t.equal(creates.meta.total, 5)
  t.ok(creates.data.every((e) => e.action === 'entry.create'))
  const byEditor = await log(`?userId=${editor.user.id}`)
  t.same(byEditor.data.map((e) => e.action), ['entry.publish', 'entry.create', 'entry.create'])
  t.ok(byEditor.data.every((e) => e.userId === editor.user.id))
  const editorsCreates = await log(`?userId=${editor.user.id}&action=entry.create&subject=content:article&pageSize=1`)
  t.same(editorsCreates.meta, { page: 1, pageSize: 1, total: 2 }, 'filters combine')
  t.same(editorsCreates.data.map((e) => e.details.documentId), [created[3]?.documentId])
  t.same((await log('?subject=content-types')).data.map((e) => e.action), ['content-type.create'])
  t.same(await log(`?userId=${missing}`), { data: [], meta: { page: 1, pageSize: 25, total: 0 } })
  t.equal((await log('?action=entry.unpublish')).meta.total, 0)

  for (const query of ['?userId=someone', '?pageSize=101', '?pageSize=0', '?page=0', '?sort=oldest']) {
    const res = await call('GET', `${AUDIT}${query}`)
    t.equal(res.statusCode, 400, query)
    t.equal(res.json().code, 'GUDANG_ERR_VALIDATION', query)
  }
})
