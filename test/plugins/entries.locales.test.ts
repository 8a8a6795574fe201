import t, { type Test } from 'tap'
import { buildWithAdmin, created, login, type SignedIn } from '../helper.js'

type App = Awaited<ReturnType<typeof buildWithAdmin>>

const TYPES = '/api/admin/content-types'
const ARTICLES = `${TYPES}/article/entries`
const ENTRY_KEYS = ['createdAt', 'createdBy', 'documentId', 'locale', 'publishedAt', 'status', 'updatedAt', 'updatedBy', 'version']

/** A localized type with localized fields, a UID, and two shared fields. */
const article = {
  apiId: 'article',
  kind: 'collection',
  singularName: 'Article',
  pluralName: 'Articles',
  localized: true,
  fields: [
    { name: 'title', type: 'string', required: true },
    { name: 'slug', type: 'uid', targetField: 'title' },
    { name: 'summary', type: 'text' },
    { name: 'sku', type: 'string', localized: false },
    { name: 'price', type: 'integer', localized: false },
  ],
}

/** A type that is not localized: one entry per document, whatever ?locale says. */
const page = {
  apiId: 'page',
  kind: 'collection',
  singularName: 'Page',
  pluralName: 'Pages',
  fields: [{ name: 'title', type: 'string' }],
}

type Data = Record<string, unknown>

/** The fields of an entry as the API answers it, without the entry's own properties. */
function fieldsOf(data: Data): Data {
  return Object.fromEntries(Object.entries(data).filter(([key]) => !ENTRY_KEYS.includes(key)))
}

async function setUp(t: Test): Promise<{ app: App, admin: SignedIn }> {
  const app = await buildWithAdmin(t)
  const admin = await login(app)
  for (const [url, payload] of [
    ['/api/admin/locales', { code: 'fr', name: 'French' }],
    ['/api/admin/locales', { code: 'de', name: 'German' }],
    [TYPES, article],
    [TYPES, page],
  ] as const) await created(app, admin, url, payload)
  return { app, admin }
}

function client(app: App, admin: SignedIn) {
  return {
    async create(data: Data, query = '', url = ARTICLES) {
      const res = await app.inject({ method: 'POST', url: `${url}${query}`, headers: admin.headers, payload: { data } })
      if (res.statusCode !== 201) throw new Error(`POST ${url}${query} answered ${res.statusCode}: ${res.body}`)
      return res.json().data
    },
    put(documentId: string, query: string, data: Data, url = ARTICLES) {
      return app.inject({ method: 'PUT', url: `${url}/${documentId}${query}`, headers: admin.headers, payload: { data } })
    },
    get(documentId: string, query = '', url = ARTICLES) {
      return app.inject({ url: `${url}/${documentId}${query}`, headers: admin.headers })
    },
    post(documentId: string, operation: string, query = '') {
      return app.inject({ method: 'POST', url: `${ARTICLES}/${documentId}/${operation}${query}`, headers: admin.headers })
    },
    remove(documentId: string, query = '', url = ARTICLES) {
      return app.inject({ method: 'DELETE', url: `${url}/${documentId}${query}`, headers: admin.headers })
    },
  }
}

t.test('an entry is created in the default locale unless one is named', async (t) => {
  const { app, admin } = await setUp(t)
  const api = client(app, admin)
  const en = await api.create({ title: 'Hello' })
  t.equal(en.locale, 'en')
  const fr = await api.create({ title: 'Bonjour' }, '?locale=fr')
  t.equal(fr.locale, 'fr')
  t.not(fr.documentId, en.documentId, 'a new entry is a new document')

  const list = await app.inject({ url: ARTICLES, headers: admin.headers })
  t.same(list.json().data.map((e: Data) => [e.title, e.locale]), [['Hello', 'en']], 'the list shows the default locale')
  const frList = await app.inject({ url: `${ARTICLES}?locale=fr`, headers: admin.headers })
  t.same(frList.json().data.map((e: Data) => [e.title, e.locale]), [['Bonjour', 'fr']])
  t.equal(frList.json().meta.total, 1)
  t.equal((await api.get(en.documentId, '?locale=fr')).statusCode, 404, 'the document has no French variant')
  t.match((await api.get(en.documentId, '?locale=fr')).json(), {
    code: 'GUDANG_ERR_NOT_FOUND',
    message: `No "article" entry ${en.documentId} in fr`,
  })

  const madeDefault = await app.inject({ method: 'PATCH', url: '/api/admin/locales/de', headers: admin.headers, payload: { isDefault: true } })
  t.equal(madeDefault.statusCode, 200)
  const de = await api.create({ title: 'Hallo' })
  t.equal(de.locale, 'de', 'the default locale is whichever is the default now')
  t.equal((await api.get(de.documentId)).json().data.title, 'Hallo')
  t.equal((await api.get(en.documentId)).statusCode, 404, 'without ?locale, the default locale is read')
})

t.test('PUT with a new locale creates that variant of the document, from another locale\'s content if asked', async (t) => {
  const { app, admin } = await setUp(t)
  const api = client(app, admin)
  const en = await api.create({ title: 'Hello World', summary: 'In English', sku: 'A-1', price: 10 })
  t.same(fieldsOf(en), { title: 'Hello World', slug: 'hello-world', summary: 'In English', sku: 'A-1', price: 10 })

  const fr = await api.put(en.documentId, '?locale=fr', { title: 'Bonjour le monde' })
  t.equal(fr.statusCode, 200, fr.body)
  t.match(fr.json().data, { documentId: en.documentId, locale: 'fr', status: 'draft', version: 1 })
  t.same(fieldsOf(fr.json().data), { title: 'Bonjour le monde', slug: 'bonjour-le-monde', sku: 'A-1', price: 10 },
    'a new locale starts empty but for the shared fields')
  t.equal(fr.headers.etag, '"1"')
  const versions = await app.inject({ url: `${ARTICLES}/${en.documentId}/versions?locale=fr`, headers: admin.headers })
  t.match(versions.json().data, [{ version: 1, action: 'create' }])
  t.equal(versions.json().data.length, 1)

  const de = await api.put(en.documentId, '?locale=de&from=en', { title: 'Hallo Welt' })
  t.equal(de.statusCode, 200, de.body)
  t.same(fieldsOf(de.json().data), { title: 'Hallo Welt', slug: 'hallo-welt', summary: 'In English', sku: 'A-1', price: 10 },
    'from=en: English content, then the fields given')

  t.same(fieldsOf((await api.get(en.documentId)).json().data), fieldsOf(en), 'the English variant is untouched')
  t.equal((await api.get(en.documentId)).json().data.version, 1)
  t.equal((await api.get(en.documentId, '?locale=fr')).json().data.title, 'Bonjour le monde')

  const again = await api.put(en.documentId, '?locale=fr&from=de', { summary: 'En français' })
  t.equal(again.statusCode, 200)
  t.match(again.json().data, { locale: 'fr', version: 2, title: 'Bonjour le monde', summary: 'En français' },
    'an existing locale is saved: `from` only applies to a new one')
})

t.test('starting from a locale the document lacks, or a document that does not exist, is 404', async (t) => {
  const { app, admin } = await setUp(t)
  const api = client(app, admin)
  const en = await api.create({ title: 'Hello' })

  const lacking = await api.put(en.documentId, '?locale=fr&from=de', { title: 'Bonjour' })
  t.equal(lacking.statusCode, 404)
  t.match(lacking.json(), { code: 'GUDANG_ERR_NOT_FOUND', message: `No "article" entry ${en.documentId} in de to start from` })
  t.equal((await api.get(en.documentId, '?locale=fr')).statusCode, 404, 'nothing was created')

  const missing = await api.put('0195f0a0-0000-7000-8000-000000000009', '?locale=fr', { title: 'Bonjour' })
  t.equal(missing.statusCode, 404, 'a new locale of no document is no new document')
  t.equal(missing.json().code, 'GUDANG_ERR_NOT_FOUND')
  const frList = await app.inject({ url: `${ARTICLES}?locale=fr`, headers: admin.headers })
  t.equal(frList.json().meta.total, 0)

  const invalid = await api.put(en.documentId, '?locale=fr', { title: 42 })
  t.equal(invalid.statusCode, 400, 'a new variant is checked like any entry')
  t.match(invalid.json().details, [{ in: 'body', path: '/data/title', message: 'must be string' }])
  t.equal((await api.get(en.documentId, '?locale=fr')).statusCode, 404)
})

t.test('each locale is published on its own', async (t) => {
  const { app, admin } = await setUp(t)
  const api = client(app, admin)
  const en = await api.create({ title: 'Hello' })
  t.equal((await api.put(en.documentId, '?locale=fr', { title: 'Bonjour' })).statusCode, 200)

  const published = await api.post(en.documentId, 'publish', '?locale=fr')
  t.equal(published.statusCode, 200, published.body)
  t.match(published.json().data, { locale: 'fr', status: 'published', version: 2 })

  const enNow = (await api.get(en.documentId)).json().data
  t.match(enNow, { locale: 'en', status: 'draft', version: 1, publishedAt: null }, 'English stays a draft')
  t.equal((await api.get(en.documentId, '?status=published')).statusCode, 404, 'English has no published version')
  t.equal((await api.get(en.documentId, '?locale=fr&status=published')).json().data.title, 'Bonjour')

  t.equal((await api.post(en.documentId, 'publish')).statusCode, 200)
  t.equal((await api.post(en.documentId, 'unpublish', '?locale=fr')).statusCode, 200)
  t.equal((await api.get(en.documentId)).json().data.status, 'published', 'unpublishing French leaves English published')
  t.equal((await api.get(en.documentId, '?locale=fr')).json().data.status, 'draft')
})

t.test('shared fields saved in one locale appear in every locale', async (t) => {
  const { app, admin } = await setUp(t)
  const api = client(app, admin)
  const en = await api.create({ title: 'Hello', sku: 'A-1', price: 10 })
  t.equal((await api.put(en.documentId, '?locale=fr', { title: 'Bonjour' })).statusCode, 200)
  t.equal((await api.put(en.documentId, '?locale=de', { title: 'Hallo' })).statusCode, 200)

  const saved = await api.put(en.documentId, '?locale=fr', { sku: 'B-2', title: 'Salut' })
  t.equal(saved.statusCode, 200)
  t.match(saved.json().data, { locale: 'fr', title: 'Salut', sku: 'B-2', version: 2 })
  for (const [locale, title] of [['en', 'Hello'], ['de', 'Hallo']] as const) {
    const other = (await api.get(en.documentId, `?locale=${locale}`)).json().data
    t.same(fieldsOf(other), { title, slug: title.toLowerCase(), sku: 'B-2', price: 10 }, `${locale}: the shared field, its own title`)
    t.equal(other.version, 2, `${locale}: the shared change is a change`)
  }
  const history = await app.inject({ url: `${ARTICLES}/${en.documentId}/versions?locale=de`, headers: admin.headers })
  t.match(history.json().data[0], { version: 2, action: 'update', changed: ['sku'] })

  const cleared = await api.put(en.documentId, '', { price: null })
  t.equal(cleared.statusCode, 200)
  for (const locale of ['en', 'fr', 'de']) {
    const other = (await api.get(en.documentId, `?locale=${locale}`)).json().data
    t.equal(other.price, undefined, `${locale}: a shared field cleared is cleared everywhere`)
    t.equal(other.sku, 'B-2', locale)
  }

  const localOnly = await api.put(en.documentId, '?locale=de', { title: 'Hallo Welt' })
  t.equal(localOnly.statusCode, 200)
  t.equal((await api.get(en.documentId)).json().data.title, 'Hello', 'a localized field stays in its locale')
  t.equal((await api.get(en.documentId)).json().data.version, 3)
})

t.test('a shared field given when a locale is created reaches the other locales too', async (t) => {
  const { app, admin } = await setUp(t)
  const api = client(app, admin)
  const en = await api.create({ title: 'Hello', sku: 'A-1', price: 10 })
  const fr = await api.put(en.documentId, '?locale=fr', { title: 'Bonjour', sku: 'F-1' })
  t.equal(fr.statusCode, 200)
  t.equal(fr.json().data.sku, 'F-1')
  const enNow = (await api.get(en.documentId)).json().data
  t.equal(enNow.sku, 'F-1', 'one value of a shared field, in every locale')
  t.equal(enNow.price, 10)
  t.equal(enNow.version, 2)
})

t.test('an unknown locale is refused with the locales there are', async (t) => {
  const { app, admin } = await setUp(t)
  const api = client(app, admin)
  const en = await api.create({ title: 'Hello' })
  const expected = {
    statusCode: 400,
    code: 'GUDANG_ERR_VALIDATION',
    message: 'No locale "it"',
    details: [{ in: 'querystring', path: '/locale', message: 'must be one of de, en, fr', allowed: ['de', 'en', 'fr'] }],
  }
  const requests = [
    { method: 'GET' as const, url: `${ARTICLES}?locale=it` },
    { method: 'POST' as const, url: `${ARTICLES}?locale=it`, payload: { data: { title: 'Ciao' } } },
    { method: 'GET' as const, url: `${ARTICLES}/${en.documentId}?locale=it` },
    { method: 'PUT' as const, url: `${ARTICLES}/${en.documentId}?locale=it`, payload: { data: { title: 'Ciao' } } },
    { method: 'POST' as const, url: `${ARTICLES}/${en.documentId}/publish?locale=it` },
    { method: 'DELETE' as const, url: `${ARTICLES}/${en.documentId}?locale=it` },
  ]
  for (const request of requests) {
    const res = await app.inject({ ...request, headers: admin.headers })
    t.equal(res.statusCode, 400, `${request.method} ${request.url}`)
    t.match(res.json(), expected, `${request.method} ${request.url}`)
    t.same(res.json().details[0].allowed, ['de', 'en', 'fr'])
  }
  const malformed = await api.get(en.documentId, '?locale=not_a_locale')
  t.equal(malformed.statusCode, 400)
  t.match(malformed.json().details, [{ in: 'querystring', path: '/locale' }])
  t.equal((await api.get(en.documentId)).json().data.version, 1, 'nothing changed')
})

t.test('a type that is not localized ignores ?locale', async (t) => {
  const { app, admin } = await setUp(t)
  const api = client(app, admin)
  const pages = `${TYPES}/page/entries`
  const created = await api.create({ title: 'About' }, '?locale=fr', pages)
  t.equal(created.locale, 'en', 'stored in the default locale')

  for (const query of ['', '?locale=fr', '?locale=it']) {
    const read = await api.get(created.documentId, query, pages)
    t.equal(read.statusCode, 200, query)
    t.match(read.json().data, { documentId: created.documentId, locale: 'en', title: 'About' }, query)
  }
  const saved = await api.put(created.documentId, '?locale=fr', { title: 'About us' }, pages)
  t.equal(saved.statusCode, 200)
  t.match(saved.json().data, { locale: 'en', title: 'About us', version: 2 }, 'the one entry is saved, no variant is made')
  const list = await app.inject({ url: `${pages}?locale=de`, headers: admin.headers })
  t.same(list.json().data.map((e: Data) => e.title), ['About us'])
  t.equal(list.json().meta.total, 1)

  const removed = await api.remove(created.documentId, '?locale=fr', pages)
  t.equal(removed.statusCode, 204)
  t.equal((await api.get(created.documentId, '', pages)).statusCode, 404)
})

t.test('DELETE with ?locale removes that variant only; without it, every variant', async (t) => {
  const { app, admin } = await setUp(t)
  const api = client(app, admin)
  const en = await api.create({ title: 'Hello' })
  t.equal((await api.put(en.documentId, '?locale=fr', { title: 'Bonjour' })).statusCode, 200)
  t.equal((await api.put(en.documentId, '?locale=de', { title: 'Hallo' })).statusCode, 200)
  const other = await api.create({ title: 'Other' })

  const frGone = await api.remove(en.documentId, '?locale=fr')
  t.equal(frGone.statusCode, 204)
  t.equal((await api.get(en.documentId, '?locale=fr')).statusCode, 404)
  t.equal((await api.get(en.documentId)).statusCode, 200)
  t.equal((await api.get(en.documentId, '?locale=de')).statusCode, 200)
  const again = await api.remove(en.documentId, '?locale=fr')
  t.equal(again.statusCode, 404, 'a variant is deleted once')

  const events = await app.prisma.auditEvent.findMany({ where: { action: 'entry.delete' } })
  t.same(events.map((e) => e.details), [{ documentId: en.documentId, locale: 'fr', version: 1 }])

  const all = await api.remove(en.documentId)
  t.equal(all.statusCode, 204)
  for (const locale of ['en', 'de', 'fr']) t.equal((await api.get(en.documentId, `?locale=${locale}`)).statusCode, 404, locale)
  t.equal((await app.prisma.entry.count({ where: { documentId: en.documentId } })), 0)
  t.equal((await api.get(other.documentId)).statusCode, 200, 'other documents stay')
  t.equal(await app.prisma.auditEvent.count({ where: { action: 'entry.delete' } }), 3)
  t.equal((await api.remove(en.documentId)).statusCode, 404)
})

t.test('a UID is made anew per locale: unique per type and locale', async (t) => {
  const { app, admin } = await setUp(t)
  const api = client(app, admin)
  const first = await api.create({ title: 'Hello World', summary: 'One' })
  t.equal(first.slug, 'hello-world')

  const fr = await api.put(first.documentId, '?locale=fr&from=en', {})
  t.equal(fr.statusCode, 200)
  t.match(fr.json().data, { title: 'Hello World', slug: 'hello-world', summary: 'One' },
    'the same slug is free in another locale')

  const second = await api.create({ title: 'Hello World' })
  t.equal(second.slug, 'hello-world-2', 'taken in the locale: numbered')
  const secondFr = await api.put(second.documentId, '?locale=fr', { title: 'Hello World' })
  t.equal(secondFr.json().data.slug, 'hello-world-2', 'taken in French too')
  const secondDe = await api.put(second.documentId, '?locale=de&from=en', {})
  t.equal(secondDe.json().data.slug, 'hello-world', 'made from the title, not copied from English')

  const given = await api.put(first.documentId, '?locale=de', { title: 'Hallo', slug: 'hello-world' })
  t.equal(given.statusCode, 400, 'a given slug is kept, and must be free in its locale')
  t.match(given.json(), { code: 'GUDANG_ERR_VALIDATION', details: [{ in: 'body', path: '/data/slug', message: /must be unique/ }] })
  const givenFree = await api.put(first.documentId, '?locale=de', { title: 'Hallo', slug: 'hallo-welt' })
  t.equal(givenFree.json().data.slug, 'hallo-welt')
})

t.test('a localized single type has one document, a variant per locale', async (t) => {
  const { app, admin } = await setUp(t)
  const created = await app.inject({
    method: 'POST',
    url: TYPES,
    headers: admin.headers,
    payload: {
      apiId: 'home',
      kind: 'single',
      singularName: 'Home',
      pluralName: 'Home',
      localized: true,
      fields: [{ name: 'headline', type: 'string' }, { name: 'theme', type: 'string', localized: false }],
    },
  })
  t.equal(created.statusCode, 201, created.body)
  const single = `${TYPES}/home/entry`
  const en = await app.inject({ method: 'PUT', url: single, headers: admin.headers, payload: { data: { headline: 'Welcome', theme: 'dark' } } })
  t.equal(en.statusCode, 200)
  t.match(en.json().data, { locale: 'en', headline: 'Welcome', theme: 'dark', version: 1 })

  t.equal((await app.inject({ url: `${single}?locale=fr`, headers: admin.headers })).statusCode, 404)
  const fr = await app.inject({ method: 'PUT', url: `${single}?locale=fr`, headers: admin.headers, payload: { data: { headline: 'Bienvenue' } } })
  t.equal(fr.statusCode, 200)
  t.match(fr.json().data, { documentId: en.json().data.documentId, locale: 'fr', headline: 'Bienvenue', theme: 'dark', version: 1 })
  const frAgain = await app.inject({ method: 'PUT', url: `${single}?locale=fr`, headers: admin.headers, payload: { data: { theme: 'light' } } })
  t.match(frAgain.json().data, { locale: 'fr', headline: 'Bienvenue', theme: 'light', version: 2 })
  const enNow = await app.inject({ url: single, headers: admin.headers })
  t.match(enNow.json().data, { locale: 'en', headline: 'Welcome', theme: 'light', version: 2 })
  const frNow = await app.inject({ url: `${single}?locale=fr`, headers: admin.headers })
  t.match(frNow.json().data, { locale: 'fr', headline: 'Bienvenue' })
  t.equal(await app.prisma.entry.count(), 2)
})
