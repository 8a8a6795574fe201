import pg from 'pg'
import t, { type Test } from 'tap'
import { ARTICLES, article, MODEL, publish, remove, type Site, site, token, unpublish, update } from '../delivery-fixture.js'
import { created, onPostgres, roleId, signInAs } from '../helper.js'

/**
 * The delta-sync feed (GET /api/sync): every published entry once, page by page, then only what
 * changed since, whichever path changed it, in the order the changes committed.
 */

type Data = Record<string, unknown>
type Headers = Record<string, string>

interface Item {
  action: 'upsert' | 'delete'
  contentType: string
  documentId: string
  locale: string
  entry?: Data
}

interface Feed {
  items: Item[]
  pages: Item[][]
  token: string
}

/** The largest page of the site these tests build. */
const SIZE = 2

function ask(s: Site, query: string, headers: Headers = {}) {
  return s.app.inject({ url: `/api/sync${query === '' ? '' : `?${query}`}`, headers })
}

/** An administrator's write; fails the test unless it succeeds. */
async function write(s: Site, method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object) {
  const body = payload === undefined ? {} : { payload }
  const res = await s.app.inject({ method, url, headers: s.admin.headers, ...body })
  if (res.statusCode >= 300) throw new Error(`${method} ${url} answered ${res.statusCode}: ${res.body}`)
  return res
}

/** Saves an author (no draft & publish: saving publishes). */
function author(s: Site, documentId: string, data: Data) {
  return write(s, 'PUT', `/api/admin/content-types/author/entries/${documentId}`, { data })
}

/** Lets the Public role read these types only. */
async function publicReads(s: Site, types: string[]) {
  const permissions = types.map((apiId) => ({ subject: `content:${apiId}`, action: 'read' }))
  await write(s, 'PATCH', `/api/admin/roles/${await roleId(s.app, s.admin, 'public')}`, { permissions })
}

interface Following {
  headers?: Headers
  /** Runs after each page but the last, with what it gave. */
  between?: (page: number, data: Item[]) => Promise<void>
}

/** Follows the pages from a first request (`query`) to the sync token, checking each page. */
async function feed(t: Test, s: Site, query: string, options: Following = {}) {
  const pages: Item[][] = []
  let res = await ask(s, query, options.headers)
  for (;;) {
    if (res.statusCode !== 200) throw new Error(`GET /api/sync answered ${res.statusCode}: ${res.body}`)
    t.equal(res.headers['cache-control'], 'no-store')
    const { data, meta } = res.json() as { data: Item[], meta: { nextPageToken?: string, syncToken?: string } }
    t.ok(data.length <= SIZE, 'a page holds at most GUDANG_DELIVERY_MAX_PAGE_SIZE items')
    pages.push(data)
    if (meta.syncToken !== undefined) {
      t.equal(meta.nextPageToken, undefined, 'the last page has no next page')
      return { items: pages.flat(), pages, token: meta.syncToken } satisfies Feed
    }
    t.equal(data.length, SIZE, 'a page before the last is full')
    await options.between?.(pages.length, data)
    res = await ask(s, `token=${meta.nextPageToken as string}`, options.headers)
  }
}

/** What items are about: type, document and locale. */
function keys(items: Item[]) {
  return items.map((i) => `${i.contentType} ${i.documentId} ${i.locale}`)
}

function sorted(values: string[]) {
  return [...values].sort()
}

/** A type of the fixture's model, as PUT takes it. */
function definitionOf(apiId: string) {
  const { apiId: _, ...definition } = MODEL.types.find((type) => type.apiId === apiId) as (typeof MODEL.types)[number]
  return definition
}

/** A token made by hand: whatever its content, it must be the API's own. */
function forge(value: unknown) {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

function upsertOf(items: Item[], documentId: string, locale = 'en') {
  const found = items.find((i) => i.documentId === documentId && i.locale === locale)
  if (found?.action !== 'upsert') throw new Error(`no upsert of ${documentId} ${locale} in ${JSON.stringify(items)}`)
  return found.entry as Data
}

t.test('the sync feed', async (t) => {
  const s = await site(t, { GUDANG_DELIVERY_MAX_PAGE_SIZE: SIZE })
  const { ann, bob, cyd } = s.authors
  const { news, tech, food } = s.categories

  await t.test('the first walk: every published entry once, page by page; what changes meanwhile comes in the first delta', async (t) => {
    const one = await article(s, { title: 'One', notes: 'an editor\'s note', categories: [news] })
    await article(s, { title: 'Un' }, { documentId: one, locale: 'fr' })
    await article(s, { title: 'Only a draft' }, { publish: false })
    let given = {} as Item
    let two = ''
    const walk = await feed(t, s, '', {
      between: async (page, data) => {
        // An entry the walk has given already changes: only the delta can tell.
        if (page === 1) {
          given = data[0] as Item
          const { contentType, documentId, locale } = given
          if (contentType === 'article') {
            await update(s, documentId, { title: 'Changed during the walk' }, locale)
            await publish(s, documentId, locale)
          } else {
            await write(s, 'PUT', `/api/admin/content-types/${contentType}/entries/${documentId}`, { data: { name: 'Changed during the walk' } })
          }
        }
        if (page === 2) two = await article(s, { title: 'Two' })
      },
    })
    t.equal(walk.pages.length, Math.ceil(walk.items.length / SIZE), 'two a page, the last one not empty')
    const published = [
      ...[ann, bob, cyd].map((id) => `author ${id} en`),
      ...[news, tech, food].map((id) => `category ${id} en`),
      `article ${one} en`, `article ${one} fr`,
    ]
    const seen = keys(walk.items)
    t.equal(new Set(seen).size, seen.length, 'each entry once')
    // The article published during the walk may come in it or not (its id decides); the others all do.
    t.strictSame(sorted(seen.filter((k) => k !== `article ${two} en`)), sorted(published))
    t.ok(walk.items.every((i) => i.action === 'upsert'))

    // Entries as the delivery API shows them: no private field, no type the caller may not read.
    const { createdAt, publishedAt, ...shown } = upsertOf(walk.items, ann)
    t.strictSame(shown, { documentId: ann, name: 'Ann', locale: 'en' })
    t.type(createdAt, 'string')
    t.type(publishedAt, 'string')
    const entry = upsertOf(walk.items, one)
    t.match(entry, { documentId: one, title: 'One', locale: 'en', categories: [news], publishedAt: String })
    t.notOk('notes' in entry, 'a private field is left out')
    t.equal(upsertOf(walk.items, one, 'fr').title, 'Un')

    const delta = await feed(t, s, `token=${walk.token}`)
    t.strictSame(keys(delta.items), [keys([given])[0], `article ${two} en`], 'the changes made during the walk, in their order')
    const changed = upsertOf(delta.items, given.documentId, given.locale)
    t.equal(changed.title ?? changed.name, 'Changed during the walk')
    t.equal(upsertOf(delta.items, two).title, 'Two')
  })

  await t.test('a delta shows exactly what readers would see changed, then nothing', async (t) => {
    const changed = await article(s, { title: 'Changed' })
    const unpublished = await article(s, { title: 'Unpublished' })
    const deleted = await article(s, { title: 'Deleted' })
    const drafted = await article(s, { title: 'Drafted' })
    const { token: start } = await feed(t, s, '')

    await update(s, changed, { title: 'Changed, twice', summary: 'Now with a summary' })
    await publish(s, changed)
    const added = await article(s, { title: 'Added', notes: 'private' })
    await unpublish(s, unpublished)
    await remove(s, deleted)
    await update(s, drafted, { title: 'Drafted, not published' })

    let late = ''
    const delta = await feed(t, s, `token=${start}`, {
      // Made while the delta is read: in the next one, not this one.
      between: async () => {
        if (late === '') late = await article(s, { title: 'Late' })
      },
    })
    t.equal(delta.pages.length, 2)
    t.strictSame(keys(delta.items), [changed, added, unpublished, deleted].map((id) => `article ${id} en`))
    t.match(delta.items, [
      { action: 'upsert', entry: { documentId: changed, title: 'Changed, twice', summary: 'Now with a summary', locale: 'en' } },
      { action: 'upsert', entry: { documentId: added, title: 'Added' } },
    ])
    t.notOk('notes' in upsertOf(delta.items, added))
    t.strictSame(delta.items.slice(2), [
      { action: 'delete', contentType: 'article', documentId: unpublished, locale: 'en' },
      { action: 'delete', contentType: 'article', documentId: deleted, locale: 'en' },
    ])

    const next = await feed(t, s, `token=${delta.token}`)
    t.strictSame(keys(next.items), [`article ${late} en`])
    const empty = await feed(t, s, `token=${next.token}`)
    t.strictSame(empty.pages, [[]], 'nothing changed since')
    t.strictSame((await feed(t, s, `token=${empty.token}`)).pages, [[]])
  })

  await t.test('a change that fails logs nothing', async (t) => {
    const { token: start } = await feed(t, s, '')
    const valid = await article(s, { title: 'Valid' }, { publish: false })
    const invalid = await article(s, { summary: 'No title: a draft may, a published entry may not' }, { publish: false })
    const refused = await s.app.inject({ method: 'POST', url: `${ARTICLES}/${invalid}/publish`, headers: s.admin.headers })
    t.equal(refused.statusCode, 400)
    // All or none: the valid one was published in the transaction, then undone with it.
    const bulk = await s.app.inject({
      method: 'POST', url: `${ARTICLES}/bulk/publish`, headers: s.admin.headers, payload: { documentIds: [valid, invalid] },
    })
    t.equal(bulk.statusCode, 400)
    const delta = await feed(t, s, `token=${start}`)
    t.strictSame(delta.items, [])
    await publish(s, valid)
    t.strictSame(keys((await feed(t, s, `token=${delta.token}`)).items), [`article ${valid} en`])
  })

  await t.test('changes made by other paths are in the feed too', async (t) => {
    const { token: start, items: before } = await feed(t, s, '')
    // Bob is Cyd's mentor: deleting him unlinks him from her published entry.
    t.equal(upsertOf(before, cyd).mentor, bob)
    const authorType = definitionOf('author')
    await write(s, 'PUT', '/api/admin/content-types/author', {
      ...authorType,
      fields: authorType.fields.map((f) => (f.name === 'mentor' ? { ...f, onDelete: 'unlink' } : f)),
    })
    await write(s, 'DELETE', `/api/admin/content-types/author/entries/${bob}`)
    const unlinked = await feed(t, s, `token=${start}`)
    t.strictSame(unlinked.items.map((i) => [i.action, i.documentId]), [['upsert', cyd], ['delete', bob]])
    t.notOk('mentor' in upsertOf(unlinked.items, cyd))

    // A model change that moves the values of published entries.
    const categoryType = definitionOf('category')
    await write(s, 'PUT', '/api/admin/content-types/category', {
      ...categoryType,
      fields: [categoryType.fields[0], { name: 'label', type: 'string' }],
      changes: { rename: { name: 'label' } },
    })
    const migrated = await feed(t, s, `token=${unlinked.token}`)
    t.strictSame(sorted(keys(migrated.items)), sorted([news, tech, food].map((id) => `category ${id} en`)))
    t.strictSame(migrated.items.map((i) => i.action), ['upsert', 'upsert', 'upsert'])
    for (const id of [news, tech, food]) {
      const { name, ...rest } = upsertOf(before, id)
      t.strictSame(upsertOf(migrated.items, id), { ...rest, label: name }, 'the value moved with the field')
    }
  })

  await t.test('a change committed after a token was given, though begun before, is not passed over', {
    skip: onPostgres ? false : 'needs PostgreSQL: the embedded database serves one transaction at a time',
  }, async (t) => {
    const slow = await article(s, { title: 'Slow' })
    const fast = await article(s, { title: 'Fast' })
    const { token: start } = await feed(t, s, '')
    const client = new pg.Client({ connectionString: s.app.config.DATABASE_URL })
    await client.connect()
    t.teardown(() => client.end())
    await client.query('BEGIN')
    await client.query(`UPDATE entries SET published = published || '{"title": "Slow, committed late"}'
      WHERE document_id = $1 AND locale = 'en'`, [slow])
    // Begun later, committed first: its change is logged after the slow one's, and placed before it.
    await update(s, fast, { title: 'Fast, committed first' })
    await publish(s, fast)
    const during = await feed(t, s, `token=${start}`)
    t.strictSame(keys(during.items), [`article ${fast} en`], 'what has not committed is not in the feed yet')
    const walk = await feed(t, s, '')
    t.equal(upsertOf(walk.items, slow).title, 'Slow')
    await client.query('COMMIT')

    const after = await feed(t, s, `token=${during.token}`)
    t.strictSame(keys(after.items), [`article ${slow} en`])
    t.equal(upsertOf(after.items, slow).title, 'Slow, committed late')
    const fromWalk = await feed(t, s, `token=${walk.token}`)
    t.strictSame(keys(fromWalk.items), [`article ${slow} en`])
  })

  await t.test('type and locale narrow the feed, and the token keeps them', async (t) => {
    const all = await feed(t, s, '')
    const articles = await feed(t, s, 'type=article')
    t.strictSame(sorted(keys(articles.items)), sorted(keys(all.items.filter((i) => i.contentType === 'article'))))
    const french = await feed(t, s, 'locale=fr')
    const inFrench = all.items.filter((i) => i.contentType !== 'article' || i.locale === 'fr')
    t.strictSame(sorted(keys(french.items)), sorted(keys(inFrench)), 'types that are not localized are in every locale')
    const frenchArticles = await feed(t, s, 'type=article,article&locale=fr')
    t.strictSame(keys(frenchArticles.items), keys(all.items.filter((i) => i.contentType === 'article' && i.locale === 'fr')))
    const authors = await feed(t, s, 'type=author,category')
    t.strictSame(sorted(keys(authors.items)), sorted(keys(all.items.filter((i) => i.contentType !== 'article'))))

    const bilingual = await article(s, { title: 'English' })
    await article(s, { title: 'Français' }, { documentId: bilingual, locale: 'fr' })
    await author(s, ann, { name: 'Ann, again' })
    t.strictSame(keys((await feed(t, s, `token=${all.token}`)).items), [`article ${bilingual} en`, `article ${bilingual} fr`, `author ${ann} en`])
    t.strictSame(keys((await feed(t, s, `token=${articles.token}`)).items), [`article ${bilingual} en`, `article ${bilingual} fr`])
    t.strictSame(keys((await feed(t, s, `token=${french.token}`)).items), [`article ${bilingual} fr`, `author ${ann} en`])
    t.strictSame(keys((await feed(t, s, `token=${frenchArticles.token}`)).items), [`article ${bilingual} fr`])
    t.strictSame(keys((await feed(t, s, `token=${authors.token}`)).items), [`author ${ann} en`])

    // A delivery token reads every type.
    const everything = await feed(t, s, '', { headers: await token(s, 'delivery') })
    t.strictSame(sorted(keys(everything.items)), sorted([...keys(all.items), `article ${bilingual} en`, `article ${bilingual} fr`, `secret ${s.secret} en`]))
    t.equal(upsertOf(everything.items, s.secret).code, 'xyzzy')
  })

  await t.test('what is asked wrongly answers 400', async (t) => {
    const { token: valid } = await feed(t, s, 'type=author')
    const refused = async (query: string, path: string, allowed?: string[]) => {
      const res = await ask(s, query)
      t.equal(res.statusCode, 400, query)
      t.equal(res.headers['cache-control'], 'no-store')
      const [problem] = res.json().details
      t.match(problem, { in: 'querystring', path, ...(allowed === undefined ? {} : { allowed }) }, query)
    }
    await refused(`token=${valid}&type=author`, '/type')
    await refused(`token=${valid}&locale=fr`, '/locale')
    await refused('type=secret', '/type', ['article', 'author', 'category', 'home'])
    await refused('type=author,nothing', '/type', ['article', 'author', 'category', 'home'])
    await refused('locale=de', '/locale', ['en', 'fr', 'fr-CA'])
    const malformed = [
      'garbage',
      forge(null),
      forge(['1']),
      forge({ types: [] }),
      forge({ seq: 1, types: [] }),
      forge({ seq: 'x', types: [] }),
      forge({ seq: '1', types: 'author' }),
      forge({ seq: '1', types: [1] }),
      forge({ seq: '1', types: [], locale: 1 }),
      forge({ seq: '1', types: [], initial: { after: 1 } }),
      forge({ seq: '1', types: [], delta: { to: 'x', after: '1' } }),
      forge({ seq: '1', types: [], delta: { to: '1', after: '-1' } }),
      forge({ seq: '1', types: [], initial: null }),
      forge({ seq: '1', types: [], delta: null }),
    ]
    for (const text of malformed) await refused(`token=${text}`, '/token')
    // Values out of the database's range: refused where they are used.
    for (const text of [
      forge({ seq: '1', types: ['author'], initial: { after: 'not a uuid' } }),
      forge({ seq: '9999999999999999999', types: ['author'] }),
    ]) {
      t.equal((await ask(s, `token=${text}`)).statusCode, 400)
    }
  })

  await t.test('a type the caller may no longer read leaves the feed', async (t) => {
    const { token: start } = await feed(t, s, '')
    const first = await ask(s, 'type=article,author')
    const { nextPageToken } = first.json().meta
    t.type(nextPageToken, 'string')
    const gone = await article(s, { title: 'Not for the public any more' })
    await author(s, ann, { name: 'Ann, once more' })
    await publicReads(s, ['author', 'category'])

    t.strictSame(keys((await feed(t, s, `token=${start}`)).items), [`author ${ann} en`])
    const rest = await feed(t, s, `token=${nextPageToken as string}`)
    t.ok(rest.items.every((i) => i.contentType === 'author'), 'the walk goes on without the articles')
    t.notOk(keys(rest.items).includes(`article ${gone} en`))
    const res = await ask(s, 'type=article')
    t.equal(res.statusCode, 400)
    t.strictSame(res.json().details[0].allowed, ['author', 'category'])

    // Whoever may read only their own entries of a type gets none of it: a deletion has no owner to tell.
    await created(s.app, s.admin, '/api/admin/roles', {
      name: 'Own authors',
      permissions: [{ subject: 'content:author', action: 'read', ownOnly: true }, { subject: 'content:category', action: 'read' }],
    })
    const writer = await signInAs(s.app, s.admin, 'Own authors')
    const own = await ask(s, '', writer.headers)
    t.ok(own.json().data.every((i: Item) => i.contentType === 'category'), 'only the wholly readable type')
    t.equal((await ask(s, 'type=author', writer.headers)).statusCode, 400)

    // A caller who may read nothing may not ask.
    await publicReads(s, [])
    const anonymous = await ask(s, `token=${start}`)
    t.equal(anonymous.statusCode, 401)
    t.equal((await ask(s, `token=${start}`, s.admin.headers)).statusCode, 200, 'an administrator may')
  })
})
