import t, { type Test } from 'tap'
import { buildWithAdmin, created, login, type SignedIn } from '../helper.js'

type App = Awaited<ReturnType<typeof buildWithAdmin>>
type Data = Record<string, unknown>

const TYPES = '/api/admin/content-types'
const MISSING = '0195f0a0-0000-7000-8000-00000000beef'

const person = {
  apiId: 'person',
  kind: 'collection',
  singularName: 'Person',
  pluralName: 'People',
  fields: [{ name: 'name', type: 'string', required: true }],
}
const link = {
  uid: 'shared.link',
  displayName: 'Link',
  fields: [{ name: 'label', type: 'string' }, { name: 'person', type: 'relation', target: 'person', relation: 'toOne' }],
}
/** Localized, so that unique values and UIDs are per locale. */
const article = {
  apiId: 'article',
  kind: 'collection',
  singularName: 'Article',
  pluralName: 'Articles',
  localized: true,
  fields: [
    { name: 'title', type: 'string', required: true },
    { name: 'slug', type: 'uid', targetField: 'title' },
    { name: 'code', type: 'string', unique: true },
    { name: 'short', type: 'uid', targetField: 'title', maxLength: 6 },
    { name: 'author', type: 'relation', target: 'person', relation: 'toOne' },
    { name: 'related', type: 'relation', target: 'article', relation: 'toMany' },
    { name: 'link', type: 'component', component: 'shared.link' },
    { name: 'links', type: 'component', component: 'shared.link', repeatable: true },
    { name: 'blocks', type: 'dynamiczone', components: ['shared.link'] },
  ],
}
/** Without draft & publish: saving publishes. */
const tag = {
  apiId: 'tag',
  kind: 'collection',
  singularName: 'Tag',
  pluralName: 'Tags',
  draftAndPublish: false,
  fields: [{ name: 'name', type: 'string', unique: true }],
}

async function setUp(t: Test) {
  const app = await buildWithAdmin(t)
  const admin = await login(app)
  for (const [url, payload] of [
    ['/api/admin/locales', { code: 'fr', name: 'French' }],
    [TYPES, person],
    ['/api/admin/components', link],
    [TYPES, article],
    [TYPES, tag],
  ] as const) await created(app, admin, url, payload)
  return { app, admin, api: client(app, admin) }
}

function client(app: App, admin: SignedIn) {
  const url = (type: string, rest = '') => `${TYPES}/${type}/entries${rest}`
  return {
    post(type: string, data: Data, query = '') {
      return app.inject({ method: 'POST', url: url(type, query), headers: admin.headers, payload: { data } })
    },
    async create(type: string, data: Data, query = '') {
      const res = await this.post(type, data, query)
      if (res.statusCode !== 201) throw new Error(`POST ${type} answered ${res.statusCode}: ${res.body}`)
      return res.json().data
    },
    put(type: string, documentId: string, data: Data, query = '') {
      return app.inject({ method: 'PUT', url: url(type, `/${documentId}${query}`), headers: admin.headers, payload: { data } })
    },
    get(type: string, documentId: string, query = '') {
      return app.inject({ url: url(type, `/${documentId}${query}`), headers: admin.headers })
    },
    async read(type: string, documentId: string, query = '') {
      const res = await this.get(type, documentId, query)
      if (res.statusCode !== 200) throw new Error(`GET ${type} answered ${res.statusCode}: ${res.body}`)
      return res.json().data
    },
    act(type: string, documentId: string, operation: string, query = '') {
      return app.inject({ method: 'POST', url: url(type, `/${documentId}/${operation}${query}`), headers: admin.headers })
    },
  }
}

t.test('a unique field is unique among drafts', async (t) => {
  const { api } = await setUp(t)
  const first = await api.create('article', { title: 'First', code: 'X-1' })
  const second = await api.post('article', { title: 'Second', code: 'X-1' })
  t.equal(second.statusCode, 400)
  t.same(second.json(), {
    statusCode: 400,
    code: 'GUDANG_ERR_VALIDATION',
    error: 'Bad Request',
    message: `Invalid data: /code must be unique: a draft (${first.documentId}) has this value`,
    details: [{ in: 'body', path: '/data/code', message: `must be unique: a draft (${first.documentId}) has this value` }],
  })
  const other = await api.create('article', { title: 'Second', code: 'X-2' })
  const taken = await api.put('article', other.documentId, { code: 'X-1' })
  t.equal(taken.statusCode, 400, 'saving a value another draft holds')
  t.match(taken.json().details, [{ path: '/data/code', message: /must be unique: a draft/ }])
  t.equal((await api.read('article', other.documentId)).code, 'X-2', 'the refused save changed nothing')

  const same = await api.put('article', first.documentId, { code: 'X-1', title: 'First again' })
  t.equal(same.statusCode, 200, 'an entry does not collide with itself')
  const freed = await api.put('article', first.documentId, { code: null })
  t.equal(freed.statusCode, 200)
  t.equal((await api.put('article', other.documentId, { code: 'X-1' })).statusCode, 200, 'a value freed may be taken')
  const caseDiffers = await api.post('article', { title: 'Third', code: 'x-1' })
  t.equal(caseDiffers.statusCode, 201, 'values are compared exactly')
})

t.test('a unique field is unique among published entries: publishing is refused while one holds the value', async (t) => {
  const { api } = await setUp(t)
  const first = await api.create('article', { title: 'First', code: 'X-1' })
  t.equal((await api.act('article', first.documentId, 'publish')).statusCode, 200)
  t.equal((await api.put('article', first.documentId, { code: 'X-9' })).statusCode, 200, 'the draft moves on; X-1 stays published')

  const second = await api.create('article', { title: 'Second', code: 'X-1' })
  t.equal(second.code, 'X-1', 'no draft holds X-1 any more')
  const publish = await api.act('article', second.documentId, 'publish')
  t.equal(publish.statusCode, 400)
  t.same(publish.json(), {
    statusCode: 400,
    code: 'GUDANG_ERR_VALIDATION',
    error: 'Bad Request',
    message: `Cannot publish: /code must be unique: a published entry (${first.documentId}) has this value`,
    details: [{ in: 'body', path: '/data/code', message: `must be unique: a published entry (${first.documentId}) has this value` }],
  })
  t.match(await api.read('article', second.documentId), { status: 'draft', version: 1 }, 'nothing was published')

  t.equal((await api.act('article', first.documentId, 'publish')).statusCode, 200, 'the first publishes X-9')
  const now = await api.act('article', second.documentId, 'publish')
  t.equal(now.statusCode, 200, 'X-1 is free among published entries')
  t.equal((await api.read('article', second.documentId, '?status=published')).code, 'X-1')
})

t.test('without draft & publish, a unique value is unique among what is saved', async (t) => {
  const { api } = await setUp(t)
  const first = await api.create('tag', { name: 'news' })
  t.equal(first.status, 'published')
  const second = await api.post('tag', { name: 'news' })
  t.equal(second.statusCode, 400)
  t.equal(second.json().code, 'GUDANG_ERR_VALIDATION')
  t.equal(second.json().message, `Invalid data: /name must be unique: a published entry (${first.documentId}) has this value`)
  t.equal(second.json().details.length, 1, 'told once')
  t.equal((await api.post('tag', { name: 'guides' })).statusCode, 201)
})

t.test('a unique value is unique per locale', async (t) => {
  const { api } = await setUp(t)
  const en = await api.create('article', { title: 'Hello', code: 'X-1' })
  const fr = await api.post('article', { title: 'Bonjour', code: 'X-1' }, '?locale=fr')
  t.equal(fr.statusCode, 201, 'the same value in another locale is fine')
  const variant = await api.put('article', en.documentId, { title: 'Salut', code: 'X-1' }, '?locale=fr')
  t.equal(variant.statusCode, 400, 'but not twice in one locale')
  t.match(variant.json().details, [{ path: '/data/code', message: `must be unique: a draft (${fr.json().data.documentId}) has this value` }])

  t.equal((await api.act('article', en.documentId, 'publish')).statusCode, 200)
  t.equal((await api.act('article', fr.json().data.documentId, 'publish', '?locale=fr')).statusCode, 200,
    'published in each locale')
})

t.test('a UID is made from its target field as a slug, numbered when taken, and kept when given', async (t) => {
  const { api } = await setUp(t)
  const first = await api.create('article', { title: 'Héllo World!' })
  t.equal(first.slug, 'hello-world')
  t.equal(first.short, 'hello', 'cut to the UID\'s maximum length')
  const second = await api.create('article', { title: 'Hello, world' })
  t.equal(second.slug, 'hello-world-2')
  const third = await api.create('article', { title: 'HELLO WORLD' })
  t.equal(third.slug, 'hello-world-3')
  t.equal(third.short, 'hell-3', 'a numbered UID still fits its maximum length')
  t.equal(second.short, 'hell-2')

  const given = await api.create('article', { title: 'Hello World', slug: 'my-own' })
  t.equal(given.slug, 'my-own', 'a given UID is kept')
  const givenTaken = await api.post('article', { title: 'Other', slug: 'hello-world' })
  t.equal(givenTaken.statusCode, 400, 'a given UID must be free')
  t.match(givenTaken.json().details, [{ path: '/data/slug', message: `must be unique: a draft (${first.documentId}) has this value` }])
  t.equal((await api.act('article', third.documentId, 'publish')).statusCode, 200, 'a numbered UID can be published')
  const badGiven = await api.create('article', { title: 'Other', slug: 'not a slug' })
  t.equal(badGiven.slug, 'not a slug', 'a draft is checked for types only')
  const badPublish = await api.act('article', badGiven.documentId, 'publish')
  t.equal(badPublish.statusCode, 400, 'publishing checks a given UID\'s form')
  t.match(badPublish.json().details, [{ path: '/data/slug', message: /must match pattern/ }])

  const renamed = await api.put('article', first.documentId, { title: 'Goodbye' })
  t.equal(renamed.json().data.slug, 'hello-world', 'a UID stays when its target changes')
  const cleared = await api.put('article', first.documentId, { slug: null })
  t.equal(cleared.json().data.slug, 'goodbye', 'cleared, it is made again from the target')
  const reused = await api.create('article', { title: 'Hello World' })
  t.equal(reused.slug, 'hello-world', 'a freed UID is made again')

  const symbols = await api.create('article', { title: '!!!' })
  t.equal(symbols.slug, undefined, 'nothing to make a slug of: no UID')
  t.equal(symbols.title, '!!!')
})

t.test('a relation must point at an existing document of its target type, also inside components', async (t) => {
  const { api } = await setUp(t)
  const ann = await api.create('person', { name: 'Ann' })
  const other = await api.create('article', { title: 'Other' })

  const cases: [string, Data, string, string][] = [
    ['a missing document', { author: MISSING }, '/data/author', `there is no "person" entry ${MISSING}`],
    ['a document of another type', { author: other.documentId }, '/data/author', `there is no "person" entry ${other.documentId}`],
    ['one of many', { related: [other.documentId, ann.documentId] }, '/data/related', `there is no "article" entry ${ann.documentId}`],
    ['in a component', { link: { label: 'x', person: other.documentId } }, '/data/link/person', `there is no "person" entry ${other.documentId}`],
    ['in a repeatable component', { links: [{ person: ann.documentId }, { person: MISSING }] }, '/data/links/1/person',
      `there is no "person" entry ${MISSING}`],
    ['in a dynamic zone', { blocks: [{ __component: 'shared.link', person: MISSING }] }, '/data/blocks/0/person',
      `there is no "person" entry ${MISSING}`],
  ]
  for (const [name, data, path, message] of cases) {
    const res = await api.post('article', { title: 'Hello', ...data })
    t.equal(res.statusCode, 400, name)
    t.same(res.json().details, [{ in: 'body', path, message }], name)
    const update = await api.put('article', other.documentId, data)
    t.equal(update.statusCode, 400, `${name}, saved`)
    t.same(update.json().details, [{ in: 'body', path, message }], `${name}, saved`)
  }
  const two = await api.post('article', { title: 'Hello', author: MISSING, link: { person: MISSING } })
  t.same(two.json().details.map((d: Data) => d.path), ['/data/author', '/data/link/person'], 'every bad relation is listed')

  const good = await api.create('article', {
    title: 'Good',
    author: ann.documentId,
    related: [other.documentId],
    link: { person: ann.documentId },
    links: [{ person: ann.documentId }],
    blocks: [{ __component: 'shared.link', person: ann.documentId }],
  })
  t.equal(good.author, ann.documentId)
  t.same(good.related, [other.documentId])
  t.same(good.link, { person: ann.documentId })
  const fr = await api.put('article', other.documentId, { title: 'Autre', related: [other.documentId] }, '?locale=fr')
  t.equal(fr.statusCode, 200, 'a document (in any locale) is a target: here, itself')
})

t.test('a relation to a draft target survives publishing both, unpublishing and republishing', async (t) => {
  const { api } = await setUp(t)
  const ann = await api.create('person', { name: 'Ann' })
  t.equal(ann.status, 'draft')
  const source = await api.create('article', { title: 'Hello', author: ann.documentId, link: { person: ann.documentId } })
  const id = source.documentId
  const expectAuthor = async (label: string, published: boolean) => {
    const draft = await api.read('article', id)
    t.equal(draft.author, ann.documentId, `${label}: the draft`)
    t.same(draft.link, { person: ann.documentId }, `${label}: the draft's component`)
    const live = await api.get('article', id, '?status=published')
    t.equal(live.statusCode, published ? 200 : 404, `${label}: published or not`)
    if (published) {
      t.equal(live.json().data.author, ann.documentId, `${label}: the published data`)
      t.same(live.json().data.link, { person: ann.documentId }, `${label}: the published component`)
    }
  }

  await expectAuthor('created', false)
  const publishSource = await api.act('article', id, 'publish')
  t.equal(publishSource.statusCode, 200, 'the source publishes while its target is a draft')
  t.equal(publishSource.json().data.author, ann.documentId)
  await expectAuthor('source published', true)

  t.equal((await api.act('person', ann.documentId, 'publish')).statusCode, 200)
  await expectAuthor('both published', true)

  t.equal((await api.act('person', ann.documentId, 'unpublish')).statusCode, 200)
  t.equal((await api.read('person', ann.documentId)).status, 'draft')
  await expectAuthor('target unpublished', true)

  t.equal((await api.put('article', id, { title: 'Hello again' })).statusCode, 200, 'the source is saved with its draft target')
  t.equal((await api.act('article', id, 'unpublish')).statusCode, 200)
  await expectAuthor('source unpublished', false)

  const republished = await api.act('article', id, 'publish')
  t.equal(republished.statusCode, 200, 'and republished')
  t.match(republished.json().data, { status: 'published', title: 'Hello again', author: ann.documentId })
  await expectAuthor('source republished', true)
  t.equal((await api.act('person', ann.documentId, 'publish')).statusCode, 200)
  await expectAuthor('target republished', true)
  t.equal((await api.read('article', id, '?status=published')).title, 'Hello again')
})
