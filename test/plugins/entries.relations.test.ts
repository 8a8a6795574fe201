import t, { type Test } from 'tap'
import { buildWithAdmin, login } from '../helper.js'

/** Deleting a document that others link to: refused, or the links go, as the relation field says. */

type App = Awaited<ReturnType<typeof buildWithAdmin>>
type Data = Record<string, unknown>
type Response = Awaited<ReturnType<App['inject']>>

const TYPES = '/api/admin/content-types'

function ok(res: Response, status = 200): Data {
  if (res.statusCode !== status) throw new Error(`answered ${res.statusCode}: ${res.body}`)
  return res.json().data
}

async function setUp(t: Test) {
  const app = await buildWithAdmin(t)
  const admin = await login(app)
  const call = (method: string, url: string, payload?: object) =>
    app.inject({ method: method as 'GET', url, headers: admin.headers, ...(payload === undefined ? {} : { payload }) })
  const create = async (type: string, data: Data) => ok(await call('POST', `${TYPES}/${type}/entries`, { data }), 201)
  const read = async (type: string, id: string, query = '') => ok(await call('GET', `${TYPES}/${type}/entries/${id}${query}`))
  const credit = {
    uid: 'shared.credit', displayName: 'Credit', fields: [{ name: 'person', type: 'relation', target: 'person', relation: 'toOne', onDelete: 'unlink' }],
  }
  for (const type of [
    { apiId: 'person', fields: [{ name: 'name', type: 'string' }, { name: 'mentor', type: 'relation', target: 'person', relation: 'toOne', onDelete: 'unlink' }] },
    { apiId: 'tag', fields: [{ name: 'name', type: 'string' }] },
    credit,
    {
      apiId: 'article',
      fields: [
        { name: 'title', type: 'string' },
        { name: 'author', type: 'relation', target: 'person', relation: 'toOne' },
        { name: 'tags', type: 'relation', target: 'tag', relation: 'toMany', onDelete: 'unlink' },
        { name: 'credits', type: 'component', component: 'shared.credit', repeatable: true },
        { name: 'blocks', type: 'dynamiczone', components: ['shared.credit'] },
      ],
    },
  ]) {
    if ('uid' in type) ok(await call('POST', '/api/admin/components', type), 201)
    else ok(await call('POST', TYPES, { kind: 'collection', singularName: type.apiId, pluralName: `${type.apiId}s`, ...type }), 201)
  }
  return { app, call, create, read }
}

t.test('a restricting link refuses the deletion and lists every link; nothing changes', async (t) => {
  const { app, call, create, read } = await setUp(t)
  const ann = await create('person', { name: 'Ann' })
  const article = await create('article', { title: 'Hello', author: ann.documentId })
  ok(await call('POST', `${TYPES}/article/entries/${article.documentId}/publish`))

  const refused = await call('DELETE', `${TYPES}/person/entries/${ann.documentId}`)
  t.equal(refused.statusCode, 409)
  t.same(refused.json(), {
    statusCode: 409,
    code: 'GUDANG_ERR_CONFLICT',
    error: 'Conflict',
    message: `2 links point at ${ann.documentId}: remove them first`,
    details: {
      referencedBy: [
        { apiId: 'article', documentId: article.documentId, locale: 'en', status: 'draft', path: '/author' },
        { apiId: 'article', documentId: article.documentId, locale: 'en', status: 'published', path: '/author' },
      ],
    },
  })
  t.equal((await read('person', String(ann.documentId))).name, 'Ann', 'the person stays')
  t.equal(await app.prisma.auditEvent.count({ where: { action: 'entry.delete' } }), 0)

  // Without the link, the person goes.
  ok(await call('PUT', `${TYPES}/article/entries/${article.documentId}`, { data: { author: null } }))
  ok(await call('POST', `${TYPES}/article/entries/${article.documentId}/publish`))
  t.equal((await call('DELETE', `${TYPES}/person/entries/${ann.documentId}`)).statusCode, 204)
})

t.test('unlinking links remove the document from drafts and published data, at any depth, as new versions', async (t) => {
  const { call, create, read } = await setUp(t)
  const [news, tech] = [await create('tag', { name: 'news' }), await create('tag', { name: 'tech' })]
  const bob = await create('person', { name: 'Bob' })
  const cid = await create('person', { name: 'Cid', mentor: bob.documentId })
  const article = await create('article', {
    title: 'Hello',
    tags: [news.documentId, tech.documentId],
    credits: [{ person: bob.documentId }, { person: cid.documentId }],
    blocks: [{ __component: 'shared.credit', person: bob.documentId }],
  })
  const at = `${TYPES}/article/entries/${article.documentId}`
  ok(await call('POST', `${at}/publish`))

  t.equal((await call('DELETE', `${TYPES}/tag/entries/${news.documentId}`)).statusCode, 204)
  t.same((await read('article', String(article.documentId))).tags, [tech.documentId], 'the draft lost the tag')
  const published = await read('article', String(article.documentId), '?status=published')
  t.same(published.tags, [tech.documentId], 'so did the published data')
  t.equal(published.status, 'published', 'still published as it was')

  t.equal((await call('DELETE', `${TYPES}/person/entries/${bob.documentId}`)).statusCode, 204, 'every link to Bob unlinks')
  const after = await read('article', String(article.documentId))
  t.same(after.credits, [{}, { person: cid.documentId }], 'inside a repeatable component')
  t.same(after.blocks, [{ __component: 'shared.credit' }], 'inside a dynamic zone')
  t.notOk('mentor' in await read('person', String(cid.documentId)), 'a to-one link of the same type is cleared')
  const versions = ok(await call('GET', `${at}/versions`)) as unknown as Data[]
  t.same(versions.slice(0, 2).map((v) => [v.action, v.changed]), [['update', ['blocks', 'credits']], ['update', ['tags']]],
    'each unlinking is a version of the entry that held the link')
})
