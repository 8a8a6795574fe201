import t from 'tap'
import { build } from '../../helper.js'

t.test('the OpenAPI 3 document is generated from the route schemas', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(res.statusCode, 200)
  const doc = res.json()
  t.match(doc, { openapi: /^3\./, info: { title: 'Gudang', version: String } })
  t.match(Object.keys(doc.paths), ['/health/live', '/health/ready', '/auth/login'])
  t.ok(Object.keys(doc.paths).every((path) => /^\/(health|auth|api\/admin)\//.test(path)), 'the documentation lists itself not')
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
