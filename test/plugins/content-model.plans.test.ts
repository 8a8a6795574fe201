import t, { type Test } from 'tap'
import { lockEntries } from '../../src/services/content-model.js'
import { markdownToBlocks } from '../../src/services/richtext.js'
import { buildWithAdmin, login, onPostgres, type SignedIn } from '../helper.js'

type App = Awaited<ReturnType<typeof buildWithAdmin>>
type Data = Record<string, unknown>
type Definition = { apiId: string, fields: Data[], [key: string]: unknown }

const TYPES = '/api/admin/content-types'
const COMPONENTS = '/api/admin/components'
const ENTRY_KEYS = ['createdAt', 'createdBy', 'documentId', 'locale', 'publishedAt', 'status', 'updatedAt', 'updatedBy', 'version']
const REFUSED = 'GUDANG_ERR_MODEL_CHANGE_REFUSED'
const VALUES_REASON = 'Values would not fit the new definition: convert them (changes.convert: clear) or change the entries first'

function collection(apiId: string, singularName: string, fields: Data[], options: Data = {}): Definition {
  return { apiId, kind: 'collection', singularName, pluralName: `${singularName}s`, ...options, fields }
}

/** An entry's fields as the API answers it, without the entry's own properties. */
function fieldsOf(data: Data): Data {
  return Object.fromEntries(Object.entries(data).filter(([key]) => !ENTRY_KEYS.includes(key)))
}

/** A blocked-values item of a plan, for one entry. */
function failure(documentId: string, path: string, message: string, status = 'draft') {
  return { documentId, locale: 'en', status, path, message }
}

async function setUp(t: Test) {
  const app = await buildWithAdmin(t)
  const admin = await login(app)
  return client(app, admin)
}

function client(app: App, admin: SignedIn) {
  const inject = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
    app.inject({ method, url, headers: admin.headers, ...(payload === undefined ? {} : { payload }) })
  /** Answers the body's `data`, failing unless the status is the one expected. */
  const expect = async (status: number, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) => {
    const res = await inject(method, url, payload)
    if (res.statusCode !== status) throw new Error(`${method} ${url} answered ${res.statusCode}: ${res.body}`)
    return res.json().data
  }
  const definitions = new Map<string, Definition>()
  const api = {
    app,
    admin,
    inject,
    async createType(definition: Definition) {
      definitions.set(definition.apiId, definition)
      return expect(201, 'POST', TYPES, definition)
    },
    async createComponent(definition: Data) {
      return expect(201, 'POST', COMPONENTS, definition)
    },
    /** The definition a type was created with, fields replaced (without its API id). */
    definition(apiId: string, fields: Data[]) {
      const { apiId: _, ...rest } = definitions.get(apiId) as Definition
      return { ...rest, fields }
    },
    async create(apiId: string, data: Data, query = ''): Promise<string> {
      return (await expect(201, 'POST', `${TYPES}/${apiId}/entries${query}`, { data })).documentId
    },
    async publish(apiId: string, documentId: string) {
      return expect(200, 'POST', `${TYPES}/${apiId}/entries/${documentId}/publish`)
    },
    async save(apiId: string, documentId: string, data: Data) {
      return expect(200, 'PUT', `${TYPES}/${apiId}/entries/${documentId}`, { data })
    },
    async entry(apiId: string, documentId: string, status = 'draft') {
      return expect(200, 'GET', `${TYPES}/${apiId}/entries/${documentId}?status=${status}`)
    },
    async fields(apiId: string, documentId: string, status = 'draft') {
      return fieldsOf(await api.entry(apiId, documentId, status))
    },
    async type(apiId: string) {
      return expect(200, 'GET', `${TYPES}/${apiId}`)
    },
    change(apiId: string, fields: Data[], changes?: Data, options: Data = {}) {
      return inject('PUT', `${TYPES}/${apiId}`, { ...api.definition(apiId, fields), ...options, ...(changes === undefined ? {} : { changes }) })
    },
    async plan(apiId: string, fields: Data[], changes?: Data, options: Data = {}) {
      return expect(200, 'POST', `${TYPES}/${apiId}/plan`, { ...api.definition(apiId, fields), ...options, ...(changes === undefined ? {} : { changes }) })
    },
    /** Every entry of a type, as the database holds it, oldest first. */
    async rows(apiId: string) {
      return app.prisma.entry.findMany({
        where: { contentType: { apiId } },
        orderBy: { createdAt: 'asc' },
        select: { documentId: true, locale: true, draft: true, published: true, version: true, publishedVersion: true },
      })
    },
  }
  return api
}

const articleFields = [
  { name: 'title', type: 'string', required: true },
  { name: 'views', type: 'string' },
  { name: 'summary', type: 'text' },
]

t.test('a rename keeps values; an impossible type change is refused with the entries listed; removing a field with data needs a confirmation', async (t) => {
  const api = await setUp(t)
  await api.createType(collection('article', 'Article', articleFields))
  const hello = await api.create('article', { title: 'Hello', views: '12', summary: 'A greeting' })
  const world = await api.create('article', { title: 'World', views: 'many' })
  const before = await api.rows('article')

  const renamed = await api.change('article', [
    { name: 'headline', type: 'string', required: true },
    { name: 'views', type: 'string' },
    { name: 'summary', type: 'text' },
  ], { rename: { title: 'headline' } })
  t.equal(renamed.statusCode, 200, renamed.body)
  t.strictSame(renamed.json().meta.plan, {
    steps: [{ action: 'rename', field: 'headline', from: 'title', entries: 2 }],
    blocked: [],
    invalid: { count: 0, entries: [] },
    applicable: true,
  })
  t.match(renamed.json().data, { apiId: 'article', version: 2, fields: [{ name: 'headline' }, { name: 'views' }, { name: 'summary' }] })
  t.strictSame(await api.fields('article', hello), { headline: 'Hello', views: '12', summary: 'A greeting' })
  t.strictSame(await api.fields('article', world), { headline: 'World', views: 'many' })
  const versions = await api.inject('GET', `${TYPES}/article/entries/${hello}/versions`)
  t.strictSame(versions.json().data.map((v: Data) => [v.version, v.action, v.changed, v.createdById]), [
    [2, 'migrate', ['headline', 'title'], api.admin.user.id],
    [1, 'create', ['summary', 'title', 'views'], api.admin.user.id],
  ], 'the entry\'s history tells of the migration')

  const current = [{ name: 'headline', type: 'string', required: true }, { name: 'views', type: 'string' }, { name: 'summary', type: 'text' }]
  const retyped = await api.change('article', [current[0], { name: 'views', type: 'integer' }, current[2]] as Data[])
  t.equal(retyped.statusCode, 409)
  t.equal(retyped.json().code, REFUSED)
  t.equal(retyped.json().message, `The change would lose or break content: ${VALUES_REASON}`)
  t.strictSame(retyped.json().details, {
    steps: [{ action: 'retype', field: 'views', from: 'string', to: 'integer', entries: 2 }],
    blocked: [{ reason: VALUES_REASON, count: 1, entries: [failure(world, '/views', 'is not a number')] }],
    invalid: { count: 0, entries: [] },
    applicable: false,
  })

  const removed = await api.change('article', [current[0], current[1]] as Data[])
  t.equal(removed.statusCode, 409)
  const removal = 'Field "summary" holds data in 1 entries: confirm its removal (changes.remove)'
  t.strictSame(removed.json().details, {
    steps: [{ action: 'remove', field: 'summary', type: 'text', entries: 1 }],
    blocked: [{ reason: removal, count: 1, entries: [] }],
    invalid: { count: 0, entries: [] },
    applicable: false,
  })
  t.equal(removed.json().message, `The change would lose or break content: ${removal}`)

  t.equal((await api.type('article')).version, 2, 'neither refused change was applied')
  t.strictSame(await api.fields('article', hello), { headline: 'Hello', views: '12', summary: 'A greeting' })
  t.strictSame((await api.rows('article')).map((r) => r.version), before.map((r) => r.version + 1), 'the rename changed each entry once')
})

t.test('a plan lists the steps with the entries each touches, and changes nothing', async (t) => {
  const api = await setUp(t)
  await api.createType(collection('article', 'Article', [
    { name: 'title', type: 'string' },
    { name: 'views', type: 'integer' },
    { name: 'category', type: 'enumeration', values: ['news', 'guide'] },
    { name: 'summary', type: 'text' },
    { name: 'notes', type: 'text' },
  ]))
  const a = await api.create('article', { title: 'A', views: 1, category: 'news', summary: 'S' })
  const b = await api.create('article', { title: 'B', views: 2 })
  const c = await api.create('article', { summary: 'only a summary' })
  await api.publish('article', a)
  const before = await api.rows('article')
  const typeBefore = await api.type('article')

  const next = [
    { name: 'headline', type: 'text', maxLength: 40 },
    { name: 'views', type: 'string' },
    { name: 'category', type: 'enumeration', values: ['news', 'guide', 'review'] },
    { name: 'subtitle', type: 'string' },
  ]
  const plan = await api.plan('article', next, { rename: { title: 'headline' } })
  t.strictSame(plan, {
    steps: [
      { action: 'rename', field: 'headline', from: 'title', entries: 2 },
      { action: 'retype', field: 'headline', from: 'string', to: 'text', entries: 2 },
      { action: 'change', field: 'headline', options: ['maxLength'], entries: 2 },
      { action: 'retype', field: 'views', from: 'integer', to: 'string', entries: 2 },
      { action: 'change', field: 'category', options: ['values'], entries: 1 },
      { action: 'add', field: 'subtitle', type: 'string', entries: 0 },
      { action: 'remove', field: 'summary', type: 'text', entries: 2 },
      { action: 'remove', field: 'notes', type: 'text', entries: 0 },
    ],
    blocked: [{ reason: 'Field "summary" holds data in 2 entries: confirm its removal (changes.remove)', count: 2, entries: [] }],
    invalid: { count: 0, entries: [] },
    applicable: false,
  }, 'a removal of a field without data needs no confirmation')
  const confirmed = await api.plan('article', next, { rename: { title: 'headline' }, remove: ['summary'] })
  t.strictSame(confirmed.blocked, [])
  t.equal(confirmed.applicable, true)

  t.strictSame(await api.type('article'), typeBefore, 'the type is as it was')
  t.strictSame(await api.rows('article'), before, 'the entries are as they were')
  t.strictSame(await api.fields('article', c), { summary: 'only a summary' })
  const history = await api.inject('GET', `${TYPES}/article/versions`)
  t.equal(history.json().meta.total, 1, 'no version was recorded')

  const missing = await api.inject('POST', `${TYPES}/ghost/plan`, api.definition('article', next))
  t.equal(missing.statusCode, 404)
  const bad = await api.inject('POST', `${TYPES}/article/plan`, api.definition('article', [{ name: 'id', type: 'string' }]))
  t.equal(bad.statusCode, 400)
  t.strictSame(bad.json().details, [{ in: 'body', path: '/fields/0/name', message: '"id" is reserved' }])
  t.strictSame((await api.rows('article')).map((r) => r.documentId), [a, b, c])
})

t.test('values convert to a new type where that keeps their meaning', async (t) => {
  const api = await setUp(t)
  await api.createComponent({ uid: 'shared.link', displayName: 'Link', fields: [{ name: 'label', type: 'string' }] })
  const fields = [
    { name: 'count', type: 'string' },
    { name: 'code', type: 'integer' },
    { name: 'day', type: 'date' },
    { name: 'at', type: 'datetime' },
    { name: 'price', type: 'integer' },
    { name: 'related', type: 'relation', target: 'sample', relation: 'toOne' },
    { name: 'link', type: 'component', component: 'shared.link' },
    { name: 'body', type: 'text' },
    { name: 'flag', type: 'string' },
  ]
  await api.createType(collection('sample', 'Sample', fields))
  const target = await api.create('sample', {})
  const markdown = 'Hello **world**\n\nSecond paragraph'
  const sample = await api.create('sample', {
    count: '12',
    code: 42,
    day: '2026-11-21',
    at: '2026-11-22T00:00:00.000Z',
    price: 5,
    related: target,
    link: { label: 'Home' },
    body: markdown,
    flag: 'true',
  })
  const next = [
    { name: 'count', type: 'integer' },
    { name: 'code', type: 'string' },
    { name: 'day', type: 'datetime' },
    { name: 'at', type: 'date' },
    { name: 'price', type: 'decimal' },
    { name: 'related', type: 'relation', target: 'sample', relation: 'toMany' },
    { name: 'link', type: 'component', component: 'shared.link', repeatable: true },
    { name: 'body', type: 'richtext' },
    { name: 'flag', type: 'boolean' },
  ]
  const res = await api.change('sample', next)
  t.equal(res.statusCode, 200, res.body)
  t.strictSame(res.json().meta.plan.steps, [
    { action: 'retype', field: 'count', from: 'string', to: 'integer', entries: 1 },
    { action: 'retype', field: 'code', from: 'integer', to: 'string', entries: 1 },
    { action: 'retype', field: 'day', from: 'date', to: 'datetime', entries: 1 },
    { action: 'retype', field: 'at', from: 'datetime', to: 'date', entries: 1 },
    { action: 'retype', field: 'price', from: 'integer', to: 'decimal', entries: 1 },
    { action: 'retype', field: 'related', from: 'relation toOne sample', to: 'relation toMany sample', entries: 1 },
    { action: 'retype', field: 'link', from: 'component shared.link one', to: 'component shared.link many', entries: 1 },
    { action: 'retype', field: 'body', from: 'text', to: 'richtext', entries: 1 },
    { action: 'retype', field: 'flag', from: 'string', to: 'boolean', entries: 1 },
  ])
  t.strictSame(await api.fields('sample', sample), {
    count: 12,
    code: '42',
    day: '2026-11-21T00:00:00.000Z',
    at: '2026-11-22',
    price: 5,
    related: [target],
    link: [{ label: 'Home' }],
    body: markdownToBlocks(markdown),
    flag: true,
  })
  t.strictSame(await api.fields('sample', target), {}, 'an entry without values is left alone')
  t.strictSame((await api.rows('sample')).map((r) => r.version), [1, 2], 'only the entry whose data changed has a new version')

  const back = await api.change('sample', [
    { name: 'count', type: 'string' },
    { name: 'code', type: 'integer' },
    { name: 'day', type: 'date' },
    { name: 'at', type: 'datetime' },
    { name: 'price', type: 'integer' },
    { name: 'related', type: 'relation', target: 'sample', relation: 'toOne' },
    { name: 'link', type: 'component', component: 'shared.link' },
    { name: 'body', type: 'richtext' },
    { name: 'flag', type: 'string' },
  ])
  t.equal(back.statusCode, 200, back.body)
  t.strictSame(await api.fields('sample', sample), {
    count: '12',
    code: 42,
    day: '2026-11-21',
    at: '2026-11-22T00:00:00.000Z',
    price: 5,
    related: target,
    link: { label: 'Home' },
    body: markdownToBlocks(markdown),
    flag: 'true',
  }, 'and back, where the values allow it')
})

t.test('changes.convert: clear drops the values that do not convert or fit; without it they block the change', async (t) => {
  const api = await setUp(t)
  await api.createType(collection('article', 'Article', [
    { name: 'views', type: 'string' },
    { name: 'category', type: 'enumeration', values: ['news', 'guide', 'old'] },
    { name: 'at', type: 'datetime' },
  ]))
  const kept = await api.create('article', { views: '12', category: 'news', at: '2026-11-21T00:00:00Z' })
  const lost = await api.create('article', { views: 'many', category: 'old', at: '2026-11-21T09:30:00Z' })
  const next = [
    { name: 'views', type: 'integer' },
    { name: 'category', type: 'enumeration', values: ['news', 'guide'] },
    { name: 'at', type: 'date' },
  ]

  const refused = await api.change('article', next)
  t.equal(refused.statusCode, 409)
  t.strictSame(refused.json().details.blocked, [{
    reason: VALUES_REASON,
    count: 3,
    entries: [
      failure(lost, '/views', 'is not a number'),
      failure(lost, '/at', 'has a time of day'),
      failure(lost, '/category', 'must be equal to one of the allowed values: news, guide'),
    ],
  }])
  t.strictSame(refused.json().details.steps, [
    { action: 'retype', field: 'views', from: 'string', to: 'integer', entries: 2 },
    { action: 'change', field: 'category', options: ['values'], entries: 2 },
    { action: 'retype', field: 'at', from: 'datetime', to: 'date', entries: 2 },
  ])

  const unknown = await api.change('article', next, { convert: { ghost: 'clear' } })
  t.equal(unknown.statusCode, 400)
  t.strictSame(unknown.json().details, [{ in: 'body', path: '/changes/convert/ghost', message: 'there is no field "ghost" in the new definition' }])
  const notClear = await api.change('article', next, { convert: { views: 'keep' } })
  t.equal(notClear.statusCode, 400, 'clear is the only conversion asked for')

  const cleared = await api.change('article', next, { convert: { views: 'clear', category: 'clear', at: 'clear' } })
  t.equal(cleared.statusCode, 200, cleared.body)
  t.strictSame(cleared.json().meta.plan.blocked, [])
  t.strictSame(await api.fields('article', kept), { views: 12, category: 'news', at: '2026-11-21' })
  t.strictSame(await api.fields('article', lost), {}, 'a value that does not convert, or an enumeration value that is no more, is gone')
})

t.test('a confirmed removal deletes the field\'s data, in drafts and published data', async (t) => {
  const api = await setUp(t)
  await api.createType(collection('article', 'Article', articleFields))
  const a = await api.create('article', { title: 'A', summary: 'gone soon' })
  await api.publish('article', a)
  const res = await api.change('article', [articleFields[0], articleFields[1]] as Data[], { remove: ['summary'] })
  t.equal(res.statusCode, 200, res.body)
  t.strictSame(res.json().meta.plan, {
    steps: [{ action: 'remove', field: 'summary', type: 'text', entries: 1 }],
    blocked: [],
    invalid: { count: 0, entries: [] },
    applicable: true,
  })
  t.strictSame(await api.fields('article', a), { title: 'A' })
  t.strictSame(await api.fields('article', a, 'published'), { title: 'A' })
})

t.test('published entries stay published, their published data migrated too', async (t) => {
  const api = await setUp(t)
  await api.createType(collection('article', 'Article', articleFields))
  const published = await api.create('article', { title: 'Published', views: '1' })
  await api.publish('article', published)
  const modified = await api.create('article', { title: 'Modified', views: '2' })
  await api.publish('article', modified)
  await api.save('article', modified, { title: 'Modified draft' })
  const draft = await api.create('article', { title: 'Draft', views: '3' })
  const before = await api.rows('article')

  const res = await api.change('article', [
    { name: 'headline', type: 'string', required: true },
    { name: 'views', type: 'integer' },
    { name: 'summary', type: 'text' },
  ], { rename: { title: 'headline' } })
  t.equal(res.statusCode, 200, res.body)

  t.match(await api.entry('article', published), { status: 'published', version: before[0]!.version + 1 })
  t.strictSame(await api.fields('article', published), { headline: 'Published', views: 1 })
  t.strictSame(await api.fields('article', published, 'published'), { headline: 'Published', views: 1 })
  t.match(await api.entry('article', modified), { status: 'modified' })
  t.strictSame(await api.fields('article', modified), { headline: 'Modified draft', views: 2 })
  t.strictSame(await api.fields('article', modified, 'published'), { headline: 'Modified', views: 2 })
  t.match(await api.entry('article', draft), { status: 'draft' })
  t.strictSame(await api.fields('article', draft), { headline: 'Draft', views: 3 })
  const after = await api.rows('article')
  t.strictSame(after.map((r) => [r.version, r.publishedVersion]), [[3, 3], [4, 2], [2, null]], 'the modified entry is still modified')

  t.match(await api.publish('article', modified), { status: 'published', headline: 'Modified draft' }, 'a migrated entry publishes')
})

t.test('the plan lists published entries that a new rule would stop from being published again', async (t) => {
  const api = await setUp(t)
  await api.createType(collection('article', 'Article', articleFields))
  const published = await api.create('article', { title: 'Published' })
  await api.publish('article', published)
  await api.create('article', { title: 'Draft only' })
  const next = [...articleFields, { name: 'subtitle', type: 'string', required: true }]

  const invalid = { count: 1, entries: [failure(published, '/subtitle', 'must have required property \'subtitle\'', 'published')] }
  t.strictSame((await api.plan('article', next)).invalid, invalid)
  const res = await api.change('article', next)
  t.equal(res.statusCode, 200, res.body)
  t.strictSame(res.json().meta.plan, {
    steps: [{ action: 'add', field: 'subtitle', type: 'string', entries: 0 }],
    blocked: [],
    invalid,
    applicable: true,
  }, 'they do not block the change')
  t.match(await api.entry('article', published), { status: 'published', version: 2 }, 'and stay published')

  await api.save('article', published, { title: 'Edited' })
  const republish = await api.inject('POST', `${TYPES}/article/entries/${published}/publish`)
  t.equal(republish.statusCode, 400)
  t.strictSame(republish.json().details, [{ in: 'body', path: '/data/subtitle', message: 'must have required property \'subtitle\'' }])
})

t.test('type options the entries do not fit block the change', async (t) => {
  const api = await setUp(t)
  await api.createType(collection('article', 'Article', articleFields))
  const draft = await api.create('article', { title: 'Draft' })
  const modified = await api.create('article', { title: 'Modified' })
  await api.publish('article', modified)
  await api.save('article', modified, { title: 'Modified again' })

  const noDrafts = await api.change('article', articleFields, undefined, { draftAndPublish: false })
  t.equal(noDrafts.statusCode, 409)
  const reason = 'Without draft & publish, saving publishes: publish or discard these drafts first'
  const blocked = noDrafts.json().details.blocked
  t.strictSame(blocked.map((b: Data) => [b.reason, b.count]), [[reason, 2]])
  t.strictSame(
    blocked[0].entries.sort((x: Data, y: Data) => String(x.documentId).localeCompare(String(y.documentId))),
    [draft, modified].sort().map((documentId) => ({ documentId, locale: 'en', status: 'draft', path: '/', message: 'has an unpublished draft' })),
  )

  const single = await api.change('article', articleFields, undefined, { kind: 'single' })
  t.equal(single.statusCode, 409)
  t.strictSame(single.json().details.blocked, [{ reason: 'A single type has one entry; "Article" has 2', count: 2, entries: [] }])
  t.equal((await api.type('article')).version, 1)

  await api.publish('article', draft)
  await api.publish('article', modified)
  const now = await api.change('article', articleFields, undefined, { draftAndPublish: false })
  t.equal(now.statusCode, 200, 'once every draft is published')
  t.match(now.json().data, { draftAndPublish: false, version: 2 })
  t.strictSame(now.json().meta.plan.steps, [])

  await api.inject('DELETE', `${TYPES}/article/entries/${draft}`)
  const oneEntry = await api.change('article', articleFields, undefined, { kind: 'single', draftAndPublish: false })
  t.equal(oneEntry.statusCode, 200, 'a collection of one entry becomes a single type')
  t.equal(oneEntry.json().data.kind, 'single')
})

t.test('a localized type with entries in several locales cannot stop being localized', async (t) => {
  const api = await setUp(t)
  const locale = await api.inject('POST', '/api/admin/locales', { code: 'fr', name: 'French' })
  t.equal(locale.statusCode, 201, locale.body)
  await api.createType(collection('article', 'Article', articleFields, { localized: true }))
  const both = await api.create('article', { title: 'Hello' })
  const fr = await api.inject('PUT', `${TYPES}/article/entries/${both}?locale=fr`, { data: { title: 'Bonjour' } })
  t.equal(fr.statusCode, 200, fr.body)
  const one = await api.create('article', { title: 'English only' })

  const res = await api.change('article', articleFields, undefined, { localized: false })
  t.equal(res.statusCode, 409)
  const message = 'has several locales'
  t.strictSame(res.json().details.blocked, [{
    reason: 'Entries have several locales: delete all but one of each first',
    count: 2,
    entries: [
      { documentId: both, locale: 'en', status: 'draft', path: '/', message },
      { documentId: both, locale: 'fr', status: 'draft', path: '/', message },
    ],
  }])
  await api.inject('DELETE', `${TYPES}/article/entries/${both}?locale=fr`)
  const now = await api.change('article', articleFields, undefined, { localized: false })
  t.equal(now.statusCode, 200, now.body)
  t.strictSame((await api.rows('article')).map((r) => r.documentId).sort(), [both, one].sort())
})

t.test('a component change reaches its values in every type that uses it, in zones and nested components', async (t) => {
  const api = await setUp(t)
  const linkFields = [{ name: 'label', type: 'string' }, { name: 'url', type: 'string' }]
  await api.createComponent({ uid: 'shared.link', displayName: 'Link', fields: linkFields })
  await api.createComponent({
    uid: 'blocks.card',
    displayName: 'Card',
    fields: [{ name: 'title', type: 'string' }, { name: 'link', type: 'component', component: 'shared.link' }],
  })
  await api.createType(collection('page', 'Page', [
    { name: 'title', type: 'string' },
    { name: 'link', type: 'component', component: 'shared.link' },
    { name: 'links', type: 'component', component: 'shared.link', repeatable: true },
    { name: 'blocks', type: 'dynamiczone', components: ['blocks.card', 'shared.link'] },
  ]))
  await api.createType(collection('post', 'Post', [{ name: 'card', type: 'component', component: 'blocks.card' }]))
  await api.createType(collection('tag', 'Tag', [{ name: 'name', type: 'string' }]))
  await api.createType(collection('landing', 'Landing', [{ name: 'zone', type: 'dynamiczone', components: ['shared.link'] }]))
  const landing = await api.create('landing', { zone: [{ __component: 'shared.link', label: 'Only in a zone' }] })
  const page = await api.create('page', {
    title: 'Home',
    link: { label: 'Top', url: 'https://example.com' },
    links: [{ label: 'One' }, { label: 'Two', url: 'https://two.example' }],
    blocks: [
      { __component: 'shared.link', label: 'In a zone' },
      { __component: 'blocks.card', title: 'Card', link: { label: 'In a card in a zone' } },
    ],
  })
  await api.publish('page', page)
  const post = await api.create('post', { card: { title: 'Deep', link: { label: 'In a card' } } })
  const bare = await api.create('post', { card: { title: 'No link' } })
  const tag = await api.create('tag', { name: 'untouched' })
  const tagBefore = await api.rows('tag')

  const next = [{ name: 'text', type: 'string' }, { name: 'url', type: 'string' }]
  const plan = await api.inject('POST', `${COMPONENTS}/shared.link/plan`, { displayName: 'Link', fields: next, changes: { rename: { label: 'text' } } })
  t.equal(plan.statusCode, 200, plan.body)
  t.strictSame(plan.json().data, {
    steps: [{ action: 'rename', field: 'text', from: 'label', entries: 3 }],
    blocked: [],
    invalid: { count: 0, entries: [] },
    applicable: true,
  }, 'the entries holding a link: the page, one post and the landing page')
  t.strictSame(await api.fields('post', post), { card: { title: 'Deep', link: { label: 'In a card' } } }, 'a plan changes nothing')

  const res = await api.inject('PUT', `${COMPONENTS}/shared.link`, { displayName: 'Link', fields: next, changes: { rename: { label: 'text' } } })
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json(), { data: { uid: 'shared.link', version: 2 }, meta: { plan: { applicable: true } } })
  const migratedPage = {
    title: 'Home',
    link: { text: 'Top', url: 'https://example.com' },
    links: [{ text: 'One' }, { text: 'Two', url: 'https://two.example' }],
    blocks: [
      { __component: 'shared.link', text: 'In a zone' },
      { __component: 'blocks.card', title: 'Card', link: { text: 'In a card in a zone' } },
    ],
  }
  t.strictSame(await api.fields('page', page), migratedPage)
  t.strictSame(await api.fields('page', page, 'published'), migratedPage)
  t.match(await api.entry('page', page), { status: 'published' })
  t.strictSame(await api.fields('post', post), { card: { title: 'Deep', link: { text: 'In a card' } } })
  t.strictSame(await api.fields('post', bare), { card: { title: 'No link' } })
  t.strictSame(await api.fields('landing', landing), { zone: [{ __component: 'shared.link', text: 'Only in a zone' }] })
  t.strictSame(await api.rows('tag'), tagBefore, 'a type that does not use it is left alone')
  t.strictSame(await api.fields('tag', tag), { name: 'untouched' })

  const refused = await api.inject('PUT', `${COMPONENTS}/shared.link`, {
    displayName: 'Link',
    fields: [{ name: 'text', type: 'integer' }, { name: 'url', type: 'string' }],
  })
  t.equal(refused.statusCode, 409)
  t.equal(refused.json().code, REFUSED)
  const failed: Data[] = refused.json().details.blocked[0].entries
  const pathsOf = (documentId: string) => failed.filter((e) => e.documentId === documentId).map((e) => `${e.status} ${e.path}`)
  t.strictSame(pathsOf(page), [
    'draft /link/text',
    'draft /links/0/text',
    'draft /links/1/text',
    'draft /blocks/1/link/text',
    'draft /blocks/0/text',
    'published /link/text',
    'published /links/0/text',
    'published /links/1/text',
    'published /blocks/1/link/text',
    'published /blocks/0/text',
  ], 'every value that does not convert, at its path')
  t.strictSame(pathsOf(post), ['draft /card/link/text'])
  t.strictSame(pathsOf(landing), ['draft /zone/0/text'])
  t.match(refused.json().details.blocked[0], { count: 12 })

  const removal = await api.inject('PUT', `${COMPONENTS}/shared.link`, { displayName: 'Link', fields: [next[0]] })
  t.equal(removal.statusCode, 409)
  t.strictSame(removal.json().details.blocked, [{ reason: 'Field "url" holds data in 1 entries: confirm its removal (changes.remove)', count: 1, entries: [] }])
  t.equal((await api.inject('GET', `${COMPONENTS}/shared.link`)).json().data.version, 2, 'refused changes are not applied')
  const ghost = await api.inject('POST', `${COMPONENTS}/shared.ghost/plan`, { displayName: 'Ghost', fields: [] })
  t.equal(ghost.statusCode, 404)
})

t.test('changes that cannot be are refused with 400, naming each problem', async (t) => {
  const api = await setUp(t)
  await api.createComponent({ uid: 'shared.link', displayName: 'Link', fields: [{ name: 'label', type: 'string' }] })
  await api.createType(collection('article', 'Article', articleFields))
  await api.create('article', { title: 'A' })
  const next = [{ name: 'headline', type: 'string' }, { name: 'views', type: 'string' }, { name: 'summary', type: 'text' }]
  const res = await api.change('article', next, { rename: { ghost: 'headline', title: 'nowhere' } })
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'GUDANG_ERR_VALIDATION')
  t.strictSame(res.json().details, [
    { in: 'body', path: '/changes/rename/ghost', message: 'there is no field "ghost" to rename' },
    { in: 'body', path: '/changes/rename/title', message: 'the new definition has no field "nowhere"' },
  ])
  const kept = await api.change('article', articleFields, { rename: { title: 'views' } })
  t.strictSame(kept.json().details, [{ in: 'body', path: '/changes/rename/title', message: '"title" is still in the new definition: rename it or keep it' }])
  const unknownKey = await api.change('article', articleFields, { rename: {}, keep: ['title'] })
  t.equal(unknownKey.statusCode, 400)
  const badName = await api.change('article', articleFields, { rename: { title: 'not a name' } })
  t.equal(badName.statusCode, 400)
  const component = await api.inject('PUT', `${COMPONENTS}/shared.link`, {
    displayName: 'Link',
    fields: [{ name: 'text', type: 'string' }],
    changes: { rename: { title: 'text' } },
  })
  t.equal(component.statusCode, 400)
  t.strictSame(component.json().details, [{ in: 'body', path: '/changes/rename/title', message: 'there is no field "title" to rename' }])
  t.equal((await api.type('article')).version, 1)
  t.strictSame(await api.fields('article', (await api.rows('article'))[0]!.documentId), { title: 'A' })
})

t.test('the history lists the steps of each version', async (t) => {
  const api = await setUp(t)
  await api.createType(collection('article', 'Article', articleFields))
  await api.create('article', { title: 'A', summary: 'S' })
  const res = await api.change('article', [{ name: 'headline', type: 'string', required: true }, articleFields[1]] as Data[], {
    rename: { title: 'headline' },
    remove: ['summary'],
  })
  t.equal(res.statusCode, 200, res.body)
  const history = await api.inject('GET', `${TYPES}/article/versions`)
  t.equal(history.statusCode, 200)
  const versions = history.json().data
  t.strictSame(versions.map((v: Data) => [v.version, v.changes]), [
    [2, [
      { action: 'rename', field: 'headline', from: 'title', entries: 1 },
      { action: 'remove', field: 'summary', type: 'text', entries: 1 },
    ]],
    [1, [
      { action: 'add', field: 'title', type: 'string' },
      { action: 'add', field: 'views', type: 'string' },
      { action: 'add', field: 'summary', type: 'text' },
    ]],
  ])
  t.strictSame(versions[0].definition.fields, [{ name: 'headline', type: 'string', required: true }, articleFields[1]])
  t.equal(versions[0].createdById, api.admin.user.id)
})

t.test('entry saves and model changes take turns: no old-shape data, no unseen draft, no type deleted under a new entry', { skip: !onPostgres && 'needs PostgreSQL: the embedded database serves one transaction at a time' }, async (t) => {
  const api = await setUp(t)
  const type = await api.createType(collection('article', 'Article', articleFields))
  const waiting = async () => {
    const [{ count }] = await api.app.prisma.$queryRaw<[{ count: number }]>`
      SELECT count(*)::int AS count FROM pg_locks
      WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`
    return count
  }
  const until = async (count: number) => {
    for (let i = 0; i < 3000 && await waiting() < count; i++) await new Promise((resolve) => setTimeout(resolve, 20))
    t.equal(await waiting(), count, `${count} writer(s) wait for the entries`)
  }
  const renamed = [{ name: 'headline', type: 'string', required: true }, articleFields[1], articleFields[2]] as Data[]

  // The model change takes its turn first: the entry's save then reads the new definition.
  let release = () => {}
  const held = api.app.prisma.$transaction(async (tx) => {
    await lockEntries(tx, type.id)
    await new Promise<void>((resolve) => {
      release = resolve
    })
  }, { timeout: 60_000 })
  await until(0)
  const change = api.change('article', renamed, { rename: { title: 'headline' } })
  await until(1)
  const save = api.inject('POST', `${TYPES}/article/entries`, { data: { title: 'Old shape' } })
  await until(2)
  release()
  await held
  t.equal((await change).statusCode, 200)
  const refused = await save
  t.equal(refused.statusCode, 400)
  t.strictSame(refused.json().details, [{ in: 'body', path: '/data/title', message: 'must NOT have additional properties' }])

  // The save takes its turn first: the model change then migrates what it wrote.
  const held2 = api.app.prisma.$transaction(async (tx) => {
    await lockEntries(tx, type.id)
    await new Promise<void>((resolve) => {
      release = resolve
    })
  }, { timeout: 60_000 })
  await until(0)
  const saved = api.inject('POST', `${TYPES}/article/entries`, { data: { headline: 'Saved first' } })
  await until(1)
  const back = api.change('article', articleFields, { rename: { headline: 'title' } })
  await until(2)
  release()
  await held2
  t.equal((await saved).statusCode, 201)
  t.equal((await back).statusCode, 200)
  t.strictSame((await api.rows('article')).map((r) => r.draft), [{ title: 'Saved first' }])

  // A draft saved while the change waits is seen by the checks of the type's options.
  await api.publish('article', (await api.rows('article'))[0]!.documentId)
  const held3 = api.app.prisma.$transaction(async (tx) => {
    await lockEntries(tx, type.id)
    await new Promise<void>((resolve) => {
      release = resolve
    })
  }, { timeout: 60_000 })
  await until(0)
  const draft = api.inject('POST', `${TYPES}/article/entries`, { data: { title: 'A draft' } })
  await until(1)
  const noDrafts = api.change('article', articleFields, undefined, { draftAndPublish: false })
  await until(2)
  release()
  await held3
  t.equal((await draft).statusCode, 201)
  const refusedChange = await noDrafts
  t.equal(refusedChange.statusCode, 409, 'the new draft blocks the change')
  t.strictSame(refusedChange.json().details.blocked.map((b: Data) => b.count), [1])

  // An entry saved while the type's deletion waits keeps the type.
  for (const row of await api.rows('article')) await api.inject('DELETE', `${TYPES}/article/entries/${row.documentId}`)
  const held4 = api.app.prisma.$transaction(async (tx) => {
    await lockEntries(tx, type.id)
    await new Promise<void>((resolve) => {
      release = resolve
    })
  }, { timeout: 60_000 })
  await until(0)
  const last = api.inject('POST', `${TYPES}/article/entries`, { data: { title: 'Last' } })
  await until(1)
  const deletion = api.inject('DELETE', `${TYPES}/article`)
  await until(2)
  release()
  await held4
  t.equal((await last).statusCode, 201)
  const refusedDeletion = await deletion
  t.equal(refusedDeletion.statusCode, 409, refusedDeletion.body)
  t.strictSame(refusedDeletion.json().details, { entries: 1 })
})

t.test('a change that moves no value leaves the entries as they are', async (t) => {
  const api = await setUp(t)
  const fields = [{ name: 'summary', type: 'text' }, { name: 'title', type: 'string' }, { name: 'a', type: 'integer' }]
  await api.createType(collection('article', 'Article', fields))
  const a = await api.create('article', { title: 'A', summary: 'S', a: 1 })
  await api.publish('article', a)
  const before = await api.rows('article')
  const res = await api.change('article', [...fields, { name: 'added', type: 'string' }], undefined, { description: 'Changed' })
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json().data, { description: 'Changed', version: 2 })
  t.strictSame(await api.rows('article'), before, 'no new version: an editor\'s If-Match still holds')
})

t.test('a field made unique while entries share a value is refused, naming them', async (t) => {
  const api = await setUp(t)
  await api.createType(collection('product', 'Product', [{ name: 'code', type: 'string' }, { name: 'name', type: 'string' }]))
  const a = await api.create('product', { code: 'X1', name: 'A' })
  const b = await api.create('product', { code: 'X1', name: 'B' })
  await api.create('product', { code: 'X2', name: 'C' })
  await api.create('product', { name: 'D' })
  const res = await api.change('product', [{ name: 'code', type: 'string', unique: true }, { name: 'name', type: 'string' }])
  t.equal(res.statusCode, 409)
  const [clash] = res.json().details.blocked
  t.strictSame(Object.keys(clash), ['reason', 'count', 'entries'])
  t.equal(clash.reason, 'Unique fields would hold the same value in several entries: change the entries first')
  t.equal(clash.count, 1)
  const [entry] = clash.entries
  t.strictSame([entry.locale, entry.status, entry.path], ['en', 'draft', '/code'])
  const other = entry.documentId === a ? b : a
  t.strictSame([[a, b].includes(entry.documentId), entry.message], [true, `has the value of ${other} too`])

  await api.save('product', b, { code: 'X3' })
  const now = await api.change('product', [{ name: 'code', type: 'string', unique: true }, { name: 'name', type: 'string' }])
  t.equal(now.statusCode, 200, now.body)
  t.strictSame(now.json().meta.plan.steps, [{ action: 'change', field: 'code', options: ['unique'], entries: 3 }])
})
