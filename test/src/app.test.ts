import t from 'tap'
import { Type } from 'typebox'
import { buildApp } from '../../src/app.js'
import { build, testConfig } from '../helper.js'

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
  app.post('/test/echo', { config: { access: 'public' } }, async (request) => request.body)
  const small = await app.inject({ method: 'POST', url: '/test/echo', payload: { a: 1 } })
  t.equal(small.statusCode, 200)
  const res = await app.inject({ method: 'POST', url: '/test/echo', payload: { text: 'x'.repeat(100) } })
  t.equal(res.statusCode, 413)
  t.match(res.json(), { statusCode: 413, code: 'GUDANG_ERR_PAYLOAD_TOO_LARGE', error: 'Payload Too Large' })
})

t.test('a malformed URL answers 400 in the error shape, with a request id', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/health/%zz' })
  t.equal(res.statusCode, 400)
  t.match(res.json(), { statusCode: 400, code: 'GUDANG_ERR_BAD_REQUEST', error: 'Bad Request' })
  t.match(res.headers['x-request-id'], /^[0-9a-f-]{36}$/)
})

t.test('route schemas keep unknown properties out: rejected where closed, never silently dropped', async (t) => {
  const app = await build(t)
  const Thing = Type.Object({ title: Type.String() })
  app.post('/test/strict', { config: { access: 'public' }, schema: { body: Type.Object(Thing.properties, { additionalProperties: false }) } }, async (request) => request.body)
  app.post('/test/open', { config: { access: 'public' }, schema: { body: Thing } }, async (request) => request.body)
  const strict = await app.inject({ method: 'POST', url: '/test/strict', payload: { title: 'a', extra: 1 } })
  t.equal(strict.statusCode, 400)
  t.same(strict.json().details, [{ in: 'body', path: '/extra', message: 'must NOT have additional properties' }])
  const open = await app.inject({ method: 'POST', url: '/test/open', payload: { title: 'a', extra: 1 } })
  t.same(open.json(), { title: 'a', extra: 1 })
})

t.test('requests in flight finish when the app closes', async (t) => {
  const app = await build(t)
  let arrived: () => void = () => {}
  const inHandler = new Promise<void>((resolve) => {
    arrived = resolve
  })
  app.get('/test/slow', { config: { access: 'public' } }, async () => {
    arrived()
    await new Promise((resolve) => setTimeout(resolve, 300))
    return { done: true }
  })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const pending = fetch(`${address}/test/slow`)
  await inHandler
  const closed = app.close()
  const res = await pending
  t.equal(res.status, 200)
  t.same(await res.json(), { done: true })
  t.equal(res.headers.get('connection'), 'close', 'and the connection ends, so closing need not wait for it')
  await closed
})

t.test('LOG_LEVEL sets the level of the log', async (t) => {
  const config = testConfig({ GUDANG_DATA_DIR: 'memory://', LOG_LEVEL: 'warn' })
  const app = buildApp(config)
  t.teardown(() => app.close())
  t.equal(app.log.level, 'warn')
})
