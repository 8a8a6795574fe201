import t, { type Test } from 'tap'
import { buildWithAdmin, login, type SignedIn, signInAs } from '../helper.js'

/** Guards found in review: what a caller may not do or learn, and answers that must not be 500. */

type App = Awaited<ReturnType<typeof buildWithAdmin>>
type Data = Record<string, unknown>
type Response = Awaited<ReturnType<App['inject']>>
interface Options {
  payload?: object
  /** Headers besides the caller's authorization. */
  headers?: Record<string, string>
  /** The caller: the administrator unless given. */
  as?: SignedIn
}

const TYPES = '/api/admin/content-types'

async function setUp(t: Test) {
  const app = await buildWithAdmin(t)
  const admin = await login(app)
  const call = (method: string, url: string, { payload, headers = {}, as = admin }: Options = {}) =>
    app.inject({ method: method as 'GET', url, headers: { ...as.headers, ...headers }, ...(payload === undefined ? {} : { payload }) })
  const createRole = async (name: string, permissions: Data[]) => ok(await call('POST', '/api/admin/roles', { payload: { name, permissions } }), 201)
  const createType = async (payload: Data) => ok(await call('POST', TYPES, { payload: { kind: 'collection', ...payload } }), 201)
  return { app, admin, call, createRole, createType }
}

function ok(res: Response, status = 200): Data {
  if (res.statusCode !== status) throw new Error(`answered ${res.statusCode}: ${res.body}`)
  return res.json().data
}

t.test('discarding draft changes writes every changed field: a field-limited editor may not, and shared fields follow', async (t) => {
  const { app, admin, call, createRole, createType } = await setUp(t)
  ok(await call('POST', '/api/admin/locales', { payload: { code: 'fr', name: 'French' } }), 201)
  await createType({
    apiId: 'product',
    singularName: 'Product',
    pluralName: 'Products',
    localized: true,
    fields: [{ name: 'title', type: 'string' }, { name: 'secret', type: 'string' }, { name: 'price', type: 'integer', localized: false }],
  })
  const url = `${TYPES}/product/entries`
  const product = ok(await call('POST', url, { payload: { data: { title: 'Chair', secret: 'a', price: 10 } } }), 201)
  const at = `${url}/${product.documentId}`
  ok(await call('PUT', `${at}?locale=fr`, { payload: { data: { title: 'Chaise' } } }))
  ok(await call('POST', `${at}/publish`))
  ok(await call('PUT', at, { payload: { data: { secret: 'b' } } }))

  await createRole('Titler', [
    { subject: 'content:product', action: 'read' },
    { subject: 'content:product', action: 'update', fields: ['title'] },
  ])
  const titler = await signInAs(app, admin, 'Titler')
  const refused = await call('POST', `${at}/discard`, { as: titler })
  t.equal(refused.statusCode, 403)
  t.same(refused.json().details, { fields: ['secret'] })
  t.equal(ok(await call('GET', at)).secret, 'b', 'the edit the editor may not write is kept')

  // A shared field saved in English reaches French; discarded in English, French follows.
  ok(await call('PUT', at, { payload: { data: { secret: 'a', price: 20 } } }))
  t.equal(ok(await call('GET', `${at}?locale=fr`)).price, 20)
  t.match(ok(await call('POST', `${at}/discard`)), { status: 'published', price: 10 })
  t.equal(ok(await call('GET', `${at}?locale=fr`)).price, 10, 'the shared field is the same in every locale again')
})

t.test('If-Match names one locale\'s version: deleting every locale with it needs ?locale=', async (t) => {
  const { call, createType } = await setUp(t)
  ok(await call('POST', '/api/admin/locales', { payload: { code: 'fr', name: 'French' } }), 201)
  await createType({ apiId: 'page', singularName: 'Page', pluralName: 'Pages', localized: true, fields: [{ name: 'title', type: 'string' }] })
  const page = ok(await call('POST', `${TYPES}/page/entries`, { payload: { data: { title: 'Hello' } } }), 201)
  const at = `${TYPES}/page/entries/${page.documentId}`
  ok(await call('PUT', `${at}?locale=fr`, { payload: { data: { title: 'Bonjour' } } }))

  const refused = await call('DELETE', at, { headers: { 'if-match': '"1"' } })
  t.equal(refused.statusCode, 400)
  t.same(refused.json().details, [
    { in: 'querystring', path: '/locale', message: 'is required with If-Match on a document with several locales' },
  ])
  t.equal((await call('DELETE', `${at}?locale=fr`, { headers: { 'if-match': '"1"' } })).statusCode, 204, 'one locale, its version')
  t.equal((await call('DELETE', at, { headers: { 'if-match': '"1"' } })).statusCode, 204, 'the last locale: its version')
})

t.test('a list sorts by fields and timestamps only: a name every object has is no field', async (t) => {
  const { call, createType } = await setUp(t)
  await createType({ apiId: 'note', singularName: 'Note', pluralName: 'Notes', fields: [{ name: 'title', type: 'string' }] })
  for (const name of ['constructor', 'toString', 'hasOwnProperty']) {
    const res = await call('GET', `${TYPES}/note/entries?sort=${name}`)
    t.equal(res.statusCode, 400, name)
    t.same(res.json().details[0].allowed, ['createdAt', 'updatedAt', 'publishedAt', 'title'], name)
  }
})

t.test('the history names only the changed fields the caller may read', async (t) => {
  const { app, admin, call, createRole, createType } = await setUp(t)
  await createType({
    apiId: 'memo', singularName: 'Memo', pluralName: 'Memos', fields: [{ name: 'title', type: 'string' }, { name: 'secret', type: 'string' }],
  })
  const memo = ok(await call('POST', `${TYPES}/memo/entries`, { payload: { data: { title: 'A', secret: 'x' } } }), 201)
  await createRole('Reader', [{ subject: 'content:memo', action: 'read', fields: ['title'] }])
  const reader = await signInAs(app, admin, 'Reader')
  const versions = await call('GET', `${TYPES}/memo/entries/${memo.documentId}/versions`, { as: reader })
  t.equal(versions.statusCode, 200)
  t.same(versions.json().data.map((v: Data) => v.changed), [['title']])
  t.equal(versions.json().meta.total, 1)
})

t.test('inverse relations list only documents of types the caller may read', async (t) => {
  const { app, admin, call, createRole, createType } = await setUp(t)
  await createType({ apiId: 'author', singularName: 'Author', pluralName: 'Authors', fields: [{ name: 'name', type: 'string' }] })
  for (const apiId of ['article', 'note']) {
    await createType({
      apiId,
      singularName: apiId,
      pluralName: `${apiId}s`,
      fields: [{ name: 'author', type: 'relation', target: 'author', relation: 'toOne', inverse: `${apiId}s` }],
    })
  }
  const author = ok(await call('POST', `${TYPES}/author/entries`, { payload: { data: { name: 'Ann' } } }), 201)
  const article = ok(await call('POST', `${TYPES}/article/entries`, { payload: { data: { author: author.documentId } } }), 201)
  const note = ok(await call('POST', `${TYPES}/note/entries`, { payload: { data: { author: author.documentId } } }), 201)
  const at = `${TYPES}/author/entries/${author.documentId}`
  t.match(ok(await call('GET', at)), { articles: [article.documentId], notes: [note.documentId] }, 'the administrator reads both')

  await createRole('Article reader', [{ subject: 'content:author', action: 'read' }, { subject: 'content:article', action: 'read' }])
  const reader = await signInAs(app, admin, 'Article reader')
  const seen = ok(await call('GET', at, { as: reader }))
  t.same(seen.articles, [article.documentId])
  t.notOk('notes' in seen, 'notes are not the reader\'s to know')
})

t.test('lists filter by state, sort numbers, booleans and text as such, and search only text fields', async (t) => {
  const { call, createType } = await setUp(t)
  await createType({
    apiId: 'item',
    singularName: 'Item',
    pluralName: 'Items',
    fields: [{ name: 'name', type: 'string' }, { name: 'rank', type: 'integer' }, { name: 'done', type: 'boolean' }],
  })
  await createType({ apiId: 'counter', singularName: 'Counter', pluralName: 'Counters', fields: [{ name: 'n', type: 'integer' }] })
  const url = `${TYPES}/item/entries`
  const ids: string[] = []
  for (const [name, rank, done] of [['b', 10, true], ['a', 9, false], ['c', 100, true]] as const) {
    ids.push(String(ok(await call('POST', url, { payload: { data: { name, rank, done } } }), 201).documentId))
  }
  ok(await call('POST', `${url}/${ids[0]}/publish`))
  ok(await call('POST', `${url}/${ids[1]}/publish`))
  ok(await call('PUT', `${url}/${ids[1]}`, { payload: { data: { name: 'a2' } } }))
  const names = async (query: string) => (ok(await call('GET', `${url}?${query}`)) as unknown as Data[]).map((e) => e.name)
  t.same(await names('sort=rank:asc'), ['a2', 'b', 'c'], 'numbers as numbers: 9, 10, 100')
  t.same(await names('sort=done:asc,name:desc'), ['a2', 'c', 'b'], 'false before true')
  t.same(await names('state=draft'), ['c'])
  t.same(await names('state=published&sort=name:asc'), ['b'])
  t.same(await names('state=modified'), ['a2'])
  const counters = await call('GET', `${TYPES}/counter/entries?q=1`)
  t.equal(counters.statusCode, 200)
  t.same(counters.json().meta.total, 0, 'a type without text fields matches no search')
})

t.test('a single type\'s entry belongs to whoever created it: an own-only editor may not save it', async (t) => {
  const { app, admin, call, createType } = await setUp(t)
  await createType({ apiId: 'home', kind: 'single', singularName: 'Home', pluralName: 'Homes', fields: [{ name: 'title', type: 'string' }] })
  ok(await call('PUT', `${TYPES}/home/entry`, { payload: { data: { title: 'Welcome' } } }))
  const author = await signInAs(app, admin, 'author')
  const res = await call('PUT', `${TYPES}/home/entry`, { payload: { data: { title: 'Mine' } }, as: author })
  t.equal(res.statusCode, 409)
  t.equal(res.json().message, '"home" has its entry: you may not change it')
  t.equal(ok(await call('GET', `${TYPES}/home/entry`)).title, 'Welcome')
})
