import t, { type Test } from 'tap'
import { bearer, buildWithAdmin, created, login, roleId, type SignedIn, signInAs } from '../helper.js'

type App = Awaited<ReturnType<typeof buildWithAdmin>>
type Data = Record<string, unknown>
type Headers = { authorization: string }

const TYPES = '/api/admin/content-types'
const ARTICLES = `${TYPES}/article/entries`
const PAGES = `${TYPES}/page/entries`
const ENTRY_KEYS = ['createdAt', 'createdBy', 'documentId', 'locale', 'publishedAt', 'status', 'updatedAt', 'updatedBy', 'version']

const article = {
  apiId: 'article',
  kind: 'collection',
  singularName: 'Article',
  pluralName: 'Articles',
  fields: [{ name: 'title', type: 'string' }, { name: 'body', type: 'text' }, { name: 'price', type: 'integer' }],
}
const page = {
  apiId: 'page',
  kind: 'collection',
  singularName: 'Page',
  pluralName: 'Pages',
  fields: [{ name: 'title', type: 'string' }],
}

/** The fields of an entry as the API answers it, without the entry's own properties. */
function fieldsOf(data: Data): Data {
  return Object.fromEntries(Object.entries(data).filter(([key]) => !ENTRY_KEYS.includes(key)))
}

async function setUp(t: Test): Promise<{ app: App, admin: SignedIn }> {
  const app = await buildWithAdmin(t)
  const admin = await login(app)
  for (const payload of [article, page]) await created(app, admin, TYPES, payload)
  return { app, admin }
}

async function create(app: App, headers: Headers, data: Data, url = ARTICLES) {
  const res = await app.inject({ method: 'POST', url, headers, payload: { data } })
  if (res.statusCode !== 201) throw new Error(`POST ${url} answered ${res.statusCode}: ${res.body}`)
  return res.json().data
}

async function createRole(app: App, admin: SignedIn, name: string, permissions: Data[]) {
  const res = await app.inject({ method: 'POST', url: '/api/admin/roles', headers: admin.headers, payload: { name, permissions } })
  if (res.statusCode !== 201) throw new Error(`creating a role answered ${res.statusCode}: ${res.body}`)
}

async function createToken(app: App, admin: SignedIn, payload: Data): Promise<Headers> {
  const res = await app.inject({ method: 'POST', url: '/api/admin/tokens', headers: admin.headers, payload })
  if (res.statusCode !== 201) throw new Error(`creating a token answered ${res.statusCode}: ${res.body}`)
  return bearer(res.json().data.accessKey)
}

function forbidden(subject: string, action: string) {
  return {
    statusCode: 403,
    code: 'GUDANG_ERR_FORBIDDEN',
    error: 'Forbidden',
    message: `Missing permission ${subject}:${action}`,
    details: { subject, action },
  }
}

t.test('an Author changes only their own entries: another\'s is not found', async (t) => {
  const { app, admin } = await setUp(t)
  const [ann, bob] = [await signInAs(app, admin, 'author'), await signInAs(app, admin, 'author')]
  const annsEntry = await create(app, ann.headers, { title: 'Ann\'s' })
  t.equal(annsEntry.createdBy, ann.user.id)
  t.equal(annsEntry.updatedBy, ann.user.id)
  const bobsEntry = await create(app, bob.headers, { title: 'Bob\'s' })
  const anns = `${ARTICLES}/${annsEntry.documentId}`

  const read = await app.inject({ url: anns, headers: bob.headers })
  t.equal(read.statusCode, 200, 'the Author role reads every entry (its read rule is not own-only)')
  t.equal(read.json().data.title, 'Ann\'s')
  const list = await app.inject({ url: ARTICLES, headers: bob.headers })
  t.same(list.json().data.map((e: Data) => e.title).sort(), ['Ann\'s', 'Bob\'s'])

  const refused = [
    { method: 'PUT' as const, url: anns, payload: { data: { title: 'Bob was here' } } },
    { method: 'DELETE' as const, url: anns },
    { method: 'POST' as const, url: `${anns}/versions/1/restore` },
  ]
  for (const request of refused) {
    const res = await app.inject({ ...request, headers: bob.headers })
    t.equal(res.statusCode, 404, `${request.method} ${request.url}: the row limit is part of the query`)
    t.match(res.json(), { code: 'GUDANG_ERR_NOT_FOUND', message: `No "article" entry ${annsEntry.documentId}` })
  }
  const untouched = (await app.inject({ url: anns, headers: admin.headers })).json().data
  t.match(untouched, { title: 'Ann\'s', version: 1, updatedBy: ann.user.id }, 'Bob changed nothing')

  const own = await app.inject({ method: 'PUT', url: anns, headers: ann.headers, payload: { data: { title: 'Mine' } } })
  t.equal(own.statusCode, 200)
  t.match(own.json().data, { title: 'Mine', version: 2 })
  const bobsOwn = await app.inject({ method: 'DELETE', url: `${ARTICLES}/${bobsEntry.documentId}`, headers: bob.headers })
  t.equal(bobsOwn.statusCode, 204, 'an Author deletes their own entry')

  const editor = await signInAs(app, admin, 'editor')
  const edited = await app.inject({ method: 'PUT', url: anns, headers: editor.headers, payload: { data: { body: 'Edited' } } })
  t.equal(edited.statusCode, 200, 'an Editor changes anyone\'s entry')
  t.match(edited.json().data, { createdBy: ann.user.id, updatedBy: editor.user.id, version: 3 })
  const stillAnns = await app.inject({ method: 'PUT', url: anns, headers: ann.headers, payload: { data: { body: 'Back' } } })
  t.equal(stillAnns.statusCode, 200, 'the entry stays Ann\'s after another edits it')
})

t.test('a publish without permission gets its clear 4xx', async (t) => {
  const { app, admin } = await setUp(t)
  const author = await signInAs(app, admin, 'author')
  const editor = await signInAs(app, admin, 'editor')
  const entry = await create(app, author.headers, { title: 'Draft' })
  const url = `${ARTICLES}/${entry.documentId}`

  for (const operation of ['publish', 'unpublish']) {
    const res = await app.inject({ method: 'POST', url: `${url}/${operation}`, headers: author.headers })
    t.equal(res.statusCode, 403, operation)
    t.same(res.json(), forbidden('content:article', 'publish'), operation)
  }
  t.match((await app.inject({ url, headers: admin.headers })).json().data, { status: 'draft', version: 1, publishedAt: null },
    'nothing was published')

  const published = await app.inject({ method: 'POST', url: `${url}/publish`, headers: editor.headers })
  t.equal(published.statusCode, 200, 'an Editor publishes')
  t.match(published.json().data, { status: 'published', version: 2, updatedBy: editor.user.id })
  const unpublish = await app.inject({ method: 'POST', url: `${url}/unpublish`, headers: author.headers })
  t.equal(unpublish.statusCode, 403, 'nor may the Author take it down')
  t.equal((await app.inject({ url, headers: admin.headers })).json().data.status, 'published')
  t.equal((await app.inject({ method: 'POST', url: `${url}/unpublish`, headers: editor.headers })).statusCode, 200)
})

t.test('an own-only read rule shows a user their own entries only', async (t) => {
  const { app, admin } = await setUp(t)
  await createRole(app, admin, 'Contributor', [
    { subject: 'content:article', action: 'read', ownOnly: true },
    { subject: 'content:article', action: 'create' },
  ])
  const [ann, bob] = [await signInAs(app, admin, 'Contributor'), await signInAs(app, admin, 'Contributor')]
  const annsEntry = await create(app, ann.headers, { title: 'Ann\'s' })
  await create(app, bob.headers, { title: 'Bob\'s' })
  await create(app, admin.headers, { title: 'Admin\'s' })

  const list = await app.inject({ url: ARTICLES, headers: bob.headers })
  t.equal(list.statusCode, 200)
  t.same(list.json().data.map((e: Data) => e.title), ['Bob\'s'])
  t.same(list.json().meta, { page: 1, pageSize: 25, total: 1 })
  const others = await app.inject({ url: `${ARTICLES}/${annsEntry.documentId}`, headers: bob.headers })
  t.equal(others.statusCode, 404, 'another\'s entry is not found')
  t.equal(others.json().code, 'GUDANG_ERR_NOT_FOUND')
  t.equal((await app.inject({ url: `${ARTICLES}/${annsEntry.documentId}/versions`, headers: bob.headers })).statusCode, 404)
  t.equal((await app.inject({ url: `${ARTICLES}/${annsEntry.documentId}`, headers: ann.headers })).statusCode, 200)
  t.equal((await app.inject({ url: ARTICLES, headers: admin.headers })).json().meta.total, 3)
})

t.test('a role for one content type may not touch another', async (t) => {
  const { app, admin } = await setUp(t)
  await createRole(app, admin, 'Article writer', ['read', 'create', 'update', 'delete', 'publish'].map((action) => ({
    subject: 'content:article', action,
  })))
  const writer = await signInAs(app, admin, 'Article writer')
  const aPage = await create(app, admin.headers, { title: 'About' }, PAGES)

  const own = await create(app, writer.headers, { title: 'Article' })
  t.equal(own.title, 'Article')
  t.equal((await app.inject({ method: 'POST', url: `${ARTICLES}/${own.documentId}/publish`, headers: writer.headers })).statusCode, 200)

  const attempts = [
    { method: 'GET' as const, url: PAGES, action: 'read' },
    { method: 'GET' as const, url: `${PAGES}/${aPage.documentId}`, action: 'read' },
    { method: 'POST' as const, url: PAGES, payload: { data: { title: 'Mine' } }, action: 'create' },
    { method: 'PUT' as const, url: `${PAGES}/${aPage.documentId}`, payload: { data: { title: 'Defaced' } }, action: 'update' },
    { method: 'DELETE' as const, url: `${PAGES}/${aPage.documentId}`, action: 'delete' },
    { method: 'POST' as const, url: `${PAGES}/${aPage.documentId}/publish`, action: 'publish' },
  ]
  for (const { action, ...request } of attempts) {
    const res = await app.inject({ ...request, headers: writer.headers })
    t.equal(res.statusCode, 403, `${request.method} ${request.url}`)
    t.same(res.json(), forbidden('content:page', action), `${request.method} ${request.url}`)
  }
  t.match((await app.inject({ url: `${PAGES}/${aPage.documentId}`, headers: admin.headers })).json().data,
    { title: 'About', version: 1, status: 'draft' })
  t.equal(await app.prisma.entry.count(), 2)
})

t.test('a rule that lists fields lets its holder write and read only those', async (t) => {
  const { app, admin } = await setUp(t)
  await createRole(app, admin, 'Proofreader', [
    { subject: 'content:article', action: 'read', fields: ['title', 'body'] },
    { subject: 'content:article', action: 'create', fields: ['title'] },
    { subject: 'content:article', action: 'update', fields: ['title'] },
  ])
  const proofreader = await signInAs(app, admin, 'Proofreader')
  const entry = await create(app, admin.headers, { title: 'Draft', body: 'Body', price: 3 })
  const url = `${ARTICLES}/${entry.documentId}`

  const read = await app.inject({ url, headers: proofreader.headers })
  t.equal(read.statusCode, 200)
  t.same(fieldsOf(read.json().data), { title: 'Draft', body: 'Body' }, 'the price is not shown')
  t.match(read.json().data, { documentId: entry.documentId, version: 1, status: 'draft' }, 'the entry\'s own properties are')
  const list = await app.inject({ url: ARTICLES, headers: proofreader.headers })
  t.same(list.json().data.map(fieldsOf), [{ title: 'Draft', body: 'Body' }])

  const write = await app.inject({ method: 'PUT', url, headers: proofreader.headers, payload: { data: { title: 'Final', body: 'New', price: 0 } } })
  t.equal(write.statusCode, 403)
  t.same(write.json(), {
    statusCode: 403,
    code: 'GUDANG_ERR_FORBIDDEN',
    error: 'Forbidden',
    message: 'You may not write the field(s) body, price',
    details: { fields: ['body', 'price'] },
  })
  const created = await app.inject({ method: 'POST', url: ARTICLES, headers: proofreader.headers, payload: { data: { title: 'New', price: 1 } } })
  t.equal(created.statusCode, 403)
  t.same(created.json().details, { fields: ['price'] })
  t.equal(await app.prisma.entry.count(), 1, 'nothing was created')
  t.same(fieldsOf((await app.inject({ url, headers: admin.headers })).json().data), { title: 'Draft', body: 'Body', price: 3 },
    'the refused write changed nothing')

  const allowed = await app.inject({ method: 'PUT', url, headers: proofreader.headers, payload: { data: { title: 'Final' } } })
  t.equal(allowed.statusCode, 200)
  t.equal(allowed.json().data.title, 'Final')
  t.equal(allowed.json().data.price, undefined, 'the answer shows no field the holder may not read')
  t.same(fieldsOf((await app.inject({ url, headers: admin.headers })).json().data), { title: 'Final', body: 'Body', price: 3 })

  const version = await app.inject({ url: `${url}/versions/1`, headers: proofreader.headers })
  t.same(version.json().data.data, { title: 'Draft', body: 'Body' }, 'a version shows the readable fields')
  t.equal((await app.inject({ method: 'PUT', url, headers: admin.headers, payload: { data: { price: 5, body: 'Body 2' } } })).statusCode, 200)
  const compare = await app.inject({ url: `${url}/versions/compare?from=2&to=3`, headers: proofreader.headers })
  t.same(compare.json().data, { from: 2, to: 3, changes: [{ field: 'body', from: 'Body', to: 'Body 2' }] },
    'a comparison shows the readable fields')
  const restore = await app.inject({ method: 'POST', url: `${url}/versions/2/restore`, headers: proofreader.headers })
  t.equal(restore.statusCode, 403, 'restoring a version writes the fields it changes')
  t.same(restore.json().details, { fields: ['body', 'price'] })

  const publishedList = await app.inject({ url: `${ARTICLES}?status=published`, headers: proofreader.headers })
  t.equal(publishedList.statusCode, 200)
  t.same(publishedList.json().data, [], 'a never-published entry is not among the published')
  const published = await app.inject({ url: `${url}?status=published`, headers: proofreader.headers })
  t.equal(published.statusCode, 404, 'a never-published entry has no published version')
})

t.test('a new locale started from another copies only the fields its creator may write', async (t) => {
  const { app, admin } = await setUp(t)
  const guide = { apiId: 'guide', kind: 'collection', singularName: 'Guide', pluralName: 'Guides', localized: true, fields: [
    { name: 'title', type: 'string' }, { name: 'body', type: 'text' },
  ] }
  t.equal((await app.inject({ method: 'POST', url: TYPES, headers: admin.headers, payload: guide })).statusCode, 201)
  const fr = { code: 'fr', name: 'French' }
  t.equal((await app.inject({ method: 'POST', url: '/api/admin/locales', headers: admin.headers, payload: fr })).statusCode, 201)
  await createRole(app, admin, 'Translator', [
    { subject: 'content:guide', action: 'read' },
    { subject: 'content:guide', action: 'update', fields: ['title'] },
  ])
  const translator = await signInAs(app, admin, 'Translator')
  const english = await create(app, admin.headers, { title: 'Hello', body: 'The body' }, `${TYPES}/guide/entries`)
  const url = `${TYPES}/guide/entries/${english.documentId}`
  const res = await app.inject({
    method: 'PUT', url: `${url}?locale=fr&from=en`, headers: translator.headers, payload: { data: { title: 'Bonjour' } },
  })
  t.equal(res.statusCode, 200)
  t.same(fieldsOf(res.json().data), { title: 'Bonjour' }, 'the body, which the translator may not write, is not copied')
  t.same(fieldsOf((await app.inject({ url: `${url}?locale=fr`, headers: admin.headers })).json().data), { title: 'Bonjour' })
})

t.test('anonymous callers are asked to sign in on the management API, even where the Public role reads content', async (t) => {
  const { app, admin } = await setUp(t)
  const entry = await create(app, admin.headers, { title: 'Hello' })
  await app.inject({ method: 'POST', url: `${ARTICLES}/${entry.documentId}/publish`, headers: admin.headers })
  const requests = [
    { method: 'GET' as const, url: ARTICLES },
    { method: 'GET' as const, url: `${ARTICLES}/${entry.documentId}` },
    { method: 'GET' as const, url: `${ARTICLES}/${entry.documentId}?status=published` },
    { method: 'PUT' as const, url: `${ARTICLES}/${entry.documentId}`, payload: { data: { title: 'Defaced' } } },
  ]
  const expected = { statusCode: 401, code: 'GUDANG_ERR_UNAUTHENTICATED', error: 'Unauthorized' }
  for (const request of requests) {
    const res = await app.inject(request)
    t.equal(res.statusCode, 401, `${request.method} ${request.url}`)
    t.match(res.json(), expected)
    t.equal(res.headers['www-authenticate'], 'Bearer')
  }

  const publicRole = await roleId(app, admin, 'public')
  const granted = await app.inject({
    method: 'PATCH',
    url: `/api/admin/roles/${publicRole}`,
    headers: admin.headers,
    payload: { permissions: [{ subject: 'content:article', action: 'read' }, { subject: 'content:article', action: 'update' }] },
  })
  t.equal(granted.statusCode, 200, granted.body)
  for (const request of requests) {
    const res = await app.inject(request)
    t.equal(res.statusCode, 401, `${request.method} ${request.url}, the Public role reading`)
    t.match(res.json(), expected)
    t.equal(res.headers['www-authenticate'], 'Bearer', 'a 401 says how to authenticate')
  }
  t.match((await app.inject({ url: `${ARTICLES}/${entry.documentId}`, headers: admin.headers })).json().data,
    { title: 'Hello', version: 2 })
})

t.test('API tokens: a delivery token is refused, preview and full tokens read drafts', async (t) => {
  const { app, admin } = await setUp(t)
  const entry = await create(app, admin.headers, { title: 'Secret draft' })
  const url = `${ARTICLES}/${entry.documentId}`
  const delivery = await createToken(app, admin, { name: 'site', kind: 'delivery' })
  const preview = await createToken(app, admin, { name: 'preview', kind: 'preview' })
  const full = await createToken(app, admin, { name: 'ci', kind: 'full' })

  for (const request of [{ url: ARTICLES }, { url }, { url: `${url}?status=published` }]) {
    const res = await app.inject({ ...request, headers: delivery })
    t.equal(res.statusCode, 403, `delivery: GET ${request.url}`)
    t.same(res.json(), {
      statusCode: 403,
      code: 'GUDANG_ERR_FORBIDDEN',
      error: 'Forbidden',
      message: 'The management API shows drafts: this token reads published content through /api/content',
    })
  }
  const deliveryWrite = await app.inject({ method: 'PUT', url, headers: delivery, payload: { data: { title: 'x' } } })
  t.equal(deliveryWrite.statusCode, 403)

  const previewRead = await app.inject({ url, headers: preview })
  t.equal(previewRead.statusCode, 200, 'a preview token reads drafts')
  t.match(previewRead.json().data, { title: 'Secret draft', status: 'draft' })
  const previewList = await app.inject({ url: ARTICLES, headers: preview })
  t.same(previewList.json().data.map((e: Data) => e.title), ['Secret draft'])
  const previewWrite = await app.inject({ method: 'PUT', url, headers: preview, payload: { data: { title: 'x' } } })
  t.equal(previewWrite.statusCode, 403, 'but writes nothing')
  t.same(previewWrite.json(), forbidden('content:article', 'update'))
  const previewPublish = await app.inject({ method: 'POST', url: `${url}/publish`, headers: preview })
  t.same(previewPublish.json(), forbidden('content:article', 'publish'))

  const fullRead = await app.inject({ url, headers: full })
  t.equal(fullRead.statusCode, 200, 'a full token reads drafts')
  t.equal(fullRead.json().data.title, 'Secret draft')
  const made = await app.inject({ method: 'POST', url: ARTICLES, headers: full, payload: { data: { title: 'By a token' } } })
  t.equal(made.statusCode, 201, 'and writes')
  t.match(made.json().data, { createdBy: null, updatedBy: null })
  const published = await app.inject({ method: 'POST', url: `${ARTICLES}/${made.json().data.documentId}/publish`, headers: full })
  t.equal(published.statusCode, 200)
  const tokenId = (await app.prisma.apiToken.findFirstOrThrow({ where: { name: 'ci' } })).id
  const events = await app.prisma.auditEvent.findMany({ where: { tokenId }, orderBy: { createdAt: 'asc' } })
  t.same(events.map((e) => [e.action, e.userId]), [['entry.create', null], ['entry.publish', null]], 'the token is the actor')
})

t.test('a write answers with the fields its holder may read, not with those the write rule allows', async (t) => {
  const { app, admin } = await setUp(t)
  await createRole(app, admin, 'Blind editor', [
    { subject: 'content:article', action: 'read', fields: ['title'] },
    { subject: 'content:article', action: 'create' },
    { subject: 'content:article', action: 'update' },
  ])
  const editor = await signInAs(app, admin, 'Blind editor')
  const entry = await create(app, admin.headers, { title: 'Draft', body: 'Body', price: 3 })
  const saved = await app.inject({
    method: 'PUT',
    url: `${ARTICLES}/${entry.documentId}`,
    headers: editor.headers,
    payload: { data: { title: 'Final' } },
  })
  t.equal(saved.statusCode, 200)
  t.same(fieldsOf(saved.json().data), { title: 'Final' }, 'the body and price stay unread')
  t.equal(saved.json().data.version, 2)
  const made = await app.inject({ method: 'POST', url: ARTICLES, headers: editor.headers, payload: { data: { title: 'New', price: 1 } } })
  t.equal(made.statusCode, 201)
  t.same(fieldsOf(made.json().data), { title: 'New' })
  t.same(fieldsOf((await app.inject({ url: `${ARTICLES}/${made.json().data.documentId}`, headers: admin.headers })).json().data),
    { title: 'New', price: 1 }, 'what was written was written')
})

t.test('who may create entries but not read them is shown none of their fields', async (t) => {
  const { app, admin } = await setUp(t)
  await createRole(app, admin, 'Blind writer', [
    { subject: 'content-types', action: 'read' },
    { subject: 'content:article', action: 'create' },
  ])
  const writer = await signInAs(app, admin, 'Blind writer')
  const made = await app.inject({ method: 'POST', url: ARTICLES, headers: writer.headers, payload: { data: { title: 'New', price: 1 } } })
  t.equal(made.statusCode, 201)
  t.same(fieldsOf(made.json().data), {})
  t.match(made.json().data, { version: 1, status: 'draft', createdBy: writer.user.id })
  const read = await app.inject({ url: `${ARTICLES}/${made.json().data.documentId}`, headers: writer.headers })
  t.same(read.json(), forbidden('content:article', 'read'))
})

t.test('a reader limited to some fields can neither search nor sort by the others', async (t) => {
  const { app, admin } = await setUp(t)
  await createRole(app, admin, 'Headline reader', [{ subject: 'content:article', action: 'read', fields: ['title'] }])
  const reader = await signInAs(app, admin, 'Headline reader')
  await create(app, admin.headers, { title: 'One', body: 'the secret is out', price: 2 })
  await create(app, admin.headers, { title: 'Two', body: 'nothing here', price: 1 })
  const list = (query: string) => app.inject({ url: `${ARTICLES}?${query}`, headers: reader.headers })

  const byTitle = await list('q=two')
  t.same(byTitle.json().data.map((e: Data) => e.title), ['Two'], 'a readable field is searched')
  const byBody = await list('q=secret')
  t.equal(byBody.statusCode, 200)
  t.same(byBody.json().data, [], 'a hidden field is not searched: the answer would tell what it holds')
  t.equal((await app.inject({ url: `${ARTICLES}?q=secret`, headers: admin.headers })).json().meta.total, 1)

  const sorted = await list('sort=title:desc')
  t.same(sorted.json().data.map((e: Data) => e.title), ['Two', 'One'])
  const byPrice = await list('sort=price:asc')
  t.equal(byPrice.statusCode, 400, 'the order would tell what a hidden field holds')
  t.match(byPrice.json(), { code: 'GUDANG_ERR_VALIDATION', details: [{ in: 'querystring', path: '/sort' }] })
  t.notOk(byPrice.json().details[0].allowed.includes('price'))
  t.ok(byPrice.json().details[0].allowed.includes('title'))
})
