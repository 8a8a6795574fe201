import qs from 'qs'
import t, { type Test } from 'tap'
import { article, publish, remove, site, type Site, token, unpublish, update } from '../delivery-fixture.js'
import { created, roleId } from '../helper.js'

/**
 * The delivery API's query language on seeded data: every filter operator on each kind of
 * value, logical combinations, filters through relations and inside components, sorting,
 * paging by number and by cursor (also while content is added), and the 400s that name the
 * valid choices. Answers are compared as exact sets or orders of titles.
 */

type Entry = Record<string, unknown> & { documentId: string, title: string, createdAt: string, publishedAt: string }
interface Meta { page?: number, pageSize: number, total?: number, pageCount?: number, nextCursor: string | null }
interface Problem { in: string, path: string, message: string, allowed?: string[] }
type Headers = Record<string, string>

/** A query string from an object, as a client library would write it (`filters[views][$in][0]=5`). */
function query(value: object): string {
  return qs.stringify(value, { encodeValuesOnly: true })
}

async function get(s: Site, search: string, headers: Headers = {}, apiId = 'article') {
  return s.app.inject({ url: `/api/content/${apiId}?${search}`, headers })
}

/** A page of entries; fails unless the answer is 200. */
async function page(s: Site, search: string, headers: Headers = {}, apiId = 'article') {
  const res = await get(s, search, headers, apiId)
  if (res.statusCode !== 200) throw new Error(`GET ${apiId}?${search} answered ${res.statusCode}: ${res.body}`)
  return res.json() as { data: Entry[], meta: Meta }
}

/** The titles of every matching entry, in the answer's order. */
async function titles(s: Site, search: string, headers: Headers = {}): Promise<string[]> {
  return (await page(s, `${search}&pageSize=100`, headers)).data.map((e) => e.title)
}

/** Asserts the set of titles a filter answers (the order aside). */
async function matches(t: Test, s: Site, filters: object | string, expected: string[], headers: Headers = {}) {
  const search = typeof filters === 'string' ? filters : query({ filters })
  t.same((await titles(s, search, headers)).sort(), [...expected].sort(), decodeURIComponent(search))
}

/** Asserts a 400 with one problem at `path`; answers the problem. */
async function refused(t: Test, s: Site, search: string, path: string, apiId = 'article'): Promise<Problem> {
  const res = await get(s, search, {}, apiId)
  const body = res.json()
  t.equal(res.statusCode, 400, `${decodeURIComponent(search)} is refused`)
  t.equal(body.code, 'GUDANG_ERR_VALIDATION')
  t.same(body.details?.map((d: Problem) => d.path), [path], `${decodeURIComponent(search)}: the problem is at ${path}`)
  return body.details?.[0] ?? { in: '', path: '', message: '' }
}

const REVIEW = {
  apiId: 'review',
  kind: 'collection',
  singularName: 'Review',
  pluralName: 'Reviews',
  draftAndPublish: false,
  fields: [
    { name: 'text', type: 'string' },
    { name: 'article', type: 'relation', relation: 'toOne', target: 'article' },
    { name: 'articles', type: 'relation', relation: 'toMany', target: 'article' },
  ],
}

/**
 * The articles (en, published unless said): Alpha, Beta, Gamma, Delta, Epsilon and Eta, in
 * that order of creation; Zeta only a draft, Theta unpublished, Iota only in French, Alpha
 * in French too. Eta's draft differs from what is published; Alpha is published again last.
 * Reviews link to articles, some of them not published.
 */
async function seed(t: Test) {
  const s = await site(t)
  const { ann, bob, cyd } = s.authors
  const { news, tech, food } = s.categories
  const body = [{ type: 'paragraph', children: [{ type: 'text', text: 'Body' }] }]
  const ids = {
    alpha: await article(s, {
      title: 'Alpha', summary: 'Running fast', body, views: 10, rating: 4.5, featured: true, day: '2024-01-10',
      author: ann, categories: [news, tech], related: [s.secret], notes: 'private a',
      seo: { metaTitle: 'Mango', keywords: 'fruit', internalNote: 'hidden' },
      quotes: [{ text: 'Hello world', by: bob }],
    }),
    beta: await article(s, {
      title: 'Beta', summary: 'Walking slowly', body, views: 20, rating: 3.25, featured: false, day: '2024-02-15',
      author: bob, categories: [tech], seo: { metaTitle: 'Apple' }, quotes: [],
    }),
    gamma: await article(s, {
      title: 'Gamma', rating: 1, featured: true, day: '2024-03-01', author: cyd,
      quotes: [{ text: 'Be bold', by: ann }, { text: 'Stay', by: cyd }],
    }),
    delta: await article(s, {
      title: 'Delta', summary: '50%_off deals', views: 5, featured: false, categories: [food],
      seo: { metaTitle: 'Cherry' }, quotes: [{ text: 'Quiet' }],
    }),
    epsilon: await article(s, {
      title: 'Epsilon', summary: 'running out', views: 20, rating: 2.5, day: '2023-12-31', author: ann,
      categories: [news, food], seo: { keywords: 'k' },
    }),
    zeta: await article(s, { title: 'Zeta', views: 10, featured: true, author: ann, categories: [news] }, { publish: false }),
    eta: await article(s, {
      title: 'Eta', summary: 'Old', views: 7, rating: 4.5, featured: true, day: '2024-01-10', author: bob,
      categories: [news], seo: { metaTitle: 'Banana' }, quotes: [{ text: 'Hello there', by: cyd }],
    }),
    theta: await article(s, { title: 'Theta', views: 10 }),
    iota: await article(s, { title: 'Iota', views: 10 }, { locale: 'fr' }),
  }
  await unpublish(s, ids.theta)
  await update(s, ids.eta, { title: 'Eta', summary: 'New', views: 99 })
  await article(s, { title: 'Alpha FR', views: 11 }, { locale: 'fr', documentId: ids.alpha })
  await update(s, ids.alpha, { notes: 'private b' })
  await publish(s, ids.alpha)

  const { app, admin } = s
  await created(app, admin, '/api/admin/content-types', REVIEW)
  const permissions = ['author', 'category', 'article', 'home', 'review'].map((apiId) => ({ subject: `content:${apiId}`, action: 'read' }))
  const patched = await app.inject({
    method: 'PATCH', url: `/api/admin/roles/${await roleId(app, admin, 'public')}`, headers: admin.headers, payload: { permissions },
  })
  if (patched.statusCode !== 200) throw new Error(`PATCH role answered ${patched.statusCode}: ${patched.body}`)
  const review = (data: object) => created(app, admin, '/api/admin/content-types/review/entries', { data })
  await review({ text: 'On Alpha', article: ids.alpha, articles: [ids.alpha] })
  await review({ text: 'On Zeta', article: ids.zeta, articles: [ids.zeta, ids.beta] })
  await review({ text: 'On Eta', article: ids.eta })
  await review({ text: 'On Theta', article: ids.theta, articles: [ids.theta] })
  await review({ text: 'On Iota', article: ids.iota })
  await review({ text: 'On nothing' })
  return { s, ids }
}

const ALL = ['Alpha', 'Beta', 'Gamma', 'Delta', 'Epsilon', 'Eta']
const except = (...names: string[]) => ALL.filter((name) => !names.includes(name))

t.test('filters, sorting, paging and mistakes on seeded articles', async (t) => {
  const { s, ids } = await seed(t)
  const entries = (await page(s, 'pageSize=100')).data
  t.same(entries.map((e) => e.title), ['Eta', 'Epsilon', 'Delta', 'Gamma', 'Beta', 'Alpha'], 'published entries of the default locale, newest first')
  const byTitle = Object.fromEntries(entries.map((e) => [e.title, e])) as Record<string, Entry>

  t.test('text', async (t) => {
    await matches(t, s, 'filters[title]=Alpha', ['Alpha'])
    await matches(t, s, 'filters[title][$eq]=Alpha', ['Alpha'])
    await matches(t, s, { title: 'Zeta' }, [])
    await matches(t, s, { title: { $ne: 'Alpha' } }, except('Alpha'))
    await matches(t, s, { title: { $eqi: 'aLPHA' } }, ['Alpha'])
    await matches(t, s, { title: { $eq: 'alpha' } }, [])
    await matches(t, s, { title: { $nei: 'ALPHA' } }, except('Alpha'))
    await matches(t, s, { title: { $lt: 'C' } }, ['Alpha', 'Beta'])
    await matches(t, s, { title: { $lte: 'Beta' } }, ['Alpha', 'Beta'])
    await matches(t, s, { title: { $gt: 'Epsilon' } }, ['Eta', 'Gamma'])
    await matches(t, s, { title: { $gte: 'Epsilon' } }, ['Epsilon', 'Eta', 'Gamma'])
    await matches(t, s, { title: { $between: ['Beta', 'Epsilon'] } }, ['Beta', 'Delta', 'Epsilon'])
    await matches(t, s, { title: { $in: ['Alpha', 'Gamma', 'Zeta', 'Theta', 'Iota'] } }, ['Alpha', 'Gamma'])
    await matches(t, s, { title: { $notIn: ['Alpha', 'Gamma'] } }, except('Alpha', 'Gamma'))
    await matches(t, s, { title: { $contains: 'ta' } }, ['Beta', 'Delta', 'Eta'])
    await matches(t, s, { title: { $contains: 'A' } }, ['Alpha'])
    await matches(t, s, { title: { $containsi: 'A' } }, except('Epsilon'))
    await matches(t, s, { title: { $notContains: 'a' } }, ['Epsilon'])
    await matches(t, s, { title: { $notContainsi: 'E' } }, ['Alpha', 'Gamma'])
    await matches(t, s, { title: { $startsWith: 'E' } }, ['Epsilon', 'Eta'])
    await matches(t, s, { title: { $startsWith: 'e' } }, [])
    await matches(t, s, { title: { $startsWithi: 'e' } }, ['Epsilon', 'Eta'])
    await matches(t, s, { title: { $endsWith: 'ta' } }, ['Beta', 'Delta', 'Eta'])
    await matches(t, s, { title: { $endsWith: 'TA' } }, [])
    await matches(t, s, { title: { $endsWithi: 'TA' } }, ['Beta', 'Delta', 'Eta'])
    // Several operators on a field all apply.
    await matches(t, s, { title: { $startsWith: 'E', $endsWith: 'a' } }, ['Eta'])
    // LIKE's wildcards are plain characters.
    await matches(t, s, { summary: { $contains: '%' } }, ['Delta'])
    await matches(t, s, { summary: { $contains: '_' } }, ['Delta'])
    await matches(t, s, { summary: { $endsWith: '%' } }, [])
    await matches(t, s, { summary: { $containsi: 'RUNNING' } }, ['Alpha', 'Epsilon'])
    await matches(t, s, { summary: { $contains: 'unning' } }, ['Alpha', 'Epsilon'])
    // Negations count entries without a value as not equal / not containing.
    await matches(t, s, { summary: { $ne: 'Old' } }, except('Eta'))
    await matches(t, s, { summary: { $nei: 'OLD' } }, except('Eta'))
    await matches(t, s, { summary: { $notIn: ['Old'] } }, except('Eta'))
    await matches(t, s, { summary: { $notContains: 'unning' } }, except('Alpha', 'Epsilon'))
    await matches(t, s, { summary: { $notContainsi: 'RUNNING' } }, except('Alpha', 'Epsilon'))
    await matches(t, s, { summary: { $null: 'true' } }, ['Gamma'])
    await matches(t, s, { summary: { $null: 'false' } }, except('Gamma'))
    await matches(t, s, { summary: { $notNull: 'true' } }, except('Gamma'))
    await matches(t, s, { summary: { $notNull: 'false' } }, ['Gamma'])
    // The published data is filtered, not the draft.
    await matches(t, s, { summary: 'New' }, [])
    await matches(t, s, { summary: 'Old' }, ['Eta'])
    // Rich text: whether there is any.
    await matches(t, s, { body: { $notNull: 'true' } }, ['Alpha', 'Beta'])
    await matches(t, s, { body: { $null: 'true' } }, except('Alpha', 'Beta'))
  })

  t.test('numbers, decimals, booleans and dates', async (t) => {
    await matches(t, s, 'filters[views]=10', ['Alpha'])
    await matches(t, s, { views: { $eq: '20' } }, ['Beta', 'Epsilon'])
    await matches(t, s, { views: { $eq: '20.0' } }, ['Beta', 'Epsilon'])
    await matches(t, s, { views: { $ne: 20 } }, except('Beta', 'Epsilon'))
    await matches(t, s, { views: { $lt: 10 } }, ['Delta', 'Eta'])
    await matches(t, s, { views: { $lte: 10 } }, ['Alpha', 'Delta', 'Eta'])
    await matches(t, s, { views: { $gt: 10 } }, ['Beta', 'Epsilon'])
    await matches(t, s, { views: { $gte: 20 } }, ['Beta', 'Epsilon'])
    await matches(t, s, { views: { $gt: 5, $lt: 20 } }, ['Alpha', 'Eta'])
    await matches(t, s, { views: { $between: [5, 10] } }, ['Alpha', 'Delta', 'Eta'])
    await matches(t, s, { views: { $in: [5, 20] } }, ['Beta', 'Delta', 'Epsilon'])
    await matches(t, s, { views: { $notIn: [5, 20] } }, ['Alpha', 'Gamma', 'Eta'])
    await matches(t, s, { views: { $null: true } }, ['Gamma'])
    await matches(t, s, { views: { $notNull: true } }, except('Gamma'))
    await matches(t, s, { views: 99 }, [])

    await matches(t, s, { rating: 4.5 }, ['Alpha', 'Eta'])
    await matches(t, s, { rating: { $eq: '4.50' } }, ['Alpha', 'Eta'])
    await matches(t, s, { rating: { $ne: '4.5' } }, ['Beta', 'Gamma', 'Delta', 'Epsilon'])
    await matches(t, s, { rating: { $gt: 2.5 } }, ['Alpha', 'Beta', 'Eta'])
    await matches(t, s, { rating: { $gte: 2.5 } }, ['Alpha', 'Beta', 'Epsilon', 'Eta'])
    await matches(t, s, { rating: { $lt: 3 } }, ['Gamma', 'Epsilon'])
    await matches(t, s, { rating: { $lte: '3.25' } }, ['Beta', 'Gamma', 'Epsilon'])
    await matches(t, s, { rating: { $between: ['1', '2.5'] } }, ['Gamma', 'Epsilon'])
    await matches(t, s, { rating: { $in: ['3.25', '1'] } }, ['Beta', 'Gamma'])
    await matches(t, s, { rating: { $notIn: ['3.25', '1'] } }, ['Alpha', 'Delta', 'Epsilon', 'Eta'])
    await matches(t, s, { rating: { $null: true } }, ['Delta'])
    await matches(t, s, { rating: { $gt: '-1e3' } }, except('Delta'))

    await matches(t, s, 'filters[featured]=true', ['Alpha', 'Gamma', 'Eta'])
    await matches(t, s, { featured: { $eq: false } }, ['Beta', 'Delta'])
    await matches(t, s, { featured: { $ne: true } }, ['Beta', 'Delta', 'Epsilon'])
    await matches(t, s, { featured: { $in: [false] } }, ['Beta', 'Delta'])
    await matches(t, s, { featured: { $notIn: [false] } }, ['Alpha', 'Gamma', 'Epsilon', 'Eta'])
    await matches(t, s, { featured: { $null: true } }, ['Epsilon'])
    await matches(t, s, { featured: { $notNull: true } }, except('Epsilon'))

    await matches(t, s, { day: '2024-01-10' }, ['Alpha', 'Eta'])
    await matches(t, s, { day: { $ne: '2024-01-10' } }, ['Beta', 'Gamma', 'Delta', 'Epsilon'])
    await matches(t, s, { day: { $lt: '2024-01-01' } }, ['Epsilon'])
    await matches(t, s, { day: { $lte: '2024-01-10' } }, ['Alpha', 'Epsilon', 'Eta'])
    await matches(t, s, { day: { $gt: '2024-01-10' } }, ['Beta', 'Gamma'])
    await matches(t, s, { day: { $gte: '2024-02-15' } }, ['Beta', 'Gamma'])
    await matches(t, s, { day: { $between: ['2024-01-01', '2024-02-29'] } }, ['Alpha', 'Beta', 'Eta'])
    await matches(t, s, { day: { $in: ['2023-12-31', '2024-03-01'] } }, ['Epsilon', 'Gamma'])
    await matches(t, s, { day: { $notIn: ['2023-12-31', '2024-03-01'] } }, ['Alpha', 'Beta', 'Delta', 'Eta'])
    await matches(t, s, { day: { $null: true } }, ['Delta'])
  })

  t.test('attributes: documentId, locale, createdAt, publishedAt, updatedAt', async (t) => {
    await matches(t, s, { documentId: { $in: [ids.alpha, ids.beta, ids.zeta, ids.theta] } }, ['Alpha', 'Beta'])
    await matches(t, s, { documentId: { $notIn: [ids.alpha, ids.beta] } }, except('Alpha', 'Beta'))
    await matches(t, s, { documentId: ids.gamma }, ['Gamma'])
    await matches(t, s, { documentId: { $eq: ids.gamma.toUpperCase() } }, ['Gamma'])
    await matches(t, s, { documentId: { $ne: ids.gamma } }, except('Gamma'))
    await matches(t, s, { documentId: { $null: false } }, ALL)

    // Creation order: Alpha … Eta.
    const gamma = byTitle.Gamma as Entry
    await matches(t, s, { createdAt: { $gt: gamma.createdAt } }, ['Delta', 'Epsilon', 'Eta'])
    await matches(t, s, { createdAt: { $gte: gamma.createdAt } }, ['Gamma', 'Delta', 'Epsilon', 'Eta'])
    await matches(t, s, { createdAt: { $lt: gamma.createdAt } }, ['Alpha', 'Beta'])
    await matches(t, s, { createdAt: { $lte: gamma.createdAt } }, ['Alpha', 'Beta', 'Gamma'])
    await matches(t, s, { createdAt: gamma.createdAt }, ['Gamma'])
    await matches(t, s, { createdAt: { $between: [byTitle.Beta?.createdAt, byTitle.Delta?.createdAt] } }, ['Beta', 'Gamma', 'Delta'])
    // The same instant written with another offset.
    const shifted = new Date(Date.parse(gamma.createdAt) + 2 * 3600_000).toISOString().replace('Z', '+02:00')
    await matches(t, s, { createdAt: { $gt: shifted } }, ['Delta', 'Epsilon', 'Eta'])
    await matches(t, s, { createdAt: { $gt: '2000-01-01T00:00:00Z' } }, ALL)
    await matches(t, s, { createdAt: { $lt: '2000-01-01' } }, [])

    // Alpha was published again last; Eta's draft changed after it was published, which does not publish it.
    const published = [...entries].sort((a, b) => a.publishedAt.localeCompare(b.publishedAt)).map((e) => e.title)
    t.same(published, ['Beta', 'Gamma', 'Delta', 'Epsilon', 'Eta', 'Alpha'])
    await matches(t, s, { publishedAt: { $gt: byTitle.Eta?.publishedAt } }, ['Alpha'])
    await matches(t, s, { publishedAt: { $lte: byTitle.Gamma?.publishedAt } }, ['Beta', 'Gamma'])
    await matches(t, s, { publishedAt: { $notNull: true } }, ALL)

    await matches(t, s, { locale: 'en' }, ALL)
    await matches(t, s, 'locale=fr&filters[locale]=fr', ['Alpha FR', 'Iota'])
    await matches(t, s, 'locale=fr-CA&fallback=fr,en&filters[locale][$eq]=fr', ['Alpha FR', 'Iota'])
    await matches(t, s, 'locale=fr-CA&fallback=fr,en&filters[locale][$ne]=fr', except('Alpha'))
    await matches(t, s, 'locale=fr-CA&fallback=fr,en&filters[views][$gte]=10', ['Alpha FR', 'Iota', 'Beta', 'Epsilon'])

    // updatedAt and drafts with status=draft: Eta's draft was saved after the others were; Alpha after it.
    const preview = await token(s, 'preview')
    const drafts = (await page(s, 'status=draft&pageSize=100', preview)).data
    t.same(drafts.map((e) => e.title).sort(), [...ALL, 'Theta', 'Zeta'].sort(), 'drafts of every document')
    const eta = drafts.find((e) => e.title === 'Eta') as Entry
    await matches(t, s, `status=draft&${query({ filters: { updatedAt: { $gte: eta.updatedAt } } })}`, ['Alpha', 'Eta'], preview)
    await matches(t, s, `status=draft&${query({ filters: { views: 99 } })}`, ['Eta'], preview)
    await matches(t, s, `status=draft&${query({ filters: { views: 10 } })}`, ['Alpha', 'Zeta', 'Theta'], preview)
    await matches(t, s, `status=draft&${query({ filters: { publishedAt: { $null: true } } })}`, ['Zeta', 'Theta'], preview)
  })

  t.test('$and, $or, $not and their nesting', async (t) => {
    await matches(t, s, 'filters[$or][0][views]=20&filters[$or][1][featured]=true', ['Alpha', 'Beta', 'Gamma', 'Epsilon', 'Eta'])
    await matches(t, s, { $and: [{ views: { $gte: 10 } }, { featured: true }] }, ['Alpha'])
    await matches(t, s, { $and: [{ views: { $gte: 10 } }], featured: false }, ['Beta'])
    // $not is the complement: entries without a value are in it.
    await matches(t, s, { $not: { featured: true } }, ['Beta', 'Delta', 'Epsilon'])
    await matches(t, s, { $not: { views: { $gt: 10 } } }, ['Alpha', 'Gamma', 'Delta', 'Eta'])
    await matches(t, s, { $not: { seo: { metaTitle: 'Mango' } } }, except('Alpha'))
    await matches(t, s, { $not: { title: { $contains: 'ta' }, views: { $lt: 10 } } }, except('Delta', 'Eta'))
    await matches(t, s, { $not: { $not: { views: { $gt: 10 } } } }, ['Beta', 'Epsilon'])
    await matches(t, s, {
      $or: [
        { $and: [{ featured: true }, { views: { $lt: 10 } }] },
        { $not: { $or: [{ title: { $startsWith: 'E' } }, { views: { $notNull: true } }] } },
      ],
    }, ['Eta', 'Gamma'])
    await matches(t, s, {
      $and: [
        { $or: [{ author: { name: 'Ann' } }, { author: { name: 'Bob' } }] },
        { $or: [{ rating: { $gt: 4 } }, { day: { $lt: '2024-01-01' } }] },
      ],
    }, ['Alpha', 'Epsilon', 'Eta'])
    await matches(t, s, { $or: [{ title: 'Alpha' }], $not: { title: 'Alpha' } }, [])
    // qs answers lists past its limit of 100 as objects of indexes: still lists.
    const many = Array.from({ length: 102 }, (_, i) => `filters[$or][${i}][title]=${i === 101 ? 'Beta' : `T${i}`}`).join('&')
    await matches(t, s, many, ['Beta'])
    const views = Array.from({ length: 102 }, (_, i) => `filters[views][$in][${i}]=${i + 100}`).join('&')
    await matches(t, s, `${views}&filters[views][$in][200]=5`, ['Delta'])
  })

  t.test('through relations', async (t) => {
    await matches(t, s, 'filters[author][name][$eq]=Bob', ['Beta', 'Eta'])
    await matches(t, s, 'filters[author][name]=Bob', ['Beta', 'Eta'])
    await matches(t, s, { author: { name: { $in: ['Ann', 'Cyd'] } } }, ['Alpha', 'Gamma', 'Epsilon'])
    await matches(t, s, { author: { name: { $containsi: 'O' } } }, ['Beta', 'Eta'])
    await matches(t, s, { author: { documentId: s.authors.ann } }, ['Alpha', 'Epsilon'])
    await matches(t, s, { author: { mentor: { name: 'Ann' } } }, ['Beta', 'Eta'])
    await matches(t, s, { author: { mentor: { mentor: { name: 'Ann' } } } }, ['Gamma'])
    await matches(t, s, { author: { mentor: { $null: true } } }, ['Alpha', 'Epsilon'])
    await matches(t, s, { author: { $not: { name: 'Ann' } } }, ['Beta', 'Gamma', 'Eta'])
    await matches(t, s, { $not: { author: { name: 'Ann' } } }, except('Alpha', 'Epsilon'))
    await matches(t, s, { author: { $null: true } }, ['Delta'])
    await matches(t, s, { author: { $notNull: true } }, except('Delta'))
    await matches(t, s, { author: { $null: false } }, except('Delta'))

    await matches(t, s, { categories: { slug: 'tech' } }, ['Alpha', 'Beta'])
    await matches(t, s, { categories: { name: { $in: ['News', 'Food'] } } }, ['Alpha', 'Delta', 'Epsilon', 'Eta'])
    await matches(t, s, { categories: { slug: { $ne: 'news' } } }, ['Alpha', 'Beta', 'Delta', 'Epsilon'])
    await matches(t, s, { $and: [{ categories: { slug: 'news' } }, { categories: { slug: 'food' } }] }, ['Epsilon'])
    await matches(t, s, { categories: { slug: 'news', name: 'Food' } }, [])
    await matches(t, s, { categories: { documentId: { $in: [s.categories.food] } } }, ['Delta', 'Epsilon'])
    await matches(t, s, { categories: { $null: true } }, ['Gamma'])
    await matches(t, s, { categories: { $notNull: true } }, except('Gamma'))

    // Related documents count as the reader sees them: published, in the locale asked for.
    const reviews = async (filters: object, expected: string[], search = '', headers: Headers = {}) => {
      const found = await page(s, `${query({ filters })}&pageSize=100${search}`, headers, 'review')
      t.same(found.data.map((r) => r.text).sort(), [...expected].sort(), `reviews ${decodeURIComponent(query({ filters }))}${search}`)
    }
    await reviews({ article: { views: 10 } }, ['On Alpha'])
    await reviews({ article: { title: 'Zeta' } }, [])
    await reviews({ article: { title: 'Theta' } }, [])
    await reviews({ article: { title: 'Iota' } }, [])
    await reviews({ article: { title: 'Iota' } }, ['On Iota'], '&locale=fr')
    await reviews({ article: { title: 'Alpha FR' } }, ['On Alpha'], '&locale=fr')
    await reviews({ article: { title: 'Alpha' } }, ['On Alpha'], '&locale=fr-CA&fallback=en')
    await reviews({ article: { summary: 'Old' } }, ['On Eta'])
    await reviews({ article: { summary: 'New' } }, [])
    await reviews({ articles: { title: 'Zeta' } }, [])
    await reviews({ articles: { title: 'Beta' } }, ['On Zeta'])
    await reviews({ articles: { views: { $gte: 10 } } }, ['On Alpha', 'On Zeta'])
    // A link to a document the reader cannot see is no link: the answer leaves it out, and so does $null.
    const onZeta = (await page(s, 'filters[text]=On%20Zeta', {}, 'review')).data[0] as Entry
    t.notOk('article' in onZeta, 'the link to a draft is left out')
    t.same(onZeta.articles, [ids.beta])
    await reviews({ article: { $null: true } }, ['On Zeta', 'On Theta', 'On Iota', 'On nothing'])
    await reviews({ article: { $notNull: true } }, ['On Alpha', 'On Eta'])
    await reviews({ articles: { $null: true } }, ['On Theta', 'On Eta', 'On Iota', 'On nothing'])
    await reviews({ articles: { $notNull: true } }, ['On Alpha', 'On Zeta'])
    // Drafts read drafts of related documents too.
    const preview = await token(s, 'preview')
    await reviews({ article: { title: 'Zeta' } }, ['On Zeta'], '&status=draft', preview)
    await reviews({ article: { summary: 'New' } }, ['On Eta'], '&status=draft', preview)
    await reviews({ article: { $null: true } }, ['On Iota', 'On nothing'], '&status=draft', preview)
  })

  t.test('inside components', async (t) => {
    await matches(t, s, 'filters[seo][metaTitle]=Mango', ['Alpha'])
    await matches(t, s, { seo: { metaTitle: { $in: ['Apple', 'Cherry'] } } }, ['Beta', 'Delta'])
    await matches(t, s, { seo: { metaTitle: { $ne: 'Mango' } } }, except('Alpha'))
    await matches(t, s, { seo: { metaTitle: { $null: true } } }, ['Gamma', 'Epsilon'])
    await matches(t, s, { seo: { keywords: 'fruit', metaTitle: { $startsWith: 'M' } } }, ['Alpha'])
    await matches(t, s, { seo: { $null: true } }, ['Gamma'])
    await matches(t, s, { seo: { $notNull: true } }, except('Gamma'))
    await matches(t, s, { seo: { $or: [{ metaTitle: 'Apple' }, { keywords: 'k' }] } }, ['Beta', 'Epsilon'])

    // A repeatable component matches when one of its items does.
    await matches(t, s, { quotes: { text: { $containsi: 'hello' } } }, ['Alpha', 'Eta'])
    await matches(t, s, { quotes: { text: 'Stay' } }, ['Gamma'])
    await matches(t, s, { quotes: { by: { name: 'Ann' } } }, ['Gamma'])
    await matches(t, s, { quotes: { by: { name: 'Cyd' } } }, ['Gamma', 'Eta'])
    await matches(t, s, { quotes: { by: { mentor: { name: 'Ann' } } } }, ['Alpha'])
    await matches(t, s, { quotes: { text: 'Stay', by: { name: 'Cyd' } } }, ['Gamma'])
    await matches(t, s, { quotes: { text: 'Be bold', by: { name: 'Cyd' } } }, [])
    await matches(t, s, { quotes: { by: { $null: true } } }, ['Delta'])
    await matches(t, s, { quotes: { $null: true } }, ['Beta', 'Epsilon'])
    await matches(t, s, { quotes: { $notNull: true } }, ['Alpha', 'Gamma', 'Delta', 'Eta'])
    await matches(t, s, { $not: { quotes: { text: { $contains: 'e' } } } }, ['Beta', 'Epsilon'])
  })

  t.test('sorting', async (t) => {
    const order = async (sort: string, expected: string[], extra = '') => {
      t.same(await titles(s, `sort=${sort}${extra}`), expected, `sort=${sort}${extra}`)
    }
    t.same(await titles(s, ''), ['Eta', 'Epsilon', 'Delta', 'Gamma', 'Beta', 'Alpha'], 'newest first by default')
    await order('createdAt:desc', ['Eta', 'Epsilon', 'Delta', 'Gamma', 'Beta', 'Alpha'])
    await order('createdAt', ['Alpha', 'Beta', 'Gamma', 'Delta', 'Epsilon', 'Eta'])
    await order('title', ['Alpha', 'Beta', 'Delta', 'Epsilon', 'Eta', 'Gamma'])
    await order('title:desc', ['Gamma', 'Eta', 'Epsilon', 'Delta', 'Beta', 'Alpha'])
    // Numbers as numbers (5 < 7 < 10 < 20), missing values last either way.
    await order('views:asc,title:asc', ['Delta', 'Eta', 'Alpha', 'Beta', 'Epsilon', 'Gamma'])
    await order('views:desc,title:desc', ['Epsilon', 'Beta', 'Alpha', 'Eta', 'Delta', 'Gamma'])
    await order('views:desc,title:asc', ['Beta', 'Epsilon', 'Alpha', 'Eta', 'Delta', 'Gamma'])
    await order('rating:asc,title', ['Gamma', 'Epsilon', 'Beta', 'Alpha', 'Eta', 'Delta'])
    await order('rating:desc,title:desc', ['Eta', 'Alpha', 'Beta', 'Epsilon', 'Gamma', 'Delta'])
    await order('featured:asc,title', ['Beta', 'Delta', 'Alpha', 'Eta', 'Gamma', 'Epsilon'])
    await order('featured:desc,title', ['Alpha', 'Eta', 'Gamma', 'Beta', 'Delta', 'Epsilon'])
    await order('day:asc,title:asc', ['Epsilon', 'Alpha', 'Eta', 'Beta', 'Gamma', 'Delta'])
    await order('day:desc,title:asc', ['Gamma', 'Beta', 'Alpha', 'Eta', 'Epsilon', 'Delta'])
    await order('publishedAt:desc', ['Alpha', 'Eta', 'Epsilon', 'Delta', 'Gamma', 'Beta'])
    await order('documentId', [...entries].sort((a, b) => (a.documentId < b.documentId ? -1 : 1)).map((e) => e.title))
    // By a related entry's field, and through two relations.
    await order('author.name:asc,title:asc', ['Alpha', 'Epsilon', 'Beta', 'Eta', 'Gamma', 'Delta'])
    await order('author.name:desc,title:asc', ['Gamma', 'Beta', 'Eta', 'Alpha', 'Epsilon', 'Delta'])
    await order('author.mentor.name,title', ['Beta', 'Eta', 'Gamma', 'Alpha', 'Delta', 'Epsilon'])
    const byAuthor = (e: Entry) => `${typeof e.author === 'string' ? e.author : '~'} ${e.title}`
    await order('author.documentId:asc,title', [...entries].sort((a, b) => (byAuthor(a) < byAuthor(b) ? -1 : 1)).map((e) => e.title))
    // By a component's field.
    await order('seo.metaTitle:asc,title:asc', ['Beta', 'Eta', 'Delta', 'Alpha', 'Epsilon', 'Gamma'])
    await order('seo.metaTitle:desc,title:asc', ['Alpha', 'Delta', 'Eta', 'Beta', 'Epsilon', 'Gamma'])
    // Together with filters, and with locales.
    await order('title:desc', ['Gamma', 'Eta', 'Alpha'], '&filters[featured]=true')
    await order('locale,title', ['Beta', 'Delta', 'Epsilon', 'Eta', 'Gamma', 'Alpha FR', 'Iota'], '&locale=fr-CA&fallback=fr,en')
    await order('author.name:desc,title', ['Gamma', 'Beta', 'Eta', 'Alpha FR', 'Epsilon', 'Delta', 'Iota'], '&locale=fr&fallback=en')
    const preview = await token(s, 'preview')
    const drafts = await titles(s, 'status=draft&sort=updatedAt:desc', preview)
    t.equal(drafts[0], 'Alpha', 'drafts sort by updatedAt')
  })

  t.test('paging by number and by cursor', async (t) => {
    const first = await page(s, 'pageSize=4')
    t.same(first.data.map((e) => e.title), ['Eta', 'Epsilon', 'Delta', 'Gamma'])
    t.match(first.meta, { page: 1, pageSize: 4, total: 6, pageCount: 2, nextCursor: String })
    const second = await page(s, 'page=2&pageSize=4')
    t.same(second.data.map((e) => e.title), ['Beta', 'Alpha'])
    t.same(second.meta, { page: 2, pageSize: 4, total: 6, pageCount: 2, nextCursor: null })
    t.same(await page(s, 'page=3&pageSize=4'), { data: [], meta: { page: 3, pageSize: 4, total: 6, pageCount: 2, nextCursor: null } })
    t.same((await page(s, 'pageSize=6')).meta, { page: 1, pageSize: 6, total: 6, pageCount: 1, nextCursor: null })
    t.match((await page(s, 'pageSize=5')).meta, { pageCount: 2, nextCursor: String })
    t.match((await page(s, '')).meta, { page: 1, pageSize: 25, total: 6, pageCount: 1 })
    t.same((await page(s, 'filters[featured]=true&pageSize=2&page=2&sort=title')).data.map((e) => e.title), ['Gamma'])
    t.same((await page(s, 'filters[featured]=true&pageSize=2')).meta.total, 3, 'total counts the matches')
    t.same((await page(s, 'filters[title]=Nothing')).meta, { page: 1, pageSize: 25, total: 0, pageCount: 0, nextCursor: null })
    t.equal((await page(s, 'pageSize=100')).data.length, 6)

    // The cursor of a page by number goes on where it ended.
    const after = await page(s, `pageSize=4&after=${first.meta.nextCursor}`)
    t.same(after.data.map((e) => e.title), ['Beta', 'Alpha'])
    t.same(after.meta, { pageSize: 4, nextCursor: null }, 'no count by cursor')
    // The default sort named is the same sort.
    t.same((await page(s, `pageSize=4&sort=createdAt:desc&after=${first.meta.nextCursor}`)).data.map((e) => e.title), ['Beta', 'Alpha'])

    /** Every page of a query by cursor, as titles. */
    const walk = async (search: string, pageSize: number) => {
      const seen: string[] = []
      let cursor: string | null = null
      let pages = 0
      do {
        const answer: { data: Entry[], meta: Meta } = await page(s, `${search}&pageSize=${pageSize}${cursor === null ? '' : `&after=${cursor}`}`)
        seen.push(...answer.data.map((e) => e.title))
        if (pages > 0) t.notOk('total' in answer.meta, 'pages by cursor are not counted')
        cursor = answer.meta.nextCursor
        pages += 1
      } while (cursor !== null && pages < 20)
      return seen
    }
    const sorts = ['', 'sort=title', 'sort=title:desc', 'sort=views:asc', 'sort=views:desc', 'sort=rating:desc,views:asc',
      'sort=featured', 'sort=featured:desc,day:desc', 'sort=day', 'sort=publishedAt', 'sort=documentId:desc',
      'sort=author.name', 'sort=author.name:desc', 'sort=author.mentor.name:desc', 'sort=seo.metaTitle',
      'sort=seo.metaTitle:desc,author.name', 'sort=views&filters[featured]=true', 'locale=fr&fallback=en&sort=views:desc',
      'q=running', 'q=running&sort=title:desc']
    for (const search of sorts) {
      const all = await titles(s, search)
      t.same(await walk(search, 1), all, `${search}: one by one as in one page`)
      t.same(await walk(search, 4), all, `${search}: four by four as in one page`)
    }
    t.same((await titles(s, 'q=running')).sort(), ['Alpha', 'Epsilon'], 'search matches')

    // A cursor is for the sort it was made for.
    const byTitle = (await page(s, 'sort=title&pageSize=2')).meta.nextCursor as string
    const other = await refused(t, s, `sort=views&pageSize=2&after=${byTitle}`, '/after')
    t.match(other.message, /sort=title/)
    await refused(t, s, `pageSize=2&after=${byTitle}`, '/after')
    await refused(t, s, `sort=title:asc&pageSize=2&after=${byTitle}`, '/after')
    const ranked = (await page(s, 'q=running&pageSize=1')).meta.nextCursor as string
    await refused(t, s, `pageSize=1&after=${ranked}`, '/after')
    // Cursors that are not ones this API made.
    const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const id = ids.alpha
    for (const cursor of ['garbage', 'e30', forged({}), forged(['title', ['Beta'], 'not-a-uuid']), forged(['title', ['a', 'b'], id]),
      forged(['title', [5], id]), forged([1, ['Beta'], id]), forged(['title', 'Beta', id])]) {
      await refused(t, s, `sort=title&after=${cursor}`, '/after')
    }
    const [lowest, highest] = ['00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff']
    const from = async (sort: string, values: unknown[], id: string) => (await page(s, `sort=${sort}&after=${forged([sort, values, id])}`)).data.map((e) => e.title)
    t.same(await from('title', ['Beta'], highest), ['Delta', 'Epsilon', 'Eta', 'Gamma'])
    t.same(await from('title', ['Beta'], lowest), ['Beta', 'Delta', 'Epsilon', 'Eta', 'Gamma'])
    t.same(await from('title', ['C'], highest), ['Delta', 'Epsilon', 'Eta', 'Gamma'], 'a cursor is a place in the order, its entry there or not')
    t.same(await from('title:desc', ['C'], lowest), ['Beta', 'Alpha'])
    t.same(await from('views', ['10'], highest), ['Beta', 'Epsilon', 'Gamma'])
    t.same(await from('views', [null], lowest), ['Gamma'], 'after a missing value come only missing values')
    t.same(await from('views', [null], highest), [])
    // A forged value the sort cannot compare with is the client's mistake, not the server's.
    t.equal((await get(s, `sort=views&after=${forged(['views', ['many'], lowest])}`)).statusCode, 400)
    t.equal((await get(s, `sort=createdAt&after=${forged(['createdAt', ['noon'], lowest])}`)).statusCode, 400)
    await refused(t, s, `page=1&after=${byTitle}`, '/page')
    await refused(t, s, 'pageSize=101', '/pageSize')
    await refused(t, s, 'pageSize=0', '/pageSize')
    await refused(t, s, 'page=0', '/page')
  })

  t.test('mistakes answer 400 with the valid choices', async (t) => {
    const TEXT = ['$eq', '$ne', '$in', '$notIn', '$null', '$notNull', '$lt', '$lte', '$gt', '$gte', '$between',
      '$eqi', '$nei', '$contains', '$notContains', '$containsi', '$notContainsi', '$startsWith', '$startsWithi', '$endsWith', '$endsWithi']
    const ORDERED = ['$eq', '$ne', '$in', '$notIn', '$null', '$notNull', '$lt', '$lte', '$gt', '$gte', '$between']
    const EQUALITY = ['$eq', '$ne', '$in', '$notIn', '$null', '$notNull']
    const LOGICAL = ['$and', '$or', '$not']
    const ARTICLE = ['documentId', 'locale', 'createdAt', 'publishedAt',
      'title', 'summary', 'body', 'views', 'rating', 'featured', 'day', 'author', 'categories', 'seo', 'quotes']
    const AUTHOR = ['documentId', 'locale', 'createdAt', 'publishedAt', 'name', 'mentor']

    // Unknown fields, private ones, and relations to types the caller may not read.
    t.same((await refused(t, s, 'filters[nope]=1', '/filters/nope')).allowed, [...ARTICLE, ...LOGICAL])
    t.match(await refused(t, s, 'filters[notes]=x', '/filters/notes'), { in: 'querystring', message: /not a field you can filter on/ })
    await refused(t, s, 'filters[related][code]=xyzzy', '/filters/related')
    await refused(t, s, 'filters[related][$null]=true', '/filters/related')
    await refused(t, s, 'filters[$or][0][related][code]=xyzzy', '/filters/$or/0/related')
    await refused(t, s, 'filters[updatedAt][$gt]=2020-01-01', '/filters/updatedAt')
    t.same((await refused(t, s, 'filters[author][email]=ann@example.com', '/filters/author/email')).allowed, [...AUTHOR, ...LOGICAL])
    t.same((await refused(t, s, 'filters[author][mentor][nope]=1', '/filters/author/mentor/nope')).allowed, [...AUTHOR, ...LOGICAL])
    t.same((await refused(t, s, 'filters[seo][internalNote]=hidden', '/filters/seo/internalNote')).allowed, ['metaTitle', 'keywords', ...LOGICAL])
    t.same((await refused(t, s, 'filters[quotes][by][email]=x', '/filters/quotes/by/email')).allowed, [...AUTHOR, ...LOGICAL])
    t.same((await refused(t, s, 'filters[quotes][documentId]=x', '/filters/quotes/documentId')).allowed, ['text', 'by', ...LOGICAL])
    await refused(t, s, 'filters[article][notes]=x', '/filters/article/notes', 'review')
    await refused(t, s, 'filters[article][related][code]=x', '/filters/article/related', 'review')

    // Unknown operators, and operators not for the kind of field.
    t.same((await refused(t, s, 'filters[title][$foo]=1', '/filters/title/$foo')).allowed, TEXT)
    t.same((await refused(t, s, 'filters[title][$eq]=A&filters[title][$like]=1', '/filters/title/$like')).allowed, TEXT)
    t.same((await refused(t, s, 'filters[views][$contains]=1', '/filters/views/$contains')).allowed, ORDERED)
    t.same((await refused(t, s, 'filters[rating][$startsWith]=1', '/filters/rating/$startsWith')).allowed, ORDERED)
    t.same((await refused(t, s, 'filters[day][$containsi]=2024', '/filters/day/$containsi')).allowed, ORDERED)
    t.same((await refused(t, s, 'filters[createdAt][$contains]=2024', '/filters/createdAt/$contains')).allowed, ORDERED)
    t.same((await refused(t, s, 'filters[featured][$gt]=false', '/filters/featured/$gt')).allowed, EQUALITY)
    t.same((await refused(t, s, `filters[documentId][$gt]=${ids.alpha}`, '/filters/documentId/$gt')).allowed, EQUALITY)
    t.same((await refused(t, s, 'filters[seo][metaTitle][$regex]=x', '/filters/seo/metaTitle/$regex')).allowed, TEXT)
    t.same((await refused(t, s, 'filters[$xor][0][title]=A', '/filters/$xor')).allowed, [...ARTICLE, ...LOGICAL])
    // Relations and components name fields; rich text and relations only say whether there is one.
    t.same((await refused(t, s, `filters[author][$eq]=${s.authors.ann}`, '/filters/author/$eq')).allowed, [...AUTHOR, ...LOGICAL])
    t.same((await refused(t, s, 'filters[author][$null]=false&filters[author][name]=Ann', '/filters/author/name')).allowed, ['$null', '$notNull'])
    t.same((await refused(t, s, 'filters[seo][$null]=false&filters[seo][metaTitle]=x', '/filters/seo/metaTitle')).allowed, ['$null', '$notNull'])
    t.same((await refused(t, s, 'filters[body][$contains]=Body', '/filters/body')).allowed, ['$null', '$notNull'])
    await refused(t, s, 'filters[body]=Body', '/filters/body')
    t.same((await refused(t, s, 'filters[author]=Ann', '/filters/author')).allowed, [...AUTHOR])
    t.same((await refused(t, s, 'filters[seo]=Mango', '/filters/seo')).allowed, ['metaTitle', 'keywords'])
    await refused(t, s, 'filters=title', '/filters')
    await refused(t, s, 'filters[$or][title]=Alpha', '/filters/$or')
    await refused(t, s, 'filters[$and]=x', '/filters/$and')
    await refused(t, s, 'filters[$not]=x', '/filters/$not')
    await refused(t, s, 'filters[$or][0]=x', '/filters/$or/0')

    // Values of the wrong kind.
    t.match(await refused(t, s, 'filters[views][$gt]=abc', '/filters/views/$gt'), { message: 'must be a number' })
    await refused(t, s, 'filters[views]=ten', '/filters/views')
    await refused(t, s, 'filters[views]=', '/filters/views')
    await refused(t, s, 'filters[rating][$lt]=1e999', '/filters/rating/$lt')
    await refused(t, s, 'filters[seo][metaTitle][$eq][x]=1', '/filters/seo/metaTitle/$eq')
    t.same((await refused(t, s, 'filters[featured]=yes', '/filters/featured')).allowed, ['true', 'false'])
    t.same((await refused(t, s, 'filters[featured][$ne]=1', '/filters/featured/$ne')).allowed, ['true', 'false'])
    t.same((await refused(t, s, 'filters[summary][$null]=maybe', '/filters/summary/$null')).allowed, ['true', 'false'])
    t.same((await refused(t, s, 'filters[author][$notNull]=1', '/filters/author/$notNull')).allowed, ['true', 'false'])
    t.match(await refused(t, s, 'filters[day]=2024-1-5', '/filters/day'), { message: 'must be a date (YYYY-MM-DD)' })
    await refused(t, s, 'filters[day][$gt]=2024-13-01', '/filters/day/$gt')
    await refused(t, s, 'filters[day][$gt]=2024-02-30', '/filters/day/$gt')
    await refused(t, s, 'filters[day][$lt]=2024-01-10T00:00:00Z', '/filters/day/$lt')
    t.match(await refused(t, s, 'filters[createdAt][$gt]=yesterday', '/filters/createdAt/$gt'), { message: 'must be a date and time (ISO 8601)' })
    await refused(t, s, `filters[documentId][$in][0]=${ids.alpha}&filters[documentId][$in][1]=alpha`, '/filters/documentId/$in/1')
    await refused(t, s, 'filters[author][documentId]=ann', '/filters/author/documentId')
    // Lists where one value is wanted, one value where a list is.
    t.match(await refused(t, s, 'filters[views][$in]=5', '/filters/views/$in'), { message: /must be a list of values/ })
    await refused(t, s, 'filters[title][$notIn]=Alpha', '/filters/title/$notIn')
    await refused(t, s, 'filters[views][$in][a]=5', '/filters/views/$in')
    await refused(t, s, 'filters[views][$between]=5', '/filters/views/$between')
    t.match(await refused(t, s, 'filters[views][$between][0]=1&filters[views][$between][1]=2&filters[views][$between][2]=3', '/filters/views/$between'),
      { message: 'must be a list of 2 values' })
    await refused(t, s, 'filters[day][$between][0]=2024-01-01&filters[day][$between][1]=soon', '/filters/day/$between/1')
    await refused(t, s, 'filters[views][$in][0]=1&filters[views][$in][1]=x', '/filters/views/$in/1')
    t.match(await refused(t, s, 'filters[title][$eq][0]=Alpha&filters[title][$eq][1]=Beta', '/filters/title/$eq'), { message: 'must be a single value' })
    await refused(t, s, 'filters[title][0]=Alpha', '/filters/title')
    await refused(t, s, 'filters[title][$contains][0]=A', '/filters/title/$contains')

    // Sorting by what cannot be sorted by.
    const SORTABLE = ['documentId', 'locale', 'createdAt', 'publishedAt', 'title', 'summary', 'views', 'rating', 'featured', 'day', 'author.…', 'seo.…']
    t.same((await refused(t, s, 'sort=nope', '/sort')).allowed, SORTABLE)
    t.same((await refused(t, s, 'sort=title,nope:desc', '/sort')).allowed, SORTABLE)
    for (const sort of ['notes', 'body', 'categories.name', 'quotes.text', 'related.code', 'updatedAt', 'createdAt.x']) {
      t.same((await refused(t, s, `sort=${sort}`, '/sort')).allowed, SORTABLE, `sort=${sort}`)
    }
    t.match(await refused(t, s, 'sort=author', '/sort'), { message: /name one of its fields/, allowed: SORTABLE })
    t.match(await refused(t, s, 'sort=seo:desc', '/sort'), { message: /name one of its fields/ })
    t.match(await refused(t, s, 'sort=title.length', '/sort'), { message: /title has no fields/ })
    t.same((await refused(t, s, 'sort=author.email', '/sort')).allowed, ['documentId', 'locale', 'createdAt', 'publishedAt', 'name', 'mentor.…'])
    t.same((await refused(t, s, 'sort=author.mentor', '/sort')).allowed, ['documentId', 'locale', 'createdAt', 'publishedAt', 'name', 'mentor.…'])
    t.same((await refused(t, s, 'sort=seo.internalNote', '/sort')).allowed, ['metaTitle', 'keywords'])
    await refused(t, s, 'sort=title:up', '/sort')
    await refused(t, s, 'sort=title:asc:desc', '/sort')
  })
})

t.test('a cursor walk while entries are added and removed sees every entry present throughout exactly once', async (t) => {
  const s = await site(t)
  const pad = (n: number) => String(n).padStart(2, '0')
  const originals: string[] = []
  for (let i = 0; i < 30; i += 1) {
    originals.push(`W${pad(i)}`)
    await article(s, { title: `W${pad(i)}`, views: i % 4 })
  }
  await article(s, { title: 'Wdraft' }, { publish: false })
  const idOf = new Map((await page(s, 'pageSize=100')).data.map((e) => [e.title, e.documentId]))
  let added = 0
  const add = async (title: string) => {
    added += 1
    idOf.set(title, await article(s, { title, views: added % 4 }))
  }

  /** Walks by cursor with `pageSize`, calling `between` with each page's titles before asking for the next page. */
  type Between = (titles: string[], index: number) => Promise<void>
  const walk = async (search: string, pageSize: number, between: Between) => {
    const seen: Entry[] = []
    let cursor: string | null = null
    let index = 0
    do {
      const answer: { data: Entry[], meta: Meta } = await page(s, `${search}&pageSize=${pageSize}${cursor === null ? '' : `&after=${cursor}`}`)
      t.ok(answer.data.length <= pageSize)
      seen.push(...answer.data)
      cursor = answer.meta.nextCursor
      if (cursor !== null) await between(answer.data.map((e) => e.title), index)
      index += 1
    } while (cursor !== null && index < 40)
    t.ok(index < 40, 'the walk ends')
    return seen
  }
  const walkTitles = async (...args: Parameters<typeof walk>) => (await walk(...args)).map((e) => e.title)
  const once = (t: Test, seen: string[], expected: string[]) => {
    t.same(seen.filter((title, i) => seen.indexOf(title) !== i), [], 'no entry comes twice')
    t.same(expected.filter((title) => !seen.includes(title)), [], 'no entry is missing')
  }

  t.test('without changes: the same as one big page', async (t) => {
    for (const search of ['', 'sort=title', 'sort=views:desc', 'sort=views,title:desc']) {
      const all = await titles(s, search)
      t.equal(all.length, 30)
      t.same(await walkTitles(search, 4, async () => {}), all, `${search || 'the default sort'}: the walk is the big page`)
    }
  })

  t.test('newest first', async (t) => {
    const before = await titles(s, '')
    t.same(before, [...originals].reverse())
    const gone: string[] = []
    const seen = await walkTitles('', 4, async (titles, index) => {
      // New entries come before the cursor in this order: the walk does not see them.
      await add(`Anew${pad(index)}`)
      await add(`Znew${pad(index)}`)
      // The cursor's own entry goes: the walk goes on after where it was.
      if (index === 1) await remove(s, idOf.get(titles.at(-1) as string) as string)
      // An entry ahead goes: the walk does not see it.
      if (index === 2) {
        const ahead = before[before.indexOf(titles.at(-1) as string) + 2] as string
        gone.push(ahead)
        await unpublish(s, idOf.get(ahead) as string)
      }
      // An entry ahead changes: the walk sees it once, as it is now.
      if (index === 3) {
        const ahead = before[before.indexOf(titles.at(-1) as string) + 1] as string
        await update(s, idOf.get(ahead) as string, { views: 99 })
        await publish(s, idOf.get(ahead) as string)
      }
    })
    once(t, seen, before.filter((title) => !gone.includes(title)))
    t.same(seen, before.filter((title) => !gone.includes(title)), 'exactly the entries present throughout, in order')
    t.ok(added >= 12)
  })

  t.test('by title, with entries added before and after the cursor', async (t) => {
    const before = await titles(s, 'sort=title')
    const behind: string[] = []
    const ahead: string[] = []
    const gone: string[] = []
    const seen = await walkTitles('sort=title', 4, async (titles, index) => {
      const last = titles.at(-1) as string
      behind.push(`Aa${pad(index)}`)
      ahead.push(`${last}a`, `Zz${pad(index)}`)
      await add(`Aa${pad(index)}`)
      await add(`${last}a`)
      await add(`Zz${pad(index)}`)
      if (index === 2) await remove(s, idOf.get(last) as string)
      if (index === 4) {
        const next = before[before.indexOf(last) + 1] as string
        gone.push(next)
        await remove(s, idOf.get(next) as string)
      }
    })
    const throughout = before.filter((title) => !gone.includes(title))
    once(t, seen, throughout)
    t.same(seen.filter((title) => behind.includes(title) || gone.includes(title)), [], 'nothing behind the cursor nor gone')
    t.same(ahead.filter((title) => !seen.includes(title)), [], 'what was added ahead of the cursor comes too')
    t.same(seen, [...seen].sort(), 'in order')
    t.same(seen.filter((title) => !ahead.includes(title)), throughout, 'the entries present throughout, in order')
  })

  t.test('by a number with ties, descending', async (t) => {
    const before = await titles(s, 'sort=views:desc')
    const entries = await walk('sort=views:desc', 4, async (titles, index) => {
      await add(`V${pad(index)}`)
    })
    once(t, entries.map((e) => e.title), before)
    const views = entries.map((e) => e.views as number)
    t.same(views, [...views].sort((a, b) => b - a), 'in order')
  })
})
