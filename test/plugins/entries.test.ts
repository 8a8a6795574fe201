import t, { type Test } from 'tap'
import { bearer, buildWithAdmin, created, login, roleId, type SignedIn, signInAs } from '../helper.js'

type Payload = Record<string, unknown>
/** An entry as the management API answers with it: its fields and its meta data, side by side. */
type Entry = Record<string, unknown> & { documentId: string, version: number, status: string }
/** A version in an entry's history. */
interface Version { version: number, action: string, changed: string[], createdById: string | null, createdAt: string }

const TYPES = '/api/admin/content-types'
const COMPONENTS = '/api/admin/components'
const ARTICLES = `${TYPES}/article/entries`
const NOTES = `${TYPES}/note/entries`
const HOMEPAGE = `${TYPES}/homepage/entry`
const missing = '0195f0a0-0000-7000-8000-000000000001'

/** What the API adds to an entry's fields. */
const META = ['documentId', 'locale', 'status', 'version', 'createdAt', 'updatedAt', 'publishedAt', 'createdBy', 'updatedBy']

const seo = { uid: 'shared.seo', displayName: 'SEO', fields: [{ name: 'metaTitle', type: 'string', required: true, maxLength: 60 }] }
const hero = {
  uid: 'blocks.hero',
  displayName: 'Hero',
  fields: [{ name: 'title', type: 'string', required: true }, { name: 'subtitle', type: 'string' }],
}
const author = {
  apiId: 'author',
  kind: 'collection',
  singularName: 'Author',
  pluralName: 'Authors',
  fields: [{ name: 'name', type: 'string', required: true }],
}
const article = {
  apiId: 'article',
  kind: 'collection',
  singularName: 'Article',
  pluralName: 'Articles',
  fields: [
    { name: 'title', type: 'string', required: true, maxLength: 40 },
    { name: 'slug', type: 'uid', targetField: 'title' },
    { name: 'summary', type: 'text' },
    { name: 'body', type: 'richtext' },
    { name: 'views', type: 'integer', min: 0, default: 0 },
    { name: 'category', type: 'enumeration', values: ['news', 'guide'], default: 'news' },
    { name: 'extra', type: 'json' },
    { name: 'author', type: 'relation', target: 'author', relation: 'toOne' },
    { name: 'seo', type: 'component', component: 'shared.seo' },
    { name: 'blocks', type: 'dynamiczone', components: ['blocks.hero', 'shared.seo'] },
  ],
}
/** Without draft & publish: saving publishes. */
const note = {
  apiId: 'note',
  kind: 'collection',
  singularName: 'Note',
  pluralName: 'Notes',
  draftAndPublish: false,
  fields: [{ name: 'title', type: 'string', required: true }, { name: 'code', type: 'string', unique: true }],
}
const homepage = {
  apiId: 'homepage',
  kind: 'single',
  singularName: 'Home page',
  pluralName: 'Home pages',
  fields: [{ name: 'headline', type: 'string', required: true }, { name: 'tagline', type: 'string' }],
}

/** The app with its administrator signed in, and the content model above. */
async function setUp(t: Test, values: Record<string, unknown> = {}) {
  const app = await buildWithAdmin(t, values)
  const admin = await login(app)
  await created(app, admin, COMPONENTS, seo)
  await created(app, admin, COMPONENTS, hero)
  for (const type of [author, article, note, homepage]) await created(app, admin, TYPES, type)

  /** A request as `who` (the administrator unless told). */
  function call(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, options: { payload?: object, headers?: Record<string, string>, as?: SignedIn } = {}) {
    const who = options.as ?? admin
    return app.inject({ method, url, headers: { ...who.headers, ...options.headers }, payload: options.payload })
  }

  /** Creates an entry (201 or the test fails) and answers it. */
  async function create(data: Payload, url = ARTICLES, as = admin): Promise<Entry> {
    const res = await call('POST', url, { payload: { data }, as })
    if (res.statusCode !== 201) throw new Error(`POST ${url} answered ${res.statusCode}: ${res.body}`)
    return res.json().data
  }

  /** Reads an entry's draft, or its published data. */
  async function read(documentId: string, status: 'draft' | 'published' = 'draft', url = ARTICLES): Promise<Entry> {
    const res = await call('GET', `${url}/${documentId}?status=${status}`)
    if (res.statusCode !== 200) throw new Error(`GET ${url}/${documentId} answered ${res.statusCode}: ${res.body}`)
    return res.json().data
  }

  return { app, admin, call, create, read }
}

/** An entry's fields without the meta data. */
function fieldsOf(entry: Payload): Payload {
  return Object.fromEntries(Object.entries(entry).filter(([key]) => !META.includes(key)))
}

function paths(body: { details: { path: string }[] }): string[] {
  return body.details.map((d) => d.path).sort()
}

t.test('create, read, list with paging, partial update and delete', async (t) => {
  const { app, admin, call } = await setUp(t)

  const created = await call('POST', ARTICLES, { payload: { data: { title: 'Hello', summary: 'The first' } } })
  t.equal(created.statusCode, 201)
  const entry = created.json().data
  t.equal(created.headers.location, `${ARTICLES}/${entry.documentId}`)
  t.equal(created.headers.etag, '"1"')
  t.match(entry.documentId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
  t.same(fieldsOf(entry), { title: 'Hello', summary: 'The first', slug: 'hello', views: 0, category: 'news' })
  t.match(entry, {
    locale: 'en',
    status: 'draft',
    version: 1,
    publishedAt: null,
    createdBy: admin.user.id,
    updatedBy: admin.user.id,
  })
  t.equal(entry.createdAt, entry.updatedAt)
  t.ok(Number.isFinite(Date.parse(entry.createdAt)))

  const read = await call('GET', String(created.headers.location))
  t.equal(read.statusCode, 200)
  t.equal(read.headers.etag, '"1"')
  t.same(read.json(), { data: entry })

  const second = (await call('POST', ARTICLES, { payload: { data: { title: 'Second' } } })).json().data
  const third = (await call('POST', ARTICLES, { payload: { data: { title: 'Third' } } })).json().data
  const page1 = await call('GET', `${ARTICLES}?pageSize=2`)
  t.equal(page1.statusCode, 200)
  t.same(page1.json().meta, { page: 1, pageSize: 2, total: 3 })
  t.equal(page1.json().data.length, 2)
  const page2 = await call('GET', `${ARTICLES}?pageSize=2&page=2`)
  t.same(page2.json().meta, { page: 2, pageSize: 2, total: 3 })
  t.equal(page2.json().data.length, 1)
  const listed = [...page1.json().data, ...page2.json().data].map((e: Entry) => e.documentId)
  t.same([...listed].sort(), [entry.documentId, second.documentId, third.documentId].sort(), 'each entry on one page')
  t.same((await call('GET', `${ARTICLES}?page=3&pageSize=2`)).json(), { data: [], meta: { page: 3, pageSize: 2, total: 3 } })
  t.same((await call('GET', ARTICLES)).json().meta, { page: 1, pageSize: 25, total: 3 }, 'the default paging')

  // The fields given replace theirs, null clears one, the others stay.
  const updated = await call('PUT', `${ARTICLES}/${entry.documentId}`, { payload: { data: { summary: null, views: 5 } } })
  t.equal(updated.statusCode, 200)
  t.equal(updated.headers.etag, '"2"')
  t.same(fieldsOf(updated.json().data), { title: 'Hello', slug: 'hello', views: 5, category: 'news' })
  t.match(updated.json().data, { version: 2, status: 'draft', createdAt: entry.createdAt })
  t.same(fieldsOf((await call('GET', `${ARTICLES}/${entry.documentId}`)).json().data), fieldsOf(updated.json().data))
  const newest = (await call('GET', ARTICLES)).json().data.map((e: Entry) => e.documentId)
  t.equal(newest[0], entry.documentId, 'the list shows the latest change first')

  const removed = await call('DELETE', `${ARTICLES}/${entry.documentId}`)
  t.equal(removed.statusCode, 204)
  t.equal(removed.body, '')
  const gone = await call('GET', `${ARTICLES}/${entry.documentId}`)
  t.equal(gone.statusCode, 404)
  t.equal(gone.json().code, 'GUDANG_ERR_NOT_FOUND')
  t.equal((await call('DELETE', `${ARTICLES}/${entry.documentId}`)).statusCode, 404)
  t.same((await call('GET', ARTICLES)).json().meta.total, 2)
  // A type that is not localized has one variant per document: ?locale names the default one.
  t.equal((await call('DELETE', `${ARTICLES}/${second.documentId}?locale=en`)).statusCode, 204)
  t.same((await call('GET', ARTICLES)).json().data.map((e: Entry) => e.documentId), [third.documentId])
  t.equal(await app.prisma.entryVersion.count(), 1, 'the versions of the deleted entries went with them')
})

t.test('a missing entry and a missing type answer 404', async (t) => {
  const { call } = await setUp(t)
  const requests: [method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object][] = [
    ['GET', `${ARTICLES}/${missing}`],
    ['PUT', `${ARTICLES}/${missing}`, { data: { title: 'X' } }],
    ['DELETE', `${ARTICLES}/${missing}`],
    ['POST', `${ARTICLES}/${missing}/publish`],
    ['POST', `${ARTICLES}/${missing}/unpublish`],
    ['POST', `${ARTICLES}/${missing}/discard`],
    ['GET', `${ARTICLES}/${missing}/versions`],
    ['GET', `${ARTICLES}/${missing}/versions/1`],
    ['GET', `${ARTICLES}/${missing}/versions/compare?from=1&to=2`],
    ['POST', `${ARTICLES}/${missing}/versions/1/restore`],
    ['GET', `${TYPES}/gone/entries`],
    ['POST', `${TYPES}/gone/entries`, { data: {} }],
    ['GET', `${TYPES}/gone/entries/${missing}`],
    ['PUT', `${TYPES}/gone/entries/${missing}`, { data: {} }],
    ['DELETE', `${TYPES}/gone/entries/${missing}`],
    ['POST', `${TYPES}/gone/entries/${missing}/publish`],
    ['GET', `${TYPES}/gone/entry`],
    ['PUT', `${TYPES}/gone/entry`, { data: {} }],
  ]
  for (const [method, url, payload] of requests) {
    const res = await call(method, url, { payload })
    t.equal(res.statusCode, 404, `${method} ${url}`)
    t.equal(res.json().code, 'GUDANG_ERR_NOT_FOUND', `${method} ${url}`)
  }
  const notAnId = await call('GET', `${ARTICLES}/not-an-id`)
  t.equal(notAnId.statusCode, 400)
  t.same(paths(notAnId.json()), ['/documentId'])
})

t.test('data that fails validation answers 400 with the path of every problem, and nothing is written', async (t) => {
  const { app, call, create } = await setUp(t)
  const refused = async (data: Payload, url = ARTICLES, method: 'POST' | 'PUT' = 'POST') => {
    const res = await call(method, url, { payload: { data } })
    t.equal(res.statusCode, 400)
    t.equal(res.json().code, 'GUDANG_ERR_VALIDATION')
    return res.json()
  }

  const wrongType = await refused({ title: 5 })
  t.same(wrongType.details, [{ in: 'body', path: '/data/title', message: 'must be string' }])
  t.match(wrongType.message, /^Invalid data: \/title must be string/)

  const unknown = await refused({ title: 'Hello', rogue: true })
  t.same(unknown.details, [{ in: 'body', path: '/data/rogue', message: 'must NOT have additional properties' }])

  const nested = await refused({
    title: 'Hello',
    seo: { metaTitle: 7 },
    blocks: [{ __component: 'blocks.hero', title: 'Fine' }, { __component: 'blocks.hero', title: 8, colour: 'red' }],
  })
  const byPath = (a: { path: string }, b: { path: string }) => a.path.localeCompare(b.path)
  t.same([...nested.details].sort(byPath), [
    { in: 'body', path: '/data/blocks/1/colour', message: 'must NOT have additional properties' },
    { in: 'body', path: '/data/blocks/1/title', message: 'must be string' },
    { in: 'body', path: '/data/seo/metaTitle', message: 'must be string' },
  ])

  const wrongEnum = await refused({ title: 'Hello', category: 'gossip' })
  t.same(wrongEnum.details, [{ in: 'body', path: '/data/category', message: 'must be equal to one of the allowed values: news, guide' }])

  t.equal(await app.prisma.entry.count(), 0, 'no entry was made')

  const entry = await create({ title: 'Hello' })
  const update = await refused({ views: 'many' }, `${ARTICLES}/${entry.documentId}`, 'PUT')
  t.same(update.details, [{ in: 'body', path: '/data/views', message: 'must be integer' }])
  t.match(await app.prisma.entry.findFirstOrThrow(), { version: 1, draft: { title: 'Hello', views: 0 } }, 'the entry is as it was')

  // The body itself is checked too: `data` is required and nothing else goes beside it.
  const noData = await call('POST', ARTICLES, { payload: { title: 'Hello' } })
  t.equal(noData.statusCode, 400)
  t.same(paths(noData.json()), ['/data', '/title'])
})

t.test('defaults are applied on create, and Markdown given for a rich-text field becomes blocks', async (t) => {
  const { create, call } = await setUp(t)
  const entry = await create({ title: 'Markdown', body: '# A heading\n\nSome *emphasis* and a [link](https://example.com).' })
  t.equal(entry.views, 0)
  t.equal(entry.category, 'news')
  t.same(entry.body, [
    { type: 'heading', level: 1, children: [{ type: 'text', text: 'A heading' }] },
    { type: 'paragraph', children: [
      { type: 'text', text: 'Some ' },
      { type: 'text', text: 'emphasis', italic: true },
      { type: 'text', text: ' and a ' },
      { type: 'link', url: 'https://example.com', children: [{ type: 'text', text: 'link' }] },
      { type: 'text', text: '.' },
    ] },
  ], 'a string became blocks')
  const huge = await call('POST', ARTICLES, { payload: { data: { title: 'Huge', body: 'x'.repeat(50_001) } } })
  t.equal(huge.statusCode, 400, 'Markdown is parsed on save: its length is capped')
  t.same(huge.json().details, [
    { in: 'body', path: '/data/body', message: 'Markdown must be at most 50000 characters: send longer text as blocks' },
  ])

  const given = await create({ title: 'Given', views: 3, category: 'guide' })
  t.match(given, { views: 3, category: 'guide' }, 'given values win over defaults')

  // A default is a value of the new entry, not of every save: cleared, it stays cleared.
  const cleared = await call('PUT', `${ARTICLES}/${given.documentId}`, { payload: { data: { views: null, body: 'Plain text' } } })
  t.equal(cleared.statusCode, 200)
  t.equal(cleared.json().data.views, undefined)
  t.ok(Array.isArray(cleared.json().data.body), 'Markdown on update becomes blocks too')
  const blocksAsGiven = [{ type: 'paragraph', children: [{ type: 'text', text: 'Kept' }] }]
  t.same((await create({ title: 'Blocks', body: blocksAsGiven })).body, blocksAsGiven, 'blocks are kept as given')
})

t.test('draft → published → modified → discard → published, and unpublish', async (t) => {
  const { call, create, read } = await setUp(t)
  const entry = await create({ title: 'Hello' })
  const at = `${ARTICLES}/${entry.documentId}`
  t.match(entry, { status: 'draft', version: 1, publishedAt: null })

  const published = await call('POST', `${at}/publish`)
  t.equal(published.statusCode, 200)
  t.equal(published.headers.etag, '"2"')
  t.match(published.json().data, { status: 'published', version: 2, title: 'Hello' })
  t.ok(Number.isFinite(Date.parse(published.json().data.publishedAt)))
  const again = await call('POST', `${at}/publish`)
  t.equal(again.statusCode, 200)
  t.match(again.json().data, { status: 'published', version: 2 }, 'publishing what is published changes nothing')

  const saved = await call('PUT', at, { payload: { data: { title: 'Hello again' } } })
  t.match(saved.json().data, { status: 'modified', version: 3, title: 'Hello again' })
  t.equal(saved.json().data.publishedAt, published.json().data.publishedAt, 'still published since then')

  const discarded = await call('POST', `${at}/discard`)
  t.equal(discarded.statusCode, 200)
  t.equal(discarded.headers.etag, '"4"')
  t.match(discarded.json().data, { status: 'published', version: 4, title: 'Hello' }, 'the draft is the published data again')
  t.same(fieldsOf(await read(entry.documentId)), fieldsOf(await read(entry.documentId, 'published')))
  const discardAgain = await call('POST', `${at}/discard`)
  t.equal(discardAgain.statusCode, 200)
  t.match(discardAgain.json().data, { status: 'published', version: 4 }, 'nothing to discard: nothing changes')

  const unpublished = await call('POST', `${at}/unpublish`)
  t.equal(unpublished.statusCode, 200)
  t.equal(unpublished.headers.etag, '"5"')
  t.match(unpublished.json().data, { status: 'draft', version: 5, publishedAt: null, title: 'Hello' }, 'the draft stays')
  const unpublishAgain = await call('POST', `${at}/unpublish`)
  t.match(unpublishAgain.json().data, { status: 'draft', version: 5 }, 'unpublishing a draft changes nothing')
  const nothingPublished = await call('GET', `${at}?status=published`)
  t.equal(nothingPublished.statusCode, 404, 'an unpublished entry has no published version')
  t.match(nothingPublished.json(), { code: 'GUDANG_ERR_NOT_FOUND', message: `Entry ${entry.documentId} is not published` })
  t.same((await call('GET', `${ARTICLES}?status=published`)).json().meta.total, 0, 'nor is it in the list of published entries')
  t.same((await call('GET', ARTICLES)).json().meta.total, 1, 'editors still list the draft')

  const neverPublished = await call('POST', `${at}/discard`)
  t.equal(neverPublished.statusCode, 409)
  t.equal(neverPublished.json().code, 'GUDANG_ERR_CONFLICT')
  t.equal((await read(entry.documentId)).version, 5)

  const republished = await call('POST', `${at}/publish`)
  t.match(republished.json().data, { status: 'published', version: 6 })
})

t.test('saving a draft leaves readers on the published version until it is published', async (t) => {
  const { call, create, read } = await setUp(t)
  const entry = await create({ title: 'Old title', summary: 'Old summary' })
  const at = `${ARTICLES}/${entry.documentId}`
  t.equal((await call('POST', `${at}/publish`)).statusCode, 200)

  const saved = await call('PUT', at, { payload: { data: { title: 'New title', summary: null } } })
  t.equal(saved.statusCode, 200)
  const readers = await call('GET', `${at}?status=published`)
  t.equal(readers.statusCode, 200)
  t.equal(readers.headers.etag, '"3"')
  t.match(readers.json().data, { status: 'modified', version: 3 })
  t.same(fieldsOf(readers.json().data), { title: 'Old title', slug: 'old-title', summary: 'Old summary', views: 0, category: 'news' })
  const listed = (await call('GET', `${ARTICLES}?status=published`)).json().data
  t.equal(listed[0].title, 'Old title', 'the list of published data too')
  t.equal(listed[0].summary, 'Old summary')
  t.equal((await read(entry.documentId)).title, 'New title', 'editors see the draft')
  t.equal((await call('GET', ARTICLES)).json().data[0].title, 'New title')

  t.equal((await call('POST', `${at}/publish`)).statusCode, 200)
  const now = await read(entry.documentId, 'published')
  t.same(fieldsOf(now), { title: 'New title', slug: 'old-title', views: 0, category: 'news' })
  t.match(now, { status: 'published', version: 4 })
})

t.test('publishing checks in publish mode: a draft may lack a required field, publish lists every problem', async (t) => {
  const { app, call, create, read } = await setUp(t)
  const draft = await create({
    summary: 'No title yet',
    views: -1,
    seo: {},
    blocks: [{ __component: 'blocks.hero', subtitle: 'No title either' }],
  })
  t.match(draft, { status: 'draft', version: 1 }, 'a draft saves without its required fields')
  const at = `${ARTICLES}/${draft.documentId}`

  const refused = await call('POST', `${at}/publish`)
  t.equal(refused.statusCode, 400)
  t.equal(refused.json().code, 'GUDANG_ERR_VALIDATION')
  t.match(refused.json().message, /^Cannot publish: /)
  const byPath = (a: { path: string }, b: { path: string }) => a.path.localeCompare(b.path)
  t.same([...refused.json().details].sort(byPath), [
    { in: 'body', path: '/data/blocks/0/title', message: 'must have required property \'title\'' },
    { in: 'body', path: '/data/seo/metaTitle', message: 'must have required property \'metaTitle\'' },
    { in: 'body', path: '/data/title', message: 'must have required property \'title\'' },
    { in: 'body', path: '/data/views', message: 'must be >= 0' },
  ])
  const after = await read(draft.documentId)
  t.same(after, draft, 'nothing changed: version, state and data as before')
  t.equal((await call('GET', `${at}/versions`)).json().data.length, 1, 'no version was recorded')
  t.equal(await app.prisma.auditEvent.count({ where: { action: { startsWith: 'entry.' } } }), 1, 'only the creation is in the audit log')

  const fixed = await call('PUT', at, {
    headers: { 'if-match': '"1"' },
    payload: { data: { title: 'Now titled', views: 0, seo: { metaTitle: 'SEO' }, blocks: [{ __component: 'blocks.hero', title: 'Hero' }] } },
  })
  t.equal(fixed.statusCode, 200)
  const published = await call('POST', `${at}/publish`)
  t.equal(published.statusCode, 200)
  t.match(published.json().data, { status: 'published', version: 3, title: 'Now titled', slug: 'now-titled' })
})

t.test('a type without draft & publish publishes on save, checked in publish mode', async (t) => {
  const { app, call, create, read } = await setUp(t)
  const refused = await call('POST', NOTES, { payload: { data: { code: 'A' } } })
  t.equal(refused.statusCode, 400)
  t.same(refused.json().details, [{ in: 'body', path: '/data/title', message: 'must have required property \'title\'' }])
  t.match(refused.json().message, /^Invalid data: /, 'a save, though checked like a publish')
  t.equal(await app.prisma.entry.count(), 0)

  const entry = await create({ title: 'A note' }, NOTES)
  t.match(entry, { status: 'published', version: 1, title: 'A note' })
  t.ok(Number.isFinite(Date.parse(String(entry.publishedAt))))
  t.same(fieldsOf(await read(entry.documentId, 'published', NOTES)), { title: 'A note' })

  const at = `${NOTES}/${entry.documentId}`
  const saved = await call('PUT', at, { payload: { data: { code: 'N-1' } } })
  t.equal(saved.statusCode, 200)
  t.match(saved.json().data, { status: 'published', version: 2 })
  t.same(fieldsOf(await read(entry.documentId, 'published', NOTES)), { title: 'A note', code: 'N-1' }, 'readers see the save at once')

  const cleared = await call('PUT', at, { payload: { data: { title: null } } })
  t.equal(cleared.statusCode, 400, 'clearing a required field would publish an invalid entry')
  t.same(paths(cleared.json()), ['/data/title'])

  for (const operation of ['publish', 'unpublish', 'discard']) {
    const res = await call('POST', `${at}/${operation}`)
    t.equal(res.statusCode, 409, operation)
    t.equal(res.json().code, 'GUDANG_ERR_CONFLICT', operation)
    t.match(res.json().message, /no draft & publish/, operation)
  }
  t.match(await read(entry.documentId, 'draft', NOTES), { version: 2, status: 'published' }, 'nothing changed')
})

t.test('every single-entry answer has an ETag; a stale If-Match or body version answers 412', async (t) => {
  const { call, create } = await setUp(t)
  const entry = await create({ title: 'Hello' })
  const at = `${ARTICLES}/${entry.documentId}`
  const stale = (res: Awaited<ReturnType<typeof call>>, current: number, what: string) => {
    t.equal(res.statusCode, 412, what)
    t.equal(res.json().code, 'GUDANG_ERR_VERSION_MISMATCH', what)
    t.same(res.json().details, { version: current }, what)
  }

  const saved = await call('PUT', at, { headers: { 'if-match': '"1"' }, payload: { data: { summary: 'One' } } })
  t.equal(saved.statusCode, 200)
  t.equal(saved.headers.etag, '"2"')

  stale(await call('PUT', at, { headers: { 'if-match': '"1"' }, payload: { data: { summary: 'Lost?' } } }), 2, 'If-Match')
  stale(await call('PUT', at, { payload: { data: { summary: 'Lost?' }, version: 1 } }), 2, 'the body\'s version')
  stale(await call('PUT', at, { headers: { 'if-match': '"2"' }, payload: { data: { summary: 'Lost?' }, version: 1 } }), 2, 'the body wins')
  stale(await call('PUT', at, { headers: { 'if-match': 'W/"1"' }, payload: { data: { summary: 'Lost?' } } }), 2, 'a weak ETag')
  stale(await call('PUT', at, { headers: { 'if-match': '"abc"' }, payload: { data: { summary: 'Lost?' } } }), 2, 'no version of ours')
  stale(await call('POST', `${at}/publish`, { headers: { 'if-match': '"1"' } }), 2, 'publish')
  stale(await call('POST', `${at}/versions/1/restore`, { headers: { 'if-match': '"1"' } }), 2, 'restore')
  stale(await call('DELETE', at, { headers: { 'if-match': '"1"' } }), 2, 'delete')
  const kept = await call('GET', at)
  t.equal(kept.headers.etag, '"2"')
  t.match(kept.json().data, { version: 2, summary: 'One', status: 'draft' }, 'no stale request changed anything')

  const answers = {
    'a weak If-Match': await call('PUT', at, { headers: { 'if-match': 'W/"2"' }, payload: { data: { summary: 'Two' } } }),
    'a body version': await call('PUT', at, { payload: { data: { summary: 'Three' }, version: 3 } }),
    'If-Match: *': await call('PUT', at, { headers: { 'if-match': '*' }, payload: { data: { summary: 'Four' } } }),
    'publish': await call('POST', `${at}/publish`, { headers: { 'if-match': '"5"' } }),
    'read published': await call('GET', `${at}?status=published`),
    'save after publishing': await call('PUT', at, { payload: { data: { summary: 'Five' } } }),
    'discard': await call('POST', `${at}/discard`, { headers: { 'if-match': '"7"' } }),
    'unpublish': await call('POST', `${at}/unpublish`, { headers: { 'if-match': '"8"' } }),
    'restore': await call('POST', `${at}/versions/2/restore`, { headers: { 'if-match': '"9"' } }),
    'read': await call('GET', at),
  }
  const expected = [3, 4, 5, 6, 6, 7, 8, 9, 10, 10]
  Object.entries(answers).forEach(([what, res], i) => {
    t.equal(res.statusCode, 200, what)
    t.equal(res.headers.etag, `"${expected[i]}"`, what)
    t.equal(res.json().data.version, expected[i], what)
  })
  stale(await call('POST', `${at}/unpublish`, { headers: { 'if-match': '"9"' } }), 10, 'unpublish')
  stale(await call('POST', `${at}/discard`, { headers: { 'if-match': '"9"' } }), 10, 'discard')

  const deleted = await call('DELETE', at, { headers: { 'if-match': '"10"' } })
  t.equal(deleted.statusCode, 204, 'the current version deletes')

  // The single type's entry too.
  const first = await call('PUT', HOMEPAGE, { payload: { data: { headline: 'Hi' } } })
  t.equal(first.headers.etag, '"1"')
  t.equal((await call('GET', HOMEPAGE)).headers.etag, '"1"')
  stale(await call('PUT', HOMEPAGE, { headers: { 'if-match': '"7"' }, payload: { data: { headline: 'Lost?' } } }), 1, 'a single type')
  stale(await call('PUT', HOMEPAGE, { payload: { data: { headline: 'Lost?' }, version: 7 } }), 1, 'a single type, body version')
  const second = await call('PUT', HOMEPAGE, { headers: { 'if-match': '"1"' }, payload: { data: { headline: 'Hello' } } })
  t.equal(second.statusCode, 200)
  t.equal(second.headers.etag, '"2"')
})

t.test('two concurrent updates with the same If-Match: one wins, the other answers 412 and nothing is lost', async (t) => {
  const { call, create, read } = await setUp(t)
  const entry = await create({ title: 'Hello' })
  const at = `${ARTICLES}/${entry.documentId}`
  const changes = [{ summary: 'From Alice' }, { category: 'guide' }]

  const answers = await Promise.all(changes.map((data) =>
    call('PUT', at, { headers: { 'if-match': '"1"' }, payload: { data } })))
  t.same(answers.map((res) => res.statusCode).sort(), [200, 412], 'exactly one wins')
  const winner = answers.findIndex((res) => res.statusCode === 200)
  const loser = 1 - winner
  t.equal(answers[loser]?.json().code, 'GUDANG_ERR_VERSION_MISMATCH')
  t.same(answers[loser]?.json().details, { version: 2 })

  const stored = await read(entry.documentId)
  t.equal(stored.version, 2)
  t.same(fieldsOf(stored), { title: 'Hello', slug: 'hello', views: 0, category: 'news', ...changes[winner] }, 'the winner\'s data is stored')
  t.same(stored, answers[winner]?.json().data)

  // The loser reads again and applies their change on top.
  const current = await call('GET', at)
  const retried = await call('PUT', at, { headers: { 'if-match': String(current.headers.etag) }, payload: { data: changes[loser] } })
  t.equal(retried.statusCode, 200)
  t.same(fieldsOf(retried.json().data), { title: 'Hello', slug: 'hello', views: 0, summary: 'From Alice', category: 'guide' }, 'both changes are kept')
  t.equal(retried.json().data.version, 3)
})

t.test('every change records a version: listed newest first, read with its data, compared field by field', async (t) => {
  const { admin, call, create } = await setUp(t)
  const entry = await create({ title: 'Hello', summary: 'First' })
  const at = `${ARTICLES}/${entry.documentId}`
  const steps: [method: 'POST' | 'PUT', url: string, data?: Payload][] = [
    ['PUT', at, { summary: 'Second' }],
    ['POST', `${at}/publish`],
    ['PUT', at, { title: 'Hello again', summary: null }],
    ['POST', `${at}/discard`],
    ['PUT', at, { views: 7 }],
    ['POST', `${at}/unpublish`],
    ['POST', `${at}/versions/4/restore`],
  ]
  for (const [method, url, data] of steps) {
    const res = await call(method, url, { payload: data === undefined ? undefined : { data } })
    t.equal(res.statusCode, 200, `${method} ${url}`)
  }

  const listed = await call('GET', `${at}/versions`)
  t.equal(listed.statusCode, 200)
  const versions: Version[] = listed.json().data
  t.same(versions.map(({ version, action, changed }) => ({ version, action, changed })), [
    { version: 8, action: 'restore', changed: ['summary', 'title', 'views'] },
    { version: 7, action: 'unpublish', changed: [] },
    { version: 6, action: 'update', changed: ['views'] },
    { version: 5, action: 'discard', changed: ['summary', 'title'] },
    { version: 4, action: 'update', changed: ['summary', 'title'] },
    { version: 3, action: 'publish', changed: ['category', 'slug', 'summary', 'title', 'views'] },
    { version: 2, action: 'update', changed: ['summary'] },
    { version: 1, action: 'create', changed: ['category', 'slug', 'summary', 'title', 'views'] },
  ])
  t.ok(versions.every((v) => v.createdById === admin.user.id))
  t.ok(versions.every((v) => Number.isFinite(Date.parse(v.createdAt))))
  t.same(Object.keys(versions[0] ?? {}).sort(), ['action', 'changed', 'createdAt', 'createdById', 'version'], 'no data in the list')

  const v4 = await call('GET', `${at}/versions/4`)
  t.equal(v4.statusCode, 200)
  t.same(v4.json().data, {
    ...versions[4],
    data: { title: 'Hello again', slug: 'hello', views: 0, category: 'news' },
  })
  t.same((await call('GET', `${at}/versions/1`)).json().data.data, { title: 'Hello', slug: 'hello', summary: 'First', views: 0, category: 'news' })
  t.same((await call('GET', `${at}/versions/7`)).json().data.data, { title: 'Hello', slug: 'hello', summary: 'Second', views: 7, category: 'news' }, 'unpublishing keeps the draft')
  const none = await call('GET', `${at}/versions/9`)
  t.equal(none.statusCode, 404)
  t.equal(none.json().code, 'GUDANG_ERR_NOT_FOUND')

  const compare = async (from: number, to: number) => {
    const res = await call('GET', `${at}/versions/compare?from=${from}&to=${to}`)
    t.equal(res.statusCode, 200)
    return res.json().data
  }
  t.same(await compare(1, 2), { from: 1, to: 2, changes: [{ field: 'summary', from: 'First', to: 'Second' }] })
  t.same(await compare(2, 4), {
    from: 2,
    to: 4,
    changes: [{ field: 'summary', from: 'Second', to: null }, { field: 'title', from: 'Hello', to: 'Hello again' }],
  })
  t.same(await compare(4, 2), {
    from: 4,
    to: 2,
    changes: [{ field: 'summary', from: null, to: 'Second' }, { field: 'title', from: 'Hello again', to: 'Hello' }],
  })
  t.same(await compare(3, 3), { from: 3, to: 3, changes: [] })
  t.equal((await call('GET', `${at}/versions/compare?from=1&to=99`)).statusCode, 404)
  t.equal((await call('GET', `${at}/versions/compare?from=1`)).statusCode, 400, 'both versions are needed')
  t.equal((await call('GET', `${at}/versions/0`)).statusCode, 400, 'versions start at 1')
})

t.test('restoring a version brings back its data exactly; the version history lists who did what', async (t) => {
  const { app, admin, call, create, read } = await setUp(t)
  const editor = await signInAs(app, admin, 'editor')
  const rich = {
    title: 'Hello',
    summary: 'With everything',
    extra: { nested: { list: [1, 'two', null, { deep: true }] } },
    seo: { metaTitle: 'SEO title' },
    blocks: [{ __component: 'blocks.hero', title: 'Hero', subtitle: 'Sub' }, { __component: 'shared.seo', metaTitle: 'In a zone' }],
  }
  const entry = await create(rich)
  const at = `${ARTICLES}/${entry.documentId}`
  const original = fieldsOf(entry)

  const edited = await call('PUT', at, {
    as: editor,
    payload: { data: { title: 'Changed', summary: null, extra: [1], blocks: [], views: 12, category: 'guide' } },
  })
  t.equal(edited.statusCode, 200)
  t.match(edited.json().data, { updatedBy: editor.user.id, createdBy: admin.user.id })
  t.equal((await call('POST', `${at}/publish`, { as: editor })).statusCode, 200)

  const restored = await call('POST', `${at}/versions/1/restore`)
  t.equal(restored.statusCode, 200)
  t.equal(restored.headers.etag, '"4"')
  t.same(fieldsOf(restored.json().data), original, 'the data of version 1, exactly: cleared fields come back, added ones go')
  t.match(restored.json().data, { version: 4, status: 'modified', updatedBy: admin.user.id })
  t.same(fieldsOf(await read(entry.documentId)), original)
  t.same((await call('GET', `${at}/versions/4`)).json().data.data, original, 'the new version holds it too')
  t.equal((await read(entry.documentId, 'published')).title, 'Changed', 'readers see what is published until it is published again')

  const noChange = await call('POST', `${at}/versions/1/restore`)
  t.equal(noChange.statusCode, 200)
  t.equal(noChange.json().data.version, 4, 'restoring what the draft already is changes nothing')

  const history = (await call('GET', `${at}/versions`)).json().data
  t.same(history.map((v: Version) => [v.version, v.action, v.createdById]), [
    [4, 'restore', admin.user.id],
    [3, 'publish', editor.user.id],
    [2, 'update', editor.user.id],
    [1, 'create', admin.user.id],
  ])
  t.same(history[0].changed, ['blocks', 'category', 'extra', 'summary', 'title', 'views'])

  const missingVersion = await call('POST', `${at}/versions/9/restore`)
  t.equal(missingVersion.statusCode, 404)
  t.equal(missingVersion.json().code, 'GUDANG_ERR_NOT_FOUND')
})

t.test('only the newest GUDANG_ENTRY_VERSIONS versions are kept', async (t) => {
  const { app, call, create } = await setUp(t, { GUDANG_ENTRY_VERSIONS: 2 })
  const entry = await create({ title: 'Hello' })
  const at = `${ARTICLES}/${entry.documentId}`
  t.equal((await call('PUT', at, { payload: { data: { summary: 'One' } } })).statusCode, 200)
  t.same((await call('GET', `${at}/versions`)).json().data.map((v: { version: number }) => v.version), [2, 1])
  t.equal((await call('PUT', at, { payload: { data: { summary: 'Two' } } })).statusCode, 200)
  t.equal((await call('POST', `${at}/publish`)).statusCode, 200)

  const versions = (await call('GET', `${at}/versions`)).json().data
  t.same(versions.map((v: { version: number, action: string }) => [v.version, v.action]), [[4, 'publish'], [3, 'update']])
  t.equal(await app.prisma.entryVersion.count(), 2, 'the older rows are deleted')
  t.equal((await call('GET', `${at}/versions/2`)).statusCode, 404)
  t.equal((await call('POST', `${at}/versions/1/restore`)).statusCode, 404)
  t.equal(await app.prisma.auditEvent.count({ where: { action: { startsWith: 'entry.' } } }), 4, 'the audit log keeps every change')
})

t.test('a single type: its entry is made by the first save, then saved; collection routes do not apply', async (t) => {
  const { app, call } = await setUp(t)
  const before = await call('GET', HOMEPAGE)
  t.equal(before.statusCode, 404)
  t.equal(before.json().code, 'GUDANG_ERR_NOT_FOUND')

  const refused = await call('PUT', HOMEPAGE, { payload: { data: { headline: 5 } } })
  t.equal(refused.statusCode, 400)
  t.same(paths(refused.json()), ['/data/headline'])

  const first = await call('PUT', HOMEPAGE, { payload: { data: { headline: 'Welcome' } } })
  t.equal(first.statusCode, 200)
  t.equal(first.headers.etag, '"1"')
  const entry = first.json().data
  t.match(entry, { headline: 'Welcome', status: 'draft', version: 1, locale: 'en' })

  const second = await call('PUT', HOMEPAGE, { payload: { data: { tagline: 'Hi there' } } })
  t.equal(second.statusCode, 200)
  t.match(second.json().data, { documentId: entry.documentId, version: 2 })
  t.same(fieldsOf(second.json().data), { headline: 'Welcome', tagline: 'Hi there' }, 'the other fields stay')
  const read = await call('GET', HOMEPAGE)
  t.equal(read.statusCode, 200)
  t.equal(read.headers.etag, '"2"')
  t.same(read.json().data, second.json().data)
  t.equal(await app.prisma.entry.count(), 1, 'still one entry')

  // It has the other operations of an entry, by its document id.
  const published = await call('POST', `${TYPES}/homepage/entries/${entry.documentId}/publish`)
  t.equal(published.statusCode, 200)
  t.same(fieldsOf((await call('GET', `${HOMEPAGE}?status=published`)).json().data), { headline: 'Welcome', tagline: 'Hi there' })
  t.same((await call('GET', `${TYPES}/homepage/entries`)).json().meta.total, 1)
  t.same((await call('GET', `${TYPES}/homepage/entries/${entry.documentId}/versions`)).json().data.map((v: { action: string }) => v.action), ['publish', 'update', 'create'])

  const post = await call('POST', `${TYPES}/homepage/entries`, { payload: { data: { headline: 'Another' } } })
  t.equal(post.statusCode, 409)
  t.equal(post.json().code, 'GUDANG_ERR_CONFLICT')
  t.match(post.json().message, /single type/)
  t.equal(await app.prisma.entry.count(), 1)

  for (const method of ['GET', 'PUT'] as const) {
    const res = await call(method, `${TYPES}/article/entry`, { payload: method === 'PUT' ? { data: { title: 'X' } } : undefined })
    t.equal(res.statusCode, 409, `${method} …/entry of a collection type`)
    t.equal(res.json().code, 'GUDANG_ERR_CONFLICT')
    t.match(res.json().message, /collection type/)
  }
  t.equal(await app.prisma.entry.count(), 1)
})

t.test('a request refused by a check after other work, or by the database when writing, leaves no entry, version or audit row', async (t) => {
  const { app, call, create, read } = await setUp(t)
  const rows = async () => ({
    entries: await app.prisma.entry.count(),
    versions: await app.prisma.entryVersion.count(),
    audit: await app.prisma.auditEvent.count({ where: { action: { startsWith: 'entry.' } } }),
  })
  const held = await create({ title: 'First', code: 'TAKEN' }, NOTES)
  const before = await rows()
  t.same(before, { entries: 1, versions: 1, audit: 1 })

  // Found after the definition was read under the lock and the data passed the validator.
  const conflicts = await call('POST', NOTES, { payload: { data: { title: 'Second', code: 'TAKEN' } } })
  t.equal(conflicts.statusCode, 400)
  t.same(conflicts.json().details, [
    { in: 'body', path: '/data/code', message: `must be unique: a published entry (${held.documentId}) has this value` },
  ])
  const dangling = await call('POST', ARTICLES, { payload: { data: { title: 'Dangling', author: missing } } })
  t.equal(dangling.statusCode, 400)
  t.same(dangling.json().details, [{ in: 'body', path: '/data/author', message: `there is no "author" entry ${missing}` }])
  t.same(await rows(), before, 'no entry, version or audit row')

  // A value only PostgreSQL refuses (a NUL character in JSON) fails when the entry is written,
  // after the lock, the validator, the UID and the relation and unique checks.
  const refused = await call('POST', ARTICLES, { payload: { data: { title: 'Nul', extra: { text: 'a\u0000b' } } } })
  t.equal(refused.statusCode, 400)
  t.equal(refused.json().code, 'GUDANG_ERR_VALIDATION')
  t.same(await rows(), before, 'no entry, version or audit row')

  const article = await create({ title: 'Kept' })
  const saved = await rows()
  t.same(saved, { entries: 2, versions: 2, audit: 2 })
  const update = await call('PUT', `${ARTICLES}/${article.documentId}`, { payload: { data: { summary: 'New', extra: ['\u0000'] } } })
  t.equal(update.statusCode, 400)
  t.same(await rows(), saved, 'no version or audit row')
  t.same(await read(article.documentId), article, 'the entry is as it was: its version, data and dates')
  const retried = await call('PUT', `${ARTICLES}/${article.documentId}`, { headers: { 'if-match': '"1"' }, payload: { data: { summary: 'New' } } })
  t.equal(retried.statusCode, 200, 'the version did not move')
})

t.test('every change in one request happens in one transaction: a bulk change failing midway undoes what it did', async (t) => {
  const { app, call, create, read } = await setUp(t)
  const ready = await create({ title: 'Ready' })
  const unfinished = await create({ summary: 'No title yet' })
  const rows = async () => ({
    versions: await app.prisma.entryVersion.count(),
    audit: (await app.prisma.auditEvent.findMany({ where: { action: { startsWith: 'entry.' } } })).map((r) => r.action).sort(),
  })
  const before = await rows()
  t.same(before, { versions: 2, audit: ['entry.create', 'entry.create'] })

  // The first entry is published in the transaction, then the second cannot be.
  const publish = await call('POST', `${ARTICLES}/bulk/publish`, { payload: { documentIds: [ready.documentId, unfinished.documentId] } })
  t.equal(publish.statusCode, 400)
  t.equal(publish.json().code, 'GUDANG_ERR_VALIDATION')
  t.equal(publish.json().message, '1 of 2 entries could not be changed: nothing was')
  t.match(publish.json().details, [{
    documentId: unfinished.documentId,
    code: 'GUDANG_ERR_VALIDATION',
    message: /^Cannot publish: /,
    details: [{ in: 'body', path: '/data/title', message: 'must have required property \'title\'' }],
  }])
  t.equal(publish.json().details.length, 1)
  t.same(await read(ready.documentId), ready, 'the first entry is not published: same version, state and data')
  t.equal((await call('GET', `${ARTICLES}/${ready.documentId}?status=published`)).statusCode, 404, 'nor published')
  t.same(await rows(), before, 'no version or audit row of the undone publish')

  // Deleting: the first goes in the transaction, the second does not exist.
  const remove = await call('POST', `${ARTICLES}/bulk/delete`, { payload: { documentIds: [ready.documentId, missing] } })
  t.equal(remove.statusCode, 400)
  t.match(remove.json().details, [{ documentId: missing, code: 'GUDANG_ERR_NOT_FOUND' }])
  t.same(await read(ready.documentId), ready, 'the first entry is still there')
  t.same(await rows(), before, 'no audit row of the undone deletion')

  const done = await call('POST', `${ARTICLES}/bulk/publish`, { payload: { documentIds: [ready.documentId] } })
  t.equal(done.statusCode, 200)
  t.same(done.json(), { data: { count: 1 } })
  t.match(await read(ready.documentId), { status: 'published', version: 2 })
})

t.test('each change writes an audit row with its action and who made it', async (t) => {
  const { app, admin, call, create } = await setUp(t)
  const editor = await signInAs(app, admin, 'editor')
  const entry = await create({ title: 'Audited' })
  const at = `${ARTICLES}/${entry.documentId}`
  const steps: [method: 'POST' | 'PUT' | 'DELETE', url: string, who: SignedIn, data?: Payload][] = [
    ['PUT', at, editor, { summary: 'Edited' }],
    ['POST', `${at}/publish`, editor],
    ['PUT', at, admin, { summary: 'Again' }],
    ['POST', `${at}/discard`, admin],
    ['POST', `${at}/unpublish`, editor],
    ['POST', `${at}/versions/1/restore`, admin],
    ['DELETE', at, editor],
  ]
  for (const [method, url, as, data] of steps) {
    const res = await call(method, url, { as, payload: data === undefined ? undefined : { data } })
    t.equal(res.statusCode, method === 'DELETE' ? 204 : 200, `${method} ${url}`)
  }
  const rows = await app.prisma.auditEvent.findMany({ where: { action: { startsWith: 'entry.' } } })
  const version = (details: unknown) => (details as { version: number }).version
  // Ordered by version; the deletion names the last version, and comes after it.
  rows.sort((a, b) => version(a.details) - version(b.details) || Number(a.action === 'entry.delete') - Number(b.action === 'entry.delete'))
  t.same(rows.map((r) => [r.action, r.subject, r.userId, r.tokenId]), [
    ['entry.create', 'content:article', admin.user.id, null],
    ['entry.update', 'content:article', editor.user.id, null],
    ['entry.publish', 'content:article', editor.user.id, null],
    ['entry.update', 'content:article', admin.user.id, null],
    ['entry.discard', 'content:article', admin.user.id, null],
    ['entry.unpublish', 'content:article', editor.user.id, null],
    ['entry.restore', 'content:article', admin.user.id, null],
    ['entry.delete', 'content:article', editor.user.id, null],
  ])
  const base = { documentId: entry.documentId, locale: 'en' }
  t.same(rows.map((r) => r.details), [
    { ...base, version: 1, changed: ['category', 'slug', 'title', 'views'] },
    { ...base, version: 2, changed: ['summary'] },
    { ...base, version: 3, changed: ['category', 'slug', 'summary', 'title', 'views'] },
    { ...base, version: 4, changed: ['summary'] },
    { ...base, version: 5, changed: ['summary'] },
    { ...base, version: 6, changed: [] },
    { ...base, version: 7, changed: ['summary'] },
    { ...base, version: 7 },
  ])
})

t.test('API tokens: a full token changes entries as itself; tokens and callers that may not read drafts are turned away', async (t) => {
  const { app, admin, call } = await setUp(t)
  const token = async (kind: string) => {
    const res = await call('POST', '/api/admin/tokens', { payload: { name: kind, kind } })
    t.equal(res.statusCode, 201)
    return res.json().data as { id: string, accessKey: string }
  }
  const full = await token('full')
  const created = await app.inject({ method: 'POST', url: ARTICLES, headers: bearer(full.accessKey), payload: { data: { title: 'By a token' } } })
  t.equal(created.statusCode, 201)
  const entry = created.json().data
  t.match(entry, { createdBy: null, updatedBy: null })
  const at = `${ARTICLES}/${entry.documentId}`
  const steps: [method: 'POST' | 'PUT', url: string, data?: Payload][] = [
    ['PUT', at, { summary: 'Edited' }],
    ['POST', `${at}/publish`],
    ['PUT', at, { summary: 'Again' }],
    ['POST', `${at}/discard`],
    ['POST', `${at}/unpublish`],
    ['POST', `${at}/versions/1/restore`],
  ]
  for (const [method, url, data] of steps) {
    const payload = data === undefined ? undefined : { data }
    const res = await app.inject({ method, url, headers: bearer(full.accessKey), payload })
    t.equal(res.statusCode, 200, `${method} ${url}`)
    t.match(res.json().data, { createdBy: null, updatedBy: null }, `${method} ${url}`)
  }
  const versions = (await call('GET', `${at}/versions`)).json().data
  t.same(versions.map((v: Version) => [v.action, v.createdById]), [
    ['restore', null], ['unpublish', null], ['discard', null], ['update', null], ['publish', null], ['update', null], ['create', null],
  ])
  const audit = await app.prisma.auditEvent.findMany({ where: { action: { startsWith: 'entry.' } } })
  t.equal(audit.length, 7)
  t.ok(audit.every((row) => row.userId === null && row.tokenId === full.id), 'the token is named in the audit log')
  // An administrator's later save names them again.
  t.match((await call('PUT', at, { payload: { data: { summary: 'By a person' } } })).json().data, { createdBy: null, updatedBy: admin.user.id })

  const delivery = await token('delivery')
  const refused = await app.inject({ url: `${ARTICLES}/${entry.documentId}`, headers: bearer(delivery.accessKey) })
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().code, 'GUDANG_ERR_FORBIDDEN')
  t.match(refused.json().message, /\/api\/content/)

  // Even when the Public role may read the type, anonymous callers do not see drafts here.
  const publicRole = await roleId(app, admin, 'public')
  const granted = await call('PATCH', `/api/admin/roles/${publicRole}`, {
    payload: { permissions: [{ subject: 'content:article', action: 'read' }] },
  })
  t.equal(granted.statusCode, 200)
  const anonymous = await app.inject({ url: `${ARTICLES}/${entry.documentId}` })
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.json().code, 'GUDANG_ERR_UNAUTHENTICATED')
  const anonymousList = await app.inject({ url: ARTICLES })
  t.equal(anonymousList.statusCode, 401)
  t.equal((await app.inject({ url: `${TYPES}/note/entries` })).statusCode, 401, 'a type the Public role may not read')
})
