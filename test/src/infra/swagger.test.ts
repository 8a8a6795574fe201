import t from 'tap'
import { build, buildWithAdmin, login } from '../../helper.js'

t.test('the OpenAPI 3 document is generated from the route schemas', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(res.statusCode, 200)
  const doc = res.json()
  t.match(doc, { openapi: /^3\./, info: { title: 'Gudang', version: String } })
  t.match(Object.keys(doc.paths), ['/health/live', '/health/ready', '/auth/login'])
  t.ok(Object.keys(doc.paths).every((path) => /^\/(health|auth|assets|api\/(admin|content|sync))(\/|$)/.test(path)), 'the documentation lists itself not')
  // Multipart bodies are read as streams, and documented all the same.
  t.match(doc.paths['/api/admin/media/'].post.requestBody.content['multipart/form-data'].schema, {
    properties: { files: { type: 'array', items: { format: 'binary' } }, folder: { type: 'string' } },
  })
  t.match(doc.paths['/api/admin/media/{id}/file'].put.requestBody.content['multipart/form-data'].schema, {
    properties: { file: { format: 'binary' } },
  })
  // Webhooks: the routes, their shared schema, and the signature the callers verify.
  t.match(doc.paths['/api/admin/webhooks/{id}/deliveries/{deliveryId}/redeliver'].post, { tags: ['webhooks'] })
  t.match(doc.paths['/api/admin/webhooks/'].post.description, /webhook-signature/)
  t.match(doc.components.schemas.Webhook, { properties: { url: { type: 'string' }, disabledReason: {} } })
  t.notOk('secret' in doc.components.schemas.Webhook.properties, 'a webhook as listed has no secret')
  t.match(doc.components.schemas.Error, {
    type: 'object',
    required: ['statusCode', 'code', 'error', 'message'],
  })
  t.same(doc.paths['/health/ready'].get.responses['503'].content['application/json'].schema, {
    $ref: '#/components/schemas/Error',
  })
})

t.test('the interactive documentation is served at /docs', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/docs/' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /text\/html/)
  t.match(res.body, /swagger-ui/i)
  t.match(res.headers['content-security-policy'], /script-src 'self'/)
  t.notMatch(res.headers['content-security-policy'], /upgrade-insecure-requests/, 'so it also works over plain HTTP')
})

/** Every `$ref` in a document. */
function refsIn(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(refsIn)
  if (typeof node !== 'object' || node === null) return []
  return Object.entries(node).flatMap(([key, value]) => (key === '$ref' ? [value as string] : refsIn(value)))
}

t.test('the document describes the content model as it is when it is asked for', async (t) => {
  const app = await buildWithAdmin(t)
  const admin = await login(app)
  const document = async () => {
    const res = await app.inject({ method: 'GET', url: '/docs/json' })
    t.equal(res.statusCode, 200)
    return res.json()
  }
  const create = async (url: string, payload: object) => {
    const res = await app.inject({ method: 'POST', url, headers: admin.headers, payload })
    t.equal(res.statusCode, 201, `POST ${url}`)
  }

  // The document is public: it shows what the Public role may read.
  const roles = await app.inject({ url: '/api/admin/roles', headers: admin.headers })
  const publicRole = roles.json().data.find((r: { key: string | null }) => r.key === 'public')
  const grant = await app.inject({
    method: 'PATCH',
    url: `/api/admin/roles/${publicRole.id}`,
    headers: admin.headers,
    payload: { permissions: [{ subject: 'content:article', action: 'read' }] },
  })
  t.equal(grant.statusCode, 200, grant.body)

  const before = await document()
  const routeSchemas = Object.keys(before.components.schemas)
  t.ok(['Error', 'ContentType', 'Component'].every((name) => routeSchemas.includes(name)), 'the route schemas are there')
  t.notOk(routeSchemas.some((name) => name.includes('.')), 'route schemas have no dot in their names: no clash')

  await create('/api/admin/components', {
    uid: 'shared.seo',
    displayName: 'SEO',
    description: 'For search engines',
    fields: [{ name: 'metaTitle', type: 'string', required: true }],
  })
  await create('/api/admin/components', {
    uid: 'blocks.hero',
    displayName: 'Hero',
    fields: [{ name: 'title', type: 'string', required: true }, { name: 'seo', type: 'component', component: 'shared.seo' }],
  })
  await create('/api/admin/content-types', {
    apiId: 'article',
    kind: 'collection',
    singularName: 'Article',
    pluralName: 'Articles',
    description: 'News and guides',
    fields: [
      { name: 'title', type: 'string', required: true },
      { name: 'blocks', type: 'dynamiczone', components: ['blocks.hero'] },
      { name: 'notes', type: 'text', private: true },
    ],
  })
  await create('/api/admin/content-types', {
    apiId: 'memo',
    kind: 'collection',
    singularName: 'Memo',
    pluralName: 'Memos',
    fields: [{ name: 'text', type: 'string' }],
  })

  const after = await document()
  t.match(after, { openapi: '3.1.0', info: { title: 'Gudang' }, components: { securitySchemes: { bearerAuth: { scheme: 'bearer' } } } })
  t.same(Object.keys(after.paths), Object.keys(before.paths), 'the paths are the routes\', as before')
  t.same(Object.keys(after.components.schemas), [
    ...routeSchemas,
    'EntryData.article',
    'ComponentData.blocks.hero',
    'ComponentData.shared.seo',
    'ZoneItem.blocks.hero',
  ])
  t.match(after.components.schemas['EntryData.article'], {
    title: 'Article',
    description: 'News and guides',
    type: 'object',
    required: ['title'],
    properties: { title: { type: 'string' }, blocks: { anyOf: [{ type: 'null' }, { type: 'array', items: { oneOf: Array } }] } },
  })
  t.notOk('notes' in after.components.schemas['EntryData.article'].properties, 'private fields are not shown')
  t.notOk('EntryData.memo' in after.components.schemas, 'nor types the Public role may not read')
  t.match(after.components.schemas['ComponentData.shared.seo'], { title: 'SEO', description: 'For search engines' })
  t.match(after.components.schemas['ZoneItem.blocks.hero'], { properties: { __component: { const: 'blocks.hero' } } })
  const refs = refsIn(after)
  t.ok(refs.includes('#/components/schemas/ComponentData.shared.seo'))
  for (const ref of new Set(refs)) {
    const name = ref.replace(/^#\/components\/schemas\//, '')
    t.ok(name !== ref && name in after.components.schemas, `${ref} resolves`)
  }

  const yaml = await app.inject({ method: 'GET', url: '/docs/yaml' })
  t.equal(yaml.statusCode, 200)
  t.match(yaml.headers['content-type'], /yaml/)
  t.match(yaml.body, /^ {4}EntryData\.article:$/m, 'the YAML document too')

  const deleted = await app.inject({ method: 'DELETE', url: '/api/admin/content-types/article', headers: admin.headers })
  t.equal(deleted.statusCode, 204)
  t.same(Object.keys((await document()).components.schemas), routeSchemas, 'a deleted type and the components only it used are gone')
  const kept = Object.keys((app.swagger() as { components: { schemas: object } }).components.schemas)
  t.notOk(kept.some((name) => /^(EntryData|ComponentData|ZoneItem)\./.test(name)), 'the document @fastify/swagger keeps is never changed')
})
