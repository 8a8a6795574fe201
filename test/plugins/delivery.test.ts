import { setTimeout as sleep } from 'node:timers/promises'
import type { PGlite } from '@electric-sql/pglite'
import { PrismaPg } from '@prisma/adapter-pg'
import Fastify from 'fastify'
import { PrismaPGlite } from 'pglite-prisma-adapter'
import t from 'tap'
import readCache from '../../src/services/read-cache.js'
import { article, publish, site, type Site, token, update } from '../delivery-fixture.js'
import { bearer, created, roleId, signInAs, testConfig } from '../helper.js'

/**
 * The delivery API (/api/content): what anonymous callers, tokens and editors see, field
 * selection and population (and what it costs), locales with fallbacks, search, HTTP caching,
 * single types, and the read cache. Filters, sorting and cursors: delivery.query.test.ts.
 */

type Entry = Record<string, unknown> & { documentId: string, locale: string }
type Headers = Record<string, string>
interface Problem { path: string, allowed?: string[] }

const missing = '0195f0a0-0000-7000-8000-000000000001'

/** What the delivery API adds to every entry's fields. */
const META = ['createdAt', 'documentId', 'locale', 'publishedAt']

/** GET /api/content/<path> as `headers` say (anonymous without). */
function read(s: Site, path: string, headers: Headers = {}) {
  return s.app.inject({ url: `/api/content/${path}`, headers })
}

/** The answer's `data`; fails the test unless the status is 200. */
async function data(s: Site, path: string, headers: Headers = {}) {
  const res = await read(s, path, headers)
  if (res.statusCode !== 200) throw new Error(`GET /api/content/${path} answered ${res.statusCode}: ${res.body}`)
  return res.json().data
}

/** An entry's own fields (without what the delivery API adds). */
function fieldsOf(entry: Entry): Record<string, unknown> {
  return Object.fromEntries(Object.entries(entry).filter(([key]) => !META.includes(key)))
}

function ids(entries: Entry[]): string[] {
  return entries.map((e) => e.documentId)
}

/** A request of the administrator's through the management API; fails the test unless it succeeds. */
async function manage(s: Site, method: 'POST' | 'PUT' | 'PATCH', url: string, payload: object = {}) {
  const res = await s.app.inject({ method, url, headers: s.admin.headers, payload })
  if (res.statusCode >= 300) throw new Error(`${method} ${url} answered ${res.statusCode}: ${res.body}`)
  return res.json().data
}

/** Sets the Public role's permissions (all of them: PATCH replaces the set). */
async function grantPublic(s: Site, permissions: { subject: string, action: string, fields?: string[] }[]) {
  await manage(s, 'PATCH', `/api/admin/roles/${await roleId(s.app, s.admin, 'public')}`, { permissions })
}

const readable = (...apiIds: string[]) => apiIds.map((apiId) => ({ subject: `content:${apiId}`, action: 'read' }))

/** A content type with draft & publish that links to articles (so, to drafts). */
const PAGE = {
  apiId: 'page',
  kind: 'collection',
  singularName: 'Page',
  pluralName: 'Pages',
  fields: [
    { name: 'name', type: 'string' },
    { name: 'lead', type: 'relation', relation: 'toOne', target: 'article' },
    { name: 'picks', type: 'relation', relation: 'toMany', target: 'article' },
  ],
}

interface Queryable { performIO: (query: unknown) => Promise<unknown> }

/**
 * Counts the SQL statements Prisma sends while `run` runs, at the driver adapter: every
 * statement of either adapter (PostgreSQL's and PGlite's) goes through its `performIO`, in a
 * transaction or not.
 */
async function statements<T>(run: () => Promise<T>): Promise<{ count: number, result: T }> {
  const pg = await new PrismaPg({ connectionString: 'postgresql://127.0.0.1:1/unused' }).connect()
  await pg.dispose()
  const lite = await new PrismaPGlite({} as PGlite).connect()
  const prototypes = [pg, lite].map((adapter) => Object.getPrototypeOf(Object.getPrototypeOf(adapter)) as Queryable)
  const originals = prototypes.map((p) => p.performIO)
  let count = 0
  prototypes.forEach((prototype, i) => {
    const original = originals[i] as Queryable['performIO']
    prototype.performIO = function (this: unknown, query: unknown) {
      count += 1
      return original.call(this, query)
    }
  })
  try {
    const result = await run()
    return { count, result }
  } finally {
    prototypes.forEach((prototype, i) => {
      prototype.performIO = originals[i] as Queryable['performIO']
    })
  }
}

t.test('anonymous callers see published data only: no drafts, private fields, unreadable types, nor links to them', async (t) => {
  const s = await site(t)
  const { app, admin } = s
  const { ann, bob } = s.authors
  const { news, tech } = s.categories
  await created(app, admin, '/api/admin/content-types', PAGE)
  await grantPublic(s, readable('author', 'category', 'article', 'home', 'page'))

  const visible = await article(s, {
    title: 'Visible',
    notes: 'a private note',
    seo: { metaTitle: 'Meta', keywords: 'cms', internalNote: 'hidden inside' },
    quotes: [{ text: 'Quoted', by: ann }],
    author: bob,
    categories: [news, tech],
    related: [s.secret],
  })
  const draft = await article(s, { title: 'Never published', notes: 'a private draft note' }, { publish: false })
  const modified = await article(s, { title: 'Original' })
  await update(s, modified, { title: 'Changed since' })
  const page = await created(app, admin, '/api/admin/content-types/page/entries', {
    data: { name: 'Front', lead: draft, picks: [visible, draft, modified] },
  })
  await manage(s, 'POST', `/api/admin/content-types/page/entries/${page.documentId}/publish`)

  await t.test('a list shows what was published, without private fields or links to unreadable types', async (t) => {
    const res = await read(s, 'article')
    t.equal(res.statusCode, 200)
    t.equal(res.headers['cache-control'], 'public, max-age=0, s-maxage=60, stale-while-revalidate=60')
    const { data: entries, meta } = res.json()
    t.same(ids(entries), [modified, visible], 'newest first; never the draft')
    t.same(meta, { page: 1, pageSize: 25, total: 2, pageCount: 1, nextCursor: null })
    const [original, shown] = entries as Entry[]
    t.strictSame(fieldsOf(original as Entry), { title: 'Original' }, 'the published data, not the newer draft')
    t.strictSame(fieldsOf(shown as Entry), {
      title: 'Visible',
      seo: { metaTitle: 'Meta', keywords: 'cms' },
      quotes: [{ text: 'Quoted', by: ann }],
      author: bob,
      categories: [news, tech],
    }, 'no private fields (nor inside components), no relation to a type the Public role may not read')
    t.same(Object.keys(shown as Entry).sort(), [...META, 'author', 'categories', 'quotes', 'seo', 'title'].sort())
    t.match(shown, { locale: 'en', createdAt: /^\d{4}-/, publishedAt: /^\d{4}-/ })
    for (const word of ['Never published', 'Changed since', 'private', 'hidden inside', 'xyzzy', draft, s.secret]) {
      t.notOk(res.body.includes(word), `nothing of "${word}"`)
    }
  })

  await t.test('one entry: the published data, a draft is not found', async (t) => {
    t.strictSame(fieldsOf(await data(s, `article/${modified}`)), { title: 'Original' })
    t.equal((await data(s, `article/${visible}`)).notes, undefined)
    const never = await read(s, `article/${draft}`)
    t.equal(never.statusCode, 404)
    t.notOk(never.body.includes('Never published'))
    t.equal((await read(s, `article/${missing}`)).statusCode, 404)
  })

  await t.test('relations list only published documents, populated or not', async (t) => {
    const [front] = await data(s, 'page')
    t.same(front.picks, [visible, modified], 'the draft is left out')
    t.equal(front.lead ?? null, null, 'a link to a draft is no link')
    const res = await read(s, 'page?populate=picks,lead')
    const [populated] = res.json().data
    t.same(populated.picks.map((p: Entry) => [p.documentId, p.title]), [[visible, 'Visible'], [modified, 'Original']])
    t.equal(populated.picks[0].notes, undefined, 'populated entries have no private fields either')
    t.same(populated.picks[0].seo, { metaTitle: 'Meta', keywords: 'cms' })
    t.equal(populated.picks[0].related, undefined)
    t.equal(populated.lead ?? null, null)
    for (const word of [draft, 'Never published', 'Changed since', 'private', s.secret]) t.notOk(res.body.includes(word), `nothing of "${word}"`)
  })

  await t.test('drafts: preview tokens and editors; anonymous 401, a delivery token 403', async (t) => {
    const anonymous = await read(s, 'article?status=draft')
    t.equal(anonymous.statusCode, 401)
    t.equal(anonymous.headers['www-authenticate'], 'Bearer')
    t.notOk(anonymous.body.includes('Never published'))
    const delivery = await read(s, 'article?status=draft', await token(s, 'delivery'))
    t.equal(delivery.statusCode, 403)
    t.equal(delivery.json().code, 'GUDANG_ERR_FORBIDDEN')
    t.equal((await read(s, `article/${draft}?status=draft`)).statusCode, 401)

    const preview = await token(s, 'preview')
    const res = await read(s, 'article?status=draft', preview)
    t.equal(res.statusCode, 200)
    t.equal(res.headers['cache-control'], 'private, no-store')
    const entries: Entry[] = res.json().data
    t.same(entries.map((e) => [e.documentId, e.title, e.status]), [
      [modified, 'Changed since', 'modified'],
      [draft, 'Never published', 'draft'],
      [visible, 'Visible', 'published'],
    ])
    t.equal(entries[1]?.publishedAt, null)
    t.ok(entries.every((e) => typeof e.updatedAt === 'string'), 'drafts carry updatedAt')
    t.notOk(res.body.includes('private'), 'no private fields in drafts either')
    t.equal((await data(s, `article/${draft}?status=draft`, preview)).title, 'Never published')
    const [front] = await data(s, 'page?status=draft&populate=lead', preview)
    t.equal(front.lead.title, 'Never published', 'with drafts, links to drafts count')

    const editor = await signInAs(app, admin, 'editor')
    t.same(ids(await data(s, 'article?status=draft', editor.headers)), [modified, draft, visible])
    // Published data, as editors read it, is private to them.
    t.equal((await read(s, 'article', editor.headers)).headers['cache-control'], 'private, max-age=0')
  })

  await t.test('a type the Public role may not read: 401 without a token, 403 with one that may not', async (t) => {
    const anonymous = await read(s, 'secret')
    t.equal(anonymous.statusCode, 401)
    t.notOk(anonymous.body.includes('xyzzy'))
    t.equal((await read(s, `secret/${s.secret}`)).statusCode, 401)
    const readers = await created(app, admin, '/api/admin/roles', { name: 'Article readers', permissions: readable('article') })
    const custom = await created(app, admin, '/api/admin/tokens', { name: 'articles only', kind: 'custom', roleId: readers.id })
    t.equal((await read(s, 'secret', bearer(custom.accessKey))).statusCode, 403)
    t.same(ids(await data(s, 'article', bearer(custom.accessKey))), [modified, visible])
    // A delivery token reads every type.
    t.strictSame((await data(s, 'secret', await token(s, 'delivery'))).map(fieldsOf), [{ code: 'xyzzy' }])

    // A user whose rule is own-only reads only their entries, drafts included.
    await created(app, admin, '/api/admin/roles', {
      name: 'Own articles',
      permissions: [
        { subject: 'content:article', action: 'read', ownOnly: true },
        { subject: 'content:article', action: 'create' },
      ],
    })
    const writer = await signInAs(app, admin, 'Own articles')
    const own = await created(app, writer, '/api/admin/content-types/article/entries', { data: { title: 'Mine' } })
    t.same(await data(s, 'article', writer.headers), [], 'none of theirs is published')
    t.same(ids(await data(s, 'article?status=draft', writer.headers)), [own.documentId])
  })
})

t.test('field selection and population', async (t) => {
  const s = await site(t)
  const { ann, bob, cyd } = s.authors
  const { news, tech, food } = s.categories
  // 22 articles, newest last: by Bob (odd) or Cyd (even), each quoting Ann.
  const articles: string[] = []
  for (let i = 0; i < 22; i++) {
    articles.push(await article(s, {
      title: `Article ${i}`,
      views: i,
      notes: 'private',
      author: i % 2 === 1 ? bob : cyd,
      categories: [news, i % 3 === 2 ? food : tech],
      quotes: [{ text: `Quote ${i}`, by: ann }],
      seo: { metaTitle: `Meta ${i}`, internalNote: 'private' },
      related: [s.secret],
    }))
  }
  const newest = articles[21] as string
  const problems = async (path: string): Promise<Problem[]> => {
    const res = await read(s, path)
    t.equal(res.statusCode, 400, path)
    t.equal(res.json().code, 'GUDANG_ERR_VALIDATION')
    return res.json().details
  }

  await t.test('fields picks top-level fields; the meta data always come', async (t) => {
    const [entry] = await data(s, 'article?fields=title,views&pageSize=1')
    t.same(Object.keys(entry).sort(), [...META, 'title', 'views'].sort())
    t.match(entry, { documentId: newest, title: 'Article 21', views: 21 })
    const [listed] = await data(s, 'article?fields[0]=views&pageSize=1')
    t.same(Object.keys(listed).sort(), [...META, 'views'].sort())
    t.same(Object.keys(await data(s, `article/${newest}?fields=seo`)).sort(), [...META, 'seo'].sort())

    const [secret] = await problems('article?fields=title,notes')
    t.match(secret, { path: '/fields/1' })
    t.ok(secret?.allowed?.includes('title'))
    t.notOk(secret?.allowed?.includes('notes'), 'a private field is not selectable')
    t.match(await problems('article?fields=nope'), [{ path: '/fields/0' }])
  })

  await t.test('populate: named relations, every relation, per-relation fields, nested, inside components', async (t) => {
    const [entry] = await data(s, 'article?populate=author&pageSize=1')
    t.equal(entry.author.documentId, bob)
    t.strictSame(fieldsOf(entry.author), { name: 'Bob', mentor: ann }, 'no private field (email)')
    t.same(entry.categories, [news, tech], 'what is not populated stays document ids')

    const [all] = await data(s, 'article?populate=*&pageSize=1')
    t.equal(all.author.name, 'Bob')
    t.same(all.categories.map((c: Entry) => [c.documentId, c.slug, c.name]), [[news, 'news', 'News'], [tech, 'tech', 'Tech']])
    t.equal(all.related, undefined, 'relations to types the caller may not read are neither populated nor listed')
    t.equal(all.quotes[0].by, ann, '* is one level: relations in components stay ids')

    const [picked] = await data(s, 'article?fields=title&populate=author&pageSize=1')
    t.same(Object.keys(picked).sort(), [...META, 'author', 'title'].sort(), 'a populated field comes without being selected')
    t.equal(picked.author.name, 'Bob')

    const [nested] = await data(s, 'article?populate[author][fields]=name&populate[author][populate][mentor]=true&pageSize=1')
    t.same(Object.keys(nested.author).sort(), [...META, 'mentor', 'name'].sort())
    t.strictSame(fieldsOf(nested.author.mentor), { name: 'Ann' })
    t.equal(nested.author.mentor.documentId, ann)

    const [quoted] = await data(s, 'article?populate[quotes][populate][by]=true&populate[categories][fields][0]=slug&pageSize=1')
    t.same(quoted.quotes.map((q: { text: string, by: Entry }) => [q.text, q.by.documentId, q.by.name]), [['Quote 21', ann, 'Ann']])
    t.strictSame(quoted.categories.map(fieldsOf), [{ slug: 'news' }, { slug: 'tech' }])
    t.equal(quoted.author, bob)

    const one = await data(s, `article/${newest}?populate=author,categories`)
    t.equal(one.author.name, 'Bob')
    t.same(one.categories.map((c: Entry) => c.name), ['News', 'Tech'])
  })

  await t.test('dynamic zones: private fields left out, relations inside them populated', async (t) => {
    await created(s.app, s.admin, '/api/admin/content-types', {
      apiId: 'landing', kind: 'collection', singularName: 'Landing', pluralName: 'Landings', draftAndPublish: false,
      fields: [{ name: 'blocks', type: 'dynamiczone', components: ['blocks.quote', 'shared.seo'] }],
    })
    await grantPublic(s, readable('author', 'category', 'article', 'landing'))
    await created(s.app, s.admin, '/api/admin/content-types/landing/entries', {
      data: { blocks: [
        { __component: 'blocks.quote', text: 'Hi', by: ann },
        { __component: 'shared.seo', metaTitle: 'Landing', internalNote: 'private' },
        { __component: 'blocks.quote', text: 'Yo', by: bob },
      ] },
    })
    const [plain] = await data(s, 'landing')
    t.strictSame(plain.blocks, [
      { __component: 'blocks.quote', text: 'Hi', by: ann },
      { __component: 'shared.seo', metaTitle: 'Landing' },
      { __component: 'blocks.quote', text: 'Yo', by: bob },
    ])
    const [populated] = await data(s, 'landing?populate[blocks][populate][by]=true')
    t.same(populated.blocks.map((b: { by?: Entry }) => b.by?.name), ['Ann', undefined, 'Bob'])
    t.same(populated.blocks[1], { __component: 'shared.seo', metaTitle: 'Landing' })
    t.notOk(JSON.stringify(populated).includes('private'))
    t.match(await problems('landing?populate[blocks][populate][metaTitle]=true'), [{ path: '/populate/blocks/populate/metaTitle', allowed: ['by'] }])
  })

  await t.test('population goes as deep as GUDANG_DELIVERY_MAX_DEPTH (4) relations, no deeper', async (t) => {
    // Cyd's mentor is Bob, whose mentor is Ann, who has none.
    const byCyd = articles[20] as string
    const deep = await data(s, `article/${byCyd}?populate[author][populate][mentor][populate][mentor][populate]=mentor`)
    t.equal(deep.author.name, 'Cyd')
    t.equal(deep.author.mentor.name, 'Bob')
    t.equal(deep.author.mentor.mentor.name, 'Ann')
    t.equal(deep.author.mentor.mentor.mentor, undefined)
    const [tooDeep] = await problems(`article/${byCyd}?populate[author][populate][mentor][populate][mentor][populate][mentor][populate]=mentor`)
    t.match(tooDeep, { path: '/populate/author/populate/mentor/populate/mentor/populate/mentor/populate/mentor' })
    t.match((await read(s, 'article?populate[author][populate][mentor][populate][mentor][populate][mentor][populate]=mentor')).json().message, /deeper than the 4 levels/)
  })

  await t.test('populate names relations (and components holding them) the caller may read', async (t) => {
    const [title] = await problems('article?populate=title')
    t.match(title, { path: '/populate/title' })
    t.same([...title?.allowed ?? []].sort(), ['author', 'categories', 'quotes', 'seo'])
    t.match(await problems('article?populate=related'), [{ path: '/populate/related' }])
    t.match(await problems('article?populate[seo][populate][metaTitle]=true'), [{ path: '/populate/seo/populate/metaTitle' }])
    t.match(await problems('article?populate[quotes][populate][text]=true'), [{ path: '/populate/quotes/populate/text' }])
    t.match(await problems('article?populate[author][fields]=email'), [{ path: '/populate/author/fields/0' }])
    t.match(await problems('article?populate[author][nope]=1'), [{ path: '/populate/author/nope', allowed: ['fields', 'populate'] }])
    t.match(await problems('article?populate[author]=false'), [{ path: '/populate/author', message: /must be true or say fields/ }])
    t.match(await problems('article?fields=title,,summary'), [{ path: '/fields', message: /must be field names/ }])
    t.match(await problems('article?fields[0][x]=title'), [{ path: '/fields', message: /must be field names/ }])
  })

  await t.test('the number of statements does not grow with the page size', async (t) => {
    const populate = 'populate[author][populate][mentor]=true&populate[categories]=true&populate[quotes][populate][by]=true'
    // A first request does what any first request after a change may (placing the change log);
    // another URL, so that the answers measured are not the kept one (GUDANG_RESPONSE_CACHE_SIZE).
    t.equal((await read(s, `article?pageSize=3&${populate}`)).statusCode, 200)
    const small = await statements(() => read(s, `article?pageSize=2&${populate}`))
    const large = await statements(() => read(s, `article?pageSize=20&${populate}`))
    const entries = (page: { result: { json: () => { data: Entry[] } } }) => page.result.json().data
    t.equal(entries(small).length, 2)
    t.equal(entries(large).length, 20)
    t.ok(entries(large).every((e) => {
      const author = e.author as Entry & { mentor: Entry }
      const quotes = e.quotes as { by: Entry }[]
      return typeof author.mentor.name === 'string' && (e.categories as Entry[]).every((c) => c.slug !== undefined) && quotes[0]?.by.name === 'Ann'
    }), 'every entry of the large page is populated')
    const bare = await statements(() => read(s, 'article?pageSize=20'))
    t.ok(large.count > bare.count, `population's statements are counted (${bare.count} without, ${large.count} with)`)
    t.equal(large.count, small.count, `${small.count} statements for 2 entries, ${large.count} for 20`)
  })
})

t.test('locales with fallbacks, and full-text search', async (t) => {
  const s = await site(t)
  // Hello: en, fr, fr-CA; Salut: en, fr; Only: en; Later: en, and a French draft.
  const hello = await article(s, { title: 'Hello' })
  await article(s, { title: 'Bonjour' }, { documentId: hello, locale: 'fr' })
  await article(s, { title: 'Allo' }, { documentId: hello, locale: 'fr-CA' })
  const salut = await article(s, { title: 'Hi' })
  await article(s, { title: 'Salut' }, { documentId: salut, locale: 'fr' })
  const only = await article(s, { title: 'Only English' })
  const later = await article(s, { title: 'Later' })
  await article(s, { title: 'Plus tard' }, { documentId: later, locale: 'fr', publish: false })

  const localized = [hello, salut, only, later]
  const chosen = (entries: Entry[]) => Object.fromEntries(entries.filter((e) => localized.includes(e.documentId))
    .map((e) => [e.documentId, [e.locale, e.title]]))

  await t.test('each document in the first locale of the chain it is published in', async (t) => {
    t.same(chosen(await data(s, 'article?locale=fr-CA&fallback=fr,en')), {
      [hello]: ['fr-CA', 'Allo'],
      [salut]: ['fr', 'Salut'],
      [only]: ['en', 'Only English'],
      [later]: ['en', 'Later'],
    })
    t.same(chosen(await data(s, 'article?locale=fr')), { [hello]: ['fr', 'Bonjour'], [salut]: ['fr', 'Salut'] }, 'no fallback: French only')
    t.same(chosen(await data(s, 'article')), {
      [hello]: ['en', 'Hello'], [salut]: ['en', 'Hi'], [only]: ['en', 'Only English'], [later]: ['en', 'Later'],
    }, 'the default locale')
    t.same(chosen(await data(s, 'article?locale=fr&status=draft', await token(s, 'preview'))), {
      [hello]: ['fr', 'Bonjour'], [salut]: ['fr', 'Salut'], [later]: ['fr', 'Plus tard'],
    }, 'drafts have their own locales')

    t.match(await data(s, `article/${salut}?locale=fr-CA&fallback=fr`), { locale: 'fr', title: 'Salut' })
    t.match(await data(s, `article/${only}?locale=fr-CA&fallback=fr,en`), { locale: 'en', title: 'Only English' })
    t.equal((await read(s, `article/${only}?locale=fr-CA&fallback=fr`)).statusCode, 404)
  })

  await t.test('an unknown locale is a 400 naming the locales', async (t) => {
    const fallback = await read(s, 'article?locale=fr-CA&fallback=fr,de')
    t.equal(fallback.statusCode, 400)
    t.match(fallback.json().details, [{ path: '/fallback', allowed: ['en', 'fr', 'fr-CA'] }])
    const locale = await read(s, `article/${hello}?locale=de`)
    t.equal(locale.statusCode, 400)
    t.match(locale.json().details, [{ path: '/locale', allowed: ['en', 'fr', 'fr-CA'] }])
  })

  await t.test('search: stemmed, ranked, rich text included, private fields and drafts not', async (t) => {
    const inTitle = await article(s, { title: 'Running shoes', summary: 'Light and fast' })
    const inSummary = await article(s, { title: 'Trail guide', summary: 'For people who like running' })
    const inBody = await article(s, { title: 'Long race', body: 'A **marathon** is _far_.\n\n- water\n- food' })
    await article(s, { title: 'Quiet', notes: 'run run run, marathon' })
    await article(s, { title: 'Runner', summary: 'run' }, { publish: false })

    const run = await read(s, 'article?q=run')
    t.equal(run.statusCode, 200)
    t.same(ids(run.json().data), [inTitle, inSummary], 'run finds running; a title match ranks above a summary match')
    t.equal(run.json().meta.total, 2)
    t.same(ids(await data(s, 'article?q=marathon')), [inBody], 'the words of rich text count')
    t.same(ids(await data(s, 'article?q=water')), [inBody], 'inside a list too')
    t.same(ids(await data(s, 'article?q=running%20shoes')), [inTitle])
    t.same(ids(await data(s, 'article?q=run%20-shoes')), [inSummary])
    t.same(await data(s, 'article?q=zebra'), [])
    t.same(ids(await data(s, 'article?q=run&status=draft', await token(s, 'preview'))).length, 3, 'drafts when asked for')

    // A type without text fields matches nothing.
    await created(s.app, s.admin, '/api/admin/content-types', {
      apiId: 'counter', kind: 'collection', singularName: 'Counter', pluralName: 'Counters', draftAndPublish: false,
      fields: [{ name: 'n', type: 'integer' }],
    })
    await created(s.app, s.admin, '/api/admin/content-types/counter/entries', { data: { n: 1 } })
    t.equal((await data(s, 'counter', s.admin.headers)).length, 1)
    const none = await read(s, 'counter?q=1', s.admin.headers)
    t.equal(none.statusCode, 200)
    t.same(none.json().data, [])
  })
})

t.test('HTTP caching: ETag and 304, Cache-Control, Vary, and the keys to purge by', async (t) => {
  const values = { GUDANG_CACHE_MAX_AGE: 5, GUDANG_CACHE_S_MAXAGE: 300, GUDANG_CACHE_STALE_WHILE_REVALIDATE: 30 }
  const s = await site(t, values)
  const { ann, bob } = s.authors
  const first = await article(s, { title: 'First', author: bob, categories: [s.categories.news] })
  const second = await article(s, { title: 'Second' })
  const keys = (header: unknown, separator: string) => String(header).split(separator).sort()

  await t.test('anonymous answers are public, with the configured times', async (t) => {
    const res = await read(s, 'article')
    t.equal(res.statusCode, 200)
    t.equal(res.headers['cache-control'], 'public, max-age=5, s-maxage=300, stale-while-revalidate=30')
    t.match(res.headers.vary, /\bAuthorization\b/)
    t.match(res.headers.etag, /^(W\/)?"[^"]+"$/)
    t.same(keys(res.headers['surrogate-key'], ' '), ['content:article', first, second].sort())
    t.same(keys(res.headers['cache-tag'], ','), ['content:article', first, second].sort())
    const one = await read(s, `article/${second}`)
    t.match(one.headers.etag, /"[^"]+"/)
    t.same(keys(one.headers['surrogate-key'], ' '), ['content:article', second].sort())
    t.equal(one.headers['cache-tag'], `content:article,${second}`)
  })

  await t.test('the keys name every document in the answer, populated ones too', async (t) => {
    const populated = await read(s, `article/${first}?populate[author][populate][mentor]=true&populate[categories]=true`)
    t.equal(populated.statusCode, 200)
    const expected = ['content:article', first, bob, ann, s.categories.news].sort()
    t.same(keys(populated.headers['surrogate-key'], ' '), expected)
    t.same(keys(populated.headers['cache-tag'], ','), expected)
    const list = await read(s, 'article?populate=author')
    t.same(keys(list.headers['surrogate-key'], ' '), ['content:article', first, second, bob].sort())
  })

  await t.test('If-None-Match with the ETag: 304 without a body, until a publish changes it', async (t) => {
    const res = await read(s, 'article')
    const { etag } = res.headers as { etag: string }
    const again = await read(s, 'article')
    t.equal(again.headers.etag, etag, 'the same answer, the same ETag')
    const notModified = await read(s, 'article', { 'if-none-match': etag })
    t.equal(notModified.statusCode, 304)
    t.equal(notModified.body, '')
    const other = await read(s, 'article', { 'if-none-match': '"something else"' })
    t.equal(other.statusCode, 200)
    t.same(other.json(), res.json())

    const one = await read(s, `article/${second}`)
    t.equal((await read(s, `article/${second}`, { 'if-none-match': String(one.headers.etag) })).statusCode, 304)

    await update(s, second, { title: 'Second, edited' })
    await publish(s, second)
    const changed = await read(s, 'article', { 'if-none-match': etag })
    t.equal(changed.statusCode, 200, 'after a publish the old ETag is stale')
    t.not(changed.headers.etag, etag)
    t.equal(changed.json().data[0].title, 'Second, edited')
    const edited = await read(s, `article/${second}`, { 'if-none-match': String(one.headers.etag) })
    t.equal(edited.statusCode, 200)
    t.not(edited.headers.etag, one.headers.etag)
  })

  await t.test('a published answer is kept by its ETag: asked again, it costs no query for the entries', async (t) => {
    const url = `article?populate=author&sort=title`
    const made = await statements(() => read(s, url))
    const again = await statements(() => read(s, url))
    t.equal(again.result.body, made.result.body, 'the same answer')
    t.equal(again.result.headers.etag, made.result.headers.etag)
    t.equal(again.result.headers['surrogate-key'], made.result.headers['surrogate-key'], 'with its purge keys')
    t.equal(again.result.headers['content-type'], 'application/json; charset=utf-8')
    t.ok(again.count < made.count, `kept: ${again.count} statements, made: ${made.count}`)
    // A publish gives a new ETag: the kept answer is not the answer any more.
    await update(s, second, { title: 'Second, again' })
    await publish(s, second)
    const after = await read(s, url)
    t.match(after.json().data.map((e: Entry) => e.title), ['First', 'Second, again'])
    // Drafts are not kept.
    const preview = await token(s, 'preview')
    // A first use of a token records it; each URL's first answer after a change places the change log.
    await read(s, 'article?status=draft&fields=title', preview)
    const draft = await statements(() => read(s, 'article?status=draft', preview))
    const draftAgain = await statements(() => read(s, 'article?status=draft', preview))
    t.equal(draftAgain.count, draft.count)
  })

  await t.test('with GUDANG_RESPONSE_CACHE_SIZE 0 nothing is kept', async (t) => {
    const bare = await site(t, { GUDANG_RESPONSE_CACHE_SIZE: 0 })
    await article(bare, { title: 'Only' })
    await read(bare, 'article?fields=title')
    const made = await statements(() => read(bare, 'article'))
    const again = await statements(() => read(bare, 'article'))
    t.equal(again.count, made.count)
    t.equal(again.result.body, made.result.body)
  })

  await t.test('tokens and editors: private; drafts: not stored', async (t) => {
    const delivery = await read(s, 'article', await token(s, 'delivery'))
    t.equal(delivery.statusCode, 200)
    t.equal(delivery.headers['cache-control'], 'private, max-age=5')
    t.match(delivery.headers.vary, /\bAuthorization\b/)
    t.equal((await read(s, `article/${first}`, s.admin.headers)).headers['cache-control'], 'private, max-age=5')
    const drafts = await read(s, 'article?status=draft', await token(s, 'preview'))
    t.equal(drafts.statusCode, 200)
    t.equal(drafts.headers['cache-control'], 'private, no-store')
    t.match(drafts.headers.etag, /"[^"]+"/)
    t.same(keys(drafts.headers['surrogate-key'], ' '), ['content:article', first, second].sort())
  })
})

t.test('single types, missing types, and the read cache (GUDANG_READ_CACHE_TTL)', async (t) => {
  const s = await site(t, { GUDANG_READ_CACHE_TTL: 60_000 })
  const { app, admin } = s
  const publicRole = await roleId(app, admin, 'public')

  await t.test('a single type answers its one entry once it is published', async (t) => {
    t.equal((await read(s, 'home')).statusCode, 404, 'no entry yet')
    const home = await manage(s, 'PUT', '/api/admin/content-types/home/entry', { data: { headline: 'Welcome' } })
    t.equal((await read(s, 'home')).statusCode, 404, 'a draft only')
    t.match(await data(s, 'home?status=draft', await token(s, 'preview')), { headline: 'Welcome', status: 'draft' })
    await manage(s, 'POST', `/api/admin/content-types/home/entries/${home.documentId}/publish`)
    const res = await read(s, 'home')
    t.equal(res.statusCode, 200)
    t.same(Object.keys(res.json()), ['data'], 'an entry, not a page')
    t.strictSame(fieldsOf(res.json().data), { headline: 'Welcome' })
    t.equal(res.json().data.documentId, home.documentId)
    t.equal(res.headers['surrogate-key'], `content:home ${home.documentId}`)
    t.equal((await read(s, `home/${home.documentId}`)).statusCode, 404, 'a single type has no entries by id')
    t.equal((await read(s, `home/${missing}`)).statusCode, 404)
  })

  await t.test('a type that does not exist: 404 for whoever may read every type', async (t) => {
    const res = await read(s, 'nothing', admin.headers)
    t.equal(res.statusCode, 404)
    t.equal(res.json().code, 'GUDANG_ERR_NOT_FOUND')
    t.equal((await read(s, `nothing/${missing}`, admin.headers)).statusCode, 404)
    t.equal((await read(s, 'nothing')).statusCode, 401, 'the Public role may not read it')
    // A type made through the API is there at once.
    await created(app, admin, '/api/admin/content-types', {
      apiId: 'nothing', kind: 'collection', singularName: 'Nothing', pluralName: 'Nothings', fields: [{ name: 'x', type: 'string' }],
    })
    t.same(await data(s, 'nothing', admin.headers), [])
  })

  await t.test('permissions changed through the API apply at once; behind its back, after the next write', async (t) => {
    const entry = await article(s, { title: 'Kept', summary: 'Not for everyone' })
    t.strictSame((await data(s, 'article')).map(fieldsOf), [{ title: 'Kept', summary: 'Not for everyone' }])
    t.equal((await read(s, 'author')).statusCode, 200)

    await grantPublic(s, [{ subject: 'content:article', action: 'read', fields: ['title'] }])
    t.strictSame((await data(s, 'article')).map(fieldsOf), [{ title: 'Kept' }], 'only the fields the rule names')
    t.equal((await read(s, 'author')).statusCode, 401, 'authors are no longer public')
    t.equal((await read(s, `article/${entry}?fields=summary`)).statusCode, 400)

    await app.prisma.permission.create({ data: { roleId: publicRole, subject: 'content:author', action: 'read' } })
    t.equal((await read(s, 'author')).statusCode, 401, 'the Public role is kept in memory: the change is not seen yet')
    // A write that fails leaves the cache; one that succeeds empties it.
    const failed = await app.inject({ method: 'POST', url: `/api/admin/content-types/article/entries/${missing}/publish`, headers: admin.headers })
    t.equal(failed.statusCode, 404)
    t.equal((await read(s, 'author')).statusCode, 401, 'not after a failed write')
    await publish(s, entry)
    const authors = await read(s, 'author')
    t.equal(authors.statusCode, 200, 'seen after a write')
    t.equal(authors.json().data.length, 3)
  })
})

t.test('the read cache keeps a value for its TTL, never a failed load; a write request empties it', async (t) => {
  async function withTtl(ttl: number) {
    const app = Fastify({ logger: false })
    app.decorate('config', testConfig({ GUDANG_READ_CACHE_TTL: ttl }))
    await app.register(readCache)
    app.get('/', async () => 'read')
    app.post('/', async () => 'written')
    app.post('/refused', async (_request, reply) => reply.code(400).send('no'))
    t.teardown(() => app.close())
    await app.ready()
    return app
  }
  const app = await withTtl(200)
  let loads = 0
  const load = async () => {
    loads += 1
    return loads
  }
  t.equal(await app.readCache.get('k', load), 1)
  t.equal(await app.readCache.get('k', load), 1, 'kept')
  await app.inject({ url: '/' })
  await app.inject({ method: 'HEAD', url: '/' })
  t.equal(await app.readCache.get('k', load), 1, 'reads leave it')
  await app.inject({ method: 'POST', url: '/refused' })
  await app.inject({ method: 'OPTIONS', url: '/' })
  t.equal(await app.readCache.get('k', load), 1, 'a refused write and a preflight leave it')
  await app.inject({ method: 'POST', url: '/' })
  t.equal(await app.readCache.get('k', load), 2, 'a write empties it')
  await sleep(250)
  t.equal(await app.readCache.get('k', load), 3, 'after the TTL, loaded again')

  await t.rejects(app.readCache.get('down', () => Promise.reject(new Error('database down'))), /database down/)
  t.equal(await app.readCache.get('down', async () => 'up'), 'up', 'a failed load is not kept')
  t.equal(await app.readCache.get('down', async () => 'other'), 'up', 'a good one is')

  const uncached = await withTtl(0)
  t.equal(await uncached.readCache.get('k', load), 4)
  t.equal(await uncached.readCache.get('k', load), 5, 'TTL 0: read every time')
})

t.test('relations lead only to types read wholly; what a request could abuse is refused', async (t) => {
  const s = await site(t, { GUDANG_CORS_ORIGIN: 'https://a.example,https://b.example' })
  const { app, admin } = s
  const { ann, bob } = s.authors
  await article(s, { title: 'By Bob', author: bob })

  await t.test('an own-only reader of a type reaches none of its entries through another type', async (t) => {
    await created(app, admin, '/api/admin/roles', {
      name: 'Own authors',
      permissions: [{ subject: 'content:article', action: 'read' }, { subject: 'content:author', action: 'read', ownOnly: true }],
    })
    const reader = await signInAs(app, admin, 'Own authors')
    const [entry] = await data(s, 'article', reader.headers)
    t.equal(entry.title, 'By Bob')
    t.notOk('author' in entry, 'the link is left out')
    for (const query of ['populate=author', 'filters[author][name][$eq]=Bob', 'sort=author.name', 'filters[author][$null]=true']) {
      t.equal((await read(s, `article?${query}`, reader.headers)).statusCode, 400, query)
    }
    t.same(await data(s, 'author', reader.headers), [], 'their own authors only: none')
  })

  await t.test('a sort goes at most GUDANG_DELIVERY_MAX_DEPTH (4) relations deep', async (t) => {
    t.equal((await read(s, 'article?sort=author.mentor.mentor.mentor.name')).statusCode, 200)
    const deep = await read(s, 'article?sort=author.mentor.mentor.mentor.mentor.name')
    t.equal(deep.statusCode, 400)
    t.match(deep.json(), { details: [{ path: '/sort', message: /deeper than the 4 levels/ }] })
  })

  await t.test('a dynamic zone field named alike in its components must be the same field to be populated', async (t) => {
    await created(app, admin, '/api/admin/components', {
      uid: 'blocks.person', displayName: 'Person', fields: [{ name: 'who', type: 'relation', relation: 'toOne', target: 'author' }],
    })
    await created(app, admin, '/api/admin/components', {
      uid: 'blocks.topic', displayName: 'Topic', fields: [{ name: 'who', type: 'relation', relation: 'toOne', target: 'category' }],
    })
    await created(app, admin, '/api/admin/content-types', {
      apiId: 'board', kind: 'collection', singularName: 'Board', pluralName: 'Boards', draftAndPublish: false,
      fields: [{ name: 'items', type: 'dynamiczone', components: ['blocks.person', 'blocks.topic'] }],
    })
    await created(app, admin, '/api/admin/content-types/board/entries', {
      data: { items: [{ __component: 'blocks.person', who: ann }, { __component: 'blocks.topic', who: s.categories.news }] },
    })
    const res = await read(s, 'board?populate[items][populate][who][populate]=mentor', admin.headers)
    t.equal(res.statusCode, 400)
    t.match(res.json(), { details: [{ path: '/populate/items/populate/who', message: /differs between the components/ }] })
  })

  await t.test('Vary keeps Origin beside Authorization; If-None-Match: * is no ETag of ours', async (t) => {
    const res = await read(s, 'article', { origin: 'https://b.example' })
    t.equal(res.headers['access-control-allow-origin'], 'https://b.example')
    t.match(res.headers.vary, /\bOrigin\b.*\bAuthorization\b/)
    t.equal((await read(s, 'article', { 'if-none-match': '*' })).statusCode, 200)
  })
})
