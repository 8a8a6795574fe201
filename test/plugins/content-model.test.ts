import t, { type Test } from 'tap'
import { bearer, buildWithAdmin, login, roleId, type SignedIn, signInAs } from '../helper.js'

type App = Awaited<ReturnType<typeof buildWithAdmin>>

const TYPES = '/api/admin/content-types'
const COMPONENTS = '/api/admin/components'
const id = '0195f0a0-0000-7000-8000-000000000001'

const seo = {
  uid: 'shared.seo',
  displayName: 'SEO',
  fields: [{ name: 'metaTitle', type: 'string', required: true, maxLength: 60 }, { name: 'keywords', type: 'text' }],
}
const hero = {
  uid: 'blocks.hero',
  displayName: 'Hero',
  fields: [{ name: 'title', type: 'string', required: true }, { name: 'image', type: 'media', allowedKinds: ['image'] }],
}
const author = {
  apiId: 'author',
  kind: 'collection',
  singularName: 'Author',
  pluralName: 'Authors',
  fields: [{ name: 'name', type: 'string', required: true }],
}
/** A field of every type, a component, a dynamic zone and a relation. */
const article = {
  apiId: 'article',
  kind: 'collection',
  singularName: 'Article',
  pluralName: 'Articles',
  description: 'News and guides',
  fields: [
    { name: 'title', type: 'string', required: true, maxLength: 20, pattern: '^[A-Z]' },
    { name: 'slug', type: 'uid', targetField: 'title', required: true },
    { name: 'summary', type: 'text' },
    { name: 'body', type: 'richtext' },
    { name: 'views', type: 'integer', min: 0, default: 0 },
    { name: 'rating', type: 'decimal', max: 5 },
    { name: 'featured', type: 'boolean', default: false },
    { name: 'day', type: 'date' },
    { name: 'at', type: 'datetime' },
    { name: 'category', type: 'enumeration', values: ['news', 'guide'], default: 'news' },
    { name: 'extra', type: 'json' },
    { name: 'contact', type: 'email', private: true },
    { name: 'website', type: 'url' },
    { name: 'cover', type: 'media', allowedKinds: ['image'] },
    { name: 'gallery', type: 'media', multiple: true },
    { name: 'author', type: 'relation', target: 'author', relation: 'toOne', inverse: 'articles' },
    { name: 'related', type: 'relation', target: 'article', relation: 'toMany' },
    { name: 'seo', type: 'component', component: 'shared.seo' },
    { name: 'blocks', type: 'dynamiczone', components: ['blocks.hero', 'shared.seo'] },
  ],
}

async function setUp(t: Test): Promise<{ app: App, admin: SignedIn }> {
  const app = await buildWithAdmin(t)
  const admin = await login(app)
  return { app, admin }
}

async function create(app: App, admin: SignedIn, url: string, payload: object) {
  const res = await app.inject({ method: 'POST', url, headers: admin.headers, payload })
  if (res.statusCode !== 201) throw new Error(`POST ${url} answered ${res.statusCode}: ${res.body}`)
  return res.json().data
}

async function model(app: App, admin: SignedIn) {
  await create(app, admin, COMPONENTS, seo)
  await create(app, admin, COMPONENTS, hero)
  await create(app, admin, TYPES, author)
  return create(app, admin, TYPES, article)
}

t.test('an administrator defines components and a content type with every field type', async (t) => {
  const { app, admin } = await setUp(t)
  const created = await model(app, admin)
  t.match(created, { apiId: 'article', kind: 'collection', version: 1, draftAndPublish: true, localized: false })
  t.same(created.fields, article.fields, 'the fields are kept as given')

  const read = await app.inject({ url: `${TYPES}/article`, headers: admin.headers })
  t.equal(read.statusCode, 200)
  t.same(read.json().data, created)
  const list = await app.inject({ url: TYPES, headers: admin.headers })
  t.same(list.json().data.map((type: { apiId: string }) => type.apiId), ['article', 'author'])
  t.same(list.json().meta, { total: 2 })
  const components = await app.inject({ url: COMPONENTS, headers: admin.headers })
  t.same(components.json().data.map((c: { uid: string }) => c.uid), ['blocks.hero', 'shared.seo'])
  t.match((await app.inject({ url: `${COMPONENTS}/shared.seo`, headers: admin.headers })).json().data, seo)
  t.equal((await app.inject({ url: `${COMPONENTS}/shared.gone`, headers: admin.headers })).statusCode, 404)
  t.equal((await app.inject({ url: `${TYPES}/gone`, headers: admin.headers })).statusCode, 404)
})

t.test('the validator accepts good data and refuses bad data at its path, in both modes', async (t) => {
  const { app, admin } = await setUp(t)
  await model(app, admin)
  const validate = async (mode: string, payload: object) => {
    const res = await app.inject({ method: 'POST', url: `${TYPES}/article/validate?mode=${mode}`, headers: admin.headers, payload })
    t.equal(res.statusCode, 200)
    return res.json().data
  }
  const good = {
    title: 'Hello',
    slug: 'hello',
    body: [{ type: 'paragraph', children: [{ type: 'text', text: 'Hi' }] }],
    views: 3,
    day: '2026-11-21',
    category: 'guide',
    cover: id,
    gallery: [id],
    author: id,
    related: [],
    seo: { metaTitle: 'Hello' },
    blocks: [{ __component: 'blocks.hero', title: 'Welcome' }, { __component: 'shared.seo', metaTitle: 'x' }],
  }
  t.same(await validate('publish', good), { valid: true, problems: [] })
  t.same(await validate('draft', { title: 'lower case is fine in a draft' }), { valid: true, problems: [] })

  const draft = await validate('draft', { title: 5, blocks: [{ __component: 'blocks.hero', title: 7 }], rogue: true })
  t.same(draft, {
    valid: false,
    problems: [
      { path: '/rogue', message: 'must NOT have additional properties' },
      { path: '/title', message: 'must be string' },
      { path: '/blocks/0/title', message: 'must be string' },
    ],
  })
  const publish = await validate('publish', { ...good, title: 'lower', slug: undefined, blocks: [{ __component: 'blocks.hero' }] })
  t.same(publish.problems.map((p: { path: string }) => p.path).sort(), ['/blocks/0/title', '/slug', '/title'])
  t.equal((await validate('publish', {})).problems.length, 2, 'the required title and slug')

  const badMode = await app.inject({ method: 'POST', url: `${TYPES}/article/validate?mode=final`, headers: admin.headers, payload: {} })
  t.equal(badMode.statusCode, 400)
})

t.test('a component change applies to the validators of the types that use it', async (t) => {
  const { app, admin } = await setUp(t)
  await model(app, admin)
  const data = { title: 'Hello', slug: 'hello', seo: { metaTitle: 'Hi', canonical: 'https://example.com' } }
  const check = async () =>
    (await app.inject({ method: 'POST', url: `${TYPES}/article/validate`, headers: admin.headers, payload: data })).json().data
  t.equal((await check()).valid, false)
  const changed = await app.inject({
    method: 'PUT',
    url: `${COMPONENTS}/shared.seo`,
    headers: admin.headers,
    payload: { displayName: 'SEO', fields: [...seo.fields, { name: 'canonical', type: 'url' }] },
  })
  t.equal(changed.statusCode, 200)
  t.equal(changed.json().data.version, 2)
  t.strictSame(changed.json().meta.plan.steps, [{ action: 'add', field: 'canonical', type: 'url', entries: 0 }])
  t.same(await check(), { valid: true, problems: [] })
})

t.test('a type deleted and made again is validated by its new definition', async (t) => {
  const { app, admin } = await setUp(t)
  const check = async () => (await app.inject({
    method: 'POST',
    url: `${TYPES}/author/validate`,
    headers: admin.headers,
    payload: { name: 'Ada' },
  })).json().data
  await create(app, admin, TYPES, author)
  t.equal((await check()).valid, true)
  t.equal((await app.inject({ method: 'DELETE', url: `${TYPES}/author`, headers: admin.headers })).statusCode, 204)
  await create(app, admin, TYPES, { ...author, fields: [{ name: 'count', type: 'integer', required: true }] })
  t.same(await check(), {
    valid: false,
    problems: [
      { path: '/count', message: 'must have required property \'count\'' },
      { path: '/name', message: 'must NOT have additional properties' },
    ],
  })
})

t.test('bad definitions get a 400 that names every problem', async (t) => {
  const { app, admin } = await setUp(t)
  const res = await app.inject({
    method: 'POST',
    url: TYPES,
    headers: admin.headers,
    payload: {
      ...author,
      apiId: 'broken',
      fields: [
        { name: 'title', type: 'string', pattern: '[unclosed' },
        { name: 'title', type: 'text' },
        { name: 'id', type: 'integer', min: 5, max: 1 },
        { name: 'writer', type: 'relation', target: 'ghost', relation: 'toOne' },
        { name: 'seo', type: 'component', component: 'shared.none' },
      ],
    },
  })
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'GUDANG_ERR_VALIDATION')
  t.match(res.json().message, /^Invalid definition: \/fields\/0\/pattern is not a valid regular expression/)
  t.same(res.json().details.map((d: { path: string }) => d.path), [
    '/fields/0/pattern',
    '/fields/1/name',
    '/fields/2/name',
    '/fields/2/min',
    '/fields/3/target',
    '/fields/4/component',
  ])
  t.match(res.json().details[4], { in: 'body', message: 'there is no content type "ghost"' })

  const shape = await app.inject({
    method: 'POST',
    url: TYPES,
    headers: admin.headers,
    payload: { ...author, apiId: 'Bad Id', fields: [{ name: 'x', type: 'colour' }] },
  })
  t.equal(shape.statusCode, 400)
  t.ok(shape.json().details.some((d: { path: string }) => d.path === '/apiId'))
  t.equal((await app.inject({ url: TYPES, headers: admin.headers })).json().meta.total, 0, 'nothing was stored')

  await create(app, admin, TYPES, author)
  const twice = await app.inject({ method: 'POST', url: TYPES, headers: admin.headers, payload: author })
  t.equal(twice.statusCode, 409)
})

t.test('a changed definition gets a new version; the history keeps every one', async (t) => {
  const { app, admin } = await setUp(t)
  await create(app, admin, TYPES, author)
  const { apiId, ...definition } = author
  const changed = await app.inject({
    method: 'PUT',
    url: `${TYPES}/${apiId}`,
    headers: admin.headers,
    payload: { ...definition, description: 'People who write', fields: [...author.fields, { name: 'bio', type: 'richtext' }] },
  })
  t.equal(changed.statusCode, 200)
  t.match(changed.json().data, { apiId: 'author', version: 2, description: 'People who write' })
  t.strictSame(changed.json().meta, {
    plan: { steps: [{ action: 'add', field: 'bio', type: 'richtext', entries: 0 }], blocked: [], invalid: { count: 0, entries: [] }, applicable: true },
  }, 'the answer tells what the change did')
  const history = await app.inject({ url: `${TYPES}/author/versions`, headers: admin.headers })
  t.same(history.json().data.map((v: { version: number }) => v.version), [2, 1])
  t.equal(history.json().data[0].createdById, admin.user.id)
  t.same(history.json().data[1].definition.fields, author.fields)
  t.strictSame(history.json().data.map((v: { changes: unknown }) => v.changes), [
    [{ action: 'add', field: 'bio', type: 'richtext', entries: 0 }],
    [{ action: 'add', field: 'name', type: 'string' }],
  ])

  const invalid = await app.inject({
    method: 'PUT',
    url: `${TYPES}/author`,
    headers: admin.headers,
    payload: { ...definition, fields: [{ name: 'updatedAt', type: 'string' }] },
  })
  t.equal(invalid.statusCode, 400)
  t.equal((await app.inject({ url: `${TYPES}/author`, headers: admin.headers })).json().data.version, 2, 'unchanged')
  const missing = await app.inject({ method: 'PUT', url: `${TYPES}/ghost`, headers: admin.headers, payload: definition })
  t.equal(missing.statusCode, 404)
  t.equal((await app.inject({ url: `${TYPES}/ghost/versions`, headers: admin.headers })).statusCode, 404)
})

t.test('types and components in use cannot be deleted; a component cannot come to contain itself', async (t) => {
  const { app, admin } = await setUp(t)
  await model(app, admin)
  const wrapper = await create(app, admin, COMPONENTS, {
    uid: 'blocks.wrapper',
    displayName: 'Wrapper',
    fields: [{ name: 'inner', type: 'component', component: 'blocks.hero' }],
  })
  t.equal(wrapper.version, 1)
  const loop = await app.inject({
    method: 'PUT',
    url: `${COMPONENTS}/blocks.hero`,
    headers: admin.headers,
    payload: { displayName: 'Hero', fields: [{ name: 'wrapped', type: 'component', component: 'blocks.wrapper' }] },
  })
  t.equal(loop.statusCode, 400)
  t.match(loop.json().details, [{ path: '/fields/0/component', message: /cannot contain itself/ }])

  const del = (url: string) => app.inject({ method: 'DELETE', url, headers: admin.headers })
  await create(app, admin, COMPONENTS, {
    uid: 'shared.byline',
    displayName: 'Byline',
    fields: [{ name: 'writer', type: 'relation', target: 'author', relation: 'toOne' }],
  })
  const usedAuthor = await del(`${TYPES}/author`)
  t.equal(usedAuthor.statusCode, 409)
  t.same(usedAuthor.json().details, { referencedBy: ['article', 'shared.byline'] }, 'components that relate to it count')
  const usedHero = await del(`${COMPONENTS}/blocks.hero`)
  t.equal(usedHero.statusCode, 409)
  t.same(usedHero.json().details, { usedBy: ['article', 'blocks.wrapper'] })

  t.equal((await del(`${TYPES}/article`)).statusCode, 204, 'a type that relates to itself can go')
  t.equal((await del(`${COMPONENTS}/shared.byline`)).statusCode, 204)
  t.equal((await del(`${TYPES}/author`)).statusCode, 204)
  t.equal((await del(`${COMPONENTS}/blocks.wrapper`)).statusCode, 204)
  t.equal((await del(`${COMPONENTS}/blocks.hero`)).statusCode, 204)
  t.equal((await del(`${COMPONENTS}/blocks.hero`)).statusCode, 404)
  t.equal((await del(`${TYPES}/author`)).statusCode, 404)
  const gone = await app.inject({ method: 'PUT', url: `${COMPONENTS}/blocks.gone`, headers: admin.headers, payload: { displayName: 'x', fields: [] } })
  t.equal(gone.statusCode, 404)
})

t.test('whoever may read content reads the model; only those with content-types permissions change it', async (t) => {
  const { app, admin } = await setUp(t)
  await model(app, admin)
  const editor = await signInAs(app, admin, 'editor')
  t.equal((await app.inject({ url: TYPES, headers: editor.headers })).json().meta.total, 2)
  const write = await app.inject({ method: 'POST', url: COMPONENTS, headers: editor.headers, payload: { ...seo, uid: 'shared.other' } })
  t.equal(write.statusCode, 403)
  t.match(write.json().details, { subject: 'content-types', action: 'create' })
  t.equal((await app.inject({ url: `${TYPES}/article/versions`, headers: editor.headers })).statusCode, 403)

  t.equal((await app.inject({ url: TYPES })).statusCode, 401, 'anonymous, with a Public role that reads nothing')
  await app.inject({
    method: 'PATCH',
    url: `/api/admin/roles/${await roleId(app, admin, 'public')}`,
    headers: admin.headers,
    payload: { permissions: [{ subject: 'content:author', action: 'read' }] },
  })
  const anonymous = await app.inject({ url: TYPES })
  t.same(anonymous.json().data.map((type: { apiId: string }) => type.apiId), ['author'], 'only the types it may read')
  t.equal((await app.inject({ url: `${TYPES}/article` })).statusCode, 404, 'another type is not found')
  t.equal((await app.inject({ url: `${COMPONENTS}/shared.seo` })).statusCode, 200)

  const media = await app.inject({
    method: 'POST',
    url: '/api/admin/roles',
    headers: admin.headers,
    payload: { name: 'Media only', permissions: [{ subject: 'media', action: 'read' }] },
  })
  t.equal(media.statusCode, 201)
  const librarian = await signInAs(app, admin, 'Media only')
  const refused = await app.inject({ url: COMPONENTS, headers: librarian.headers })
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().message, 'Only a caller who may read some content may do this')

  const delivery = await create(app, admin, '/api/admin/tokens', { name: 'site', kind: 'delivery' })
  t.equal((await app.inject({ url: TYPES, headers: bearer(delivery.accessKey) })).json().meta.total, 2, 'a site build reads it too')

  // Model as code from a pipeline: a token whose role may change the model.
  const modellers = await create(app, admin, '/api/admin/roles', {
    name: 'Modellers',
    permissions: [
      { subject: 'content-types', action: 'create' },
      { subject: 'content-types', action: 'read' },
      { subject: 'content:*', action: 'read' },
    ],
  })
  const pipeline = await create(app, admin, '/api/admin/tokens', { name: 'pipeline', kind: 'custom', roleId: modellers.id })
  await create(app, { ...admin, headers: bearer(pipeline.accessKey) }, TYPES, { ...author, apiId: 'tag', singularName: 'Tag' })
  const history = await app.inject({ url: `${TYPES}/tag/versions`, headers: bearer(pipeline.accessKey) })
  t.equal(history.json().data[0].createdById, null, 'a token is nobody')

  const exporters = await create(app, admin, '/api/admin/roles', {
    name: 'Model readers',
    permissions: [{ subject: 'content-types', action: 'read' }],
  })
  const exporter = await create(app, admin, '/api/admin/tokens', { name: 'export', kind: 'custom', roleId: exporters.id })
  const all = await app.inject({ url: TYPES, headers: bearer(exporter.accessKey) })
  t.same(all.json().data.map((type: { apiId: string }) => type.apiId), ['article', 'author', 'tag'], 'reading the model reads all of it')
})

t.test('a type with entries cannot be deleted', async (t) => {
  const { app, admin } = await setUp(t)
  await create(app, admin, TYPES, author)
  const ada = await create(app, admin, `${TYPES}/author/entries`, { data: { name: 'Ada' } })
  await create(app, admin, `${TYPES}/author/entries`, { data: { name: 'Grace' } })
  const del = () => app.inject({ method: 'DELETE', url: `${TYPES}/author`, headers: admin.headers })
  const refused = await del()
  t.equal(refused.statusCode, 409)
  t.equal(refused.json().message, '"author" has 2 entries: delete them first')
  t.strictSame(refused.json().details, { entries: 2 })
  await app.inject({ method: 'DELETE', url: `${TYPES}/author/entries/${ada.documentId}`, headers: admin.headers })
  t.strictSame((await del()).json().details, { entries: 1 })
  t.equal((await app.inject({ url: `${TYPES}/author`, headers: admin.headers })).statusCode, 200, 'the type is still there')
})
