import t from 'tap'
import { build } from '../helper.js'

t.test('answers carry security headers and a request id', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/health/live' })
  t.equal(res.headers['x-content-type-options'], 'nosniff')
  t.equal(res.headers['x-frame-options'], 'SAMEORIGIN')
  t.match(res.headers['x-request-id'], /^[0-9a-f-]{36}$/)
})

t.test('a client\'s harmless X-Request-Id is kept, anything else replaced', async (t) => {
  const app = await build(t)
  const kept = await app.inject({
    method: 'GET',
    url: '/health/live',
    headers: { 'x-request-id': 'build-42.a' },
  })
  t.equal(kept.headers['x-request-id'], 'build-42.a')
  const replaced = await app.inject({
    method: 'GET',
    url: '/health/live',
    headers: { 'x-request-id': 'evil\u001b[31m newline' },
  })
  t.match(replaced.headers['x-request-id'], /^[0-9a-f-]{36}$/)
})

t.test('CORS allows any origin by default, for the methods the API uses', async (t) => {
  const app = await build(t)
  const res = await app.inject({
    method: 'OPTIONS',
    url: '/health/live',
    headers: { 'origin': 'https://site.example', 'access-control-request-method': 'PATCH' },
  })
  t.equal(res.statusCode, 204)
  t.equal(res.headers['access-control-allow-origin'], '*')
  t.match(res.headers['access-control-allow-methods'], /PATCH/)
})

t.test('CORS can be limited to a list of origins', async (t) => {
  const app = await build(t, { GUDANG_CORS_ORIGIN: 'https://a.example, https://admin.example' })
  const allowed = await app.inject({
    method: 'GET',
    url: '/health/live',
    headers: { origin: 'https://admin.example' },
  })
  t.equal(allowed.headers['access-control-allow-origin'], 'https://admin.example')
  const other = await app.inject({
    method: 'GET',
    url: '/health/live',
    headers: { origin: 'https://evil.example' },
  })
  t.notOk(other.headers['access-control-allow-origin'])
})

t.test('a body over GUDANG_BODY_LIMIT answers 413 in the error shape', async (t) => {
  const app = await build(t, { GUDANG_BODY_LIMIT: 64 })
  app.post('/test/echo', async (request) => request.body)
  const small = await app.inject({ method: 'POST', url: '/test/echo', payload: { a: 1 } })
  t.equal(small.statusCode, 200)
  const res = await app.inject({ method: 'POST', url: '/test/echo', payload: { text: 'x'.repeat(100) } })
  t.equal(res.statusCode, 413)
  t.match(res.json(), { statusCode: 413, code: 'GUDANG_ERR_PAYLOAD_TOO_LARGE', error: 'Payload Too Large' })
})
