import { Writable } from 'node:stream'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { Type } from 'typebox'
import { ConflictError, NotFoundError, withDetails } from '../../../src/errors.js'
import errorHandler from '../../../src/infra/error-handler.js'
import { build, onPostgres } from '../../helper.js'

/** A bare Fastify with only the error handler, and routes that fail in each way. */
async function bare(t: Test, logs: string[] = []) {
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(chunk.toString())
      callback()
    },
  })
  const app = Fastify({
    logger: { level: 'info', stream },
    ajv: { customOptions: { allErrors: true, removeAdditional: false } },
  })
  await app.register(errorHandler)
  app.post(
    '/things',
    {
      schema: {
        body: Type.Object({ title: Type.String(), count: Type.Integer() }, { additionalProperties: false }),
        querystring: Type.Object({ page: Type.Optional(Type.Integer({ minimum: 1 })) }),
      },
    },
    async () => ({ ok: true }),
  )
  app.get('/conflict', async () => {
    throw withDetails(new ConflictError('The slug is taken'), { field: 'slug' })
  })
  app.get('/missing', async () => {
    throw new NotFoundError('No such thing')
  })
  app.get('/boom', async () => {
    throw new Error('secret connection string postgres://user:pw@db')
  })
  app.get('/teapot', async () => {
    throw Object.assign(new Error('I am a teapot'), { statusCode: 418 })
  })
  app.get('/unnamed', async () => {
    throw Object.assign(new Error('Client closed the request'), { statusCode: 499 })
  })
  app.get('/unavailable', async () => {
    throw Object.assign(new Error('upstream said no'), { statusCode: 502 })
  })
  t.teardown(() => app.close())
  return app
}

t.test('schema validation answers 400 with every failing field', async (t) => {
  const app = await bare(t)
  const res = await app.inject({ method: 'POST', url: '/things', payload: { count: 'many', extra: 1 } })
  t.equal(res.statusCode, 400)
  const body = res.json()
  t.equal(body.code, 'GUDANG_ERR_VALIDATION')
  t.equal(body.error, 'Bad Request')
  t.match(body.message, /^Invalid request: body/)
  t.same(body.details.map((d: { path: string }) => d.path).sort(), ['/count', '/extra', '/title'])
  t.match(body.details, [{ in: 'body', message: String }])
})

t.test('querystring validation names its part of the request', async (t) => {
  const app = await bare(t)
  const res = await app.inject({ method: 'POST', url: '/things?page=0', payload: { title: 'a', count: 1 } })
  t.equal(res.statusCode, 400)
  t.same(res.json().details, [{ in: 'querystring', path: '/page', message: 'must be >= 1' }])
})

t.test('a body of the wrong shape is reported at the root path', async (t) => {
  const app = await bare(t)
  const res = await app.inject({ method: 'POST', url: '/things', payload: [1, 2] })
  t.equal(res.statusCode, 400)
  t.same(res.json().details, [{ in: 'body', path: '/', message: 'must be object' }])
})

t.test('a malformed JSON body answers 400 in the error shape', async (t) => {
  const app = await bare(t)
  const res = await app.inject({
    method: 'POST',
    url: '/things',
    headers: { 'content-type': 'application/json' },
    payload: '{"title": ',
  })
  t.equal(res.statusCode, 400)
  t.same(Object.keys(res.json()).sort(), ['code', 'error', 'message', 'statusCode'])
  t.match(res.json(), { code: 'GUDANG_ERR_BAD_REQUEST', message: /not valid JSON/ })
})

t.test('an unsupported content type answers 415', async (t) => {
  const app = await bare(t)
  const res = await app.inject({
    method: 'POST',
    url: '/things',
    headers: { 'content-type': 'text/xml' },
    payload: '<a/>',
  })
  t.equal(res.statusCode, 415)
  t.equal(res.json().code, 'GUDANG_ERR_UNSUPPORTED_MEDIA_TYPE')
})

t.test('coded errors keep their status, code, message and details', async (t) => {
  const app = await bare(t)
  const conflict = await app.inject({ method: 'GET', url: '/conflict' })
  t.equal(conflict.statusCode, 409)
  t.same(conflict.json(), {
    statusCode: 409,
    code: 'GUDANG_ERR_CONFLICT',
    error: 'Conflict',
    message: 'The slug is taken',
    details: { field: 'slug' },
  })
  const missing = await app.inject({ method: 'GET', url: '/missing' })
  t.same(missing.json(), {
    statusCode: 404,
    code: 'GUDANG_ERR_NOT_FOUND',
    error: 'Not Found',
    message: 'No such thing',
  })
})

t.test('other client errors get a code derived from their status', async (t) => {
  const app = await bare(t)
  const res = await app.inject({ method: 'GET', url: '/teapot' })
  t.equal(res.statusCode, 418)
  t.equal(res.json().code, 'GUDANG_ERR_I_M_A_TEAPOT')
  t.equal(res.json().message, 'I am a teapot')
})

t.test('a status without a reason phrase is still a coded error', async (t) => {
  const app = await bare(t)
  const res = await app.inject({ method: 'GET', url: '/unnamed' })
  t.same(res.json(), {
    statusCode: 499,
    code: 'GUDANG_ERR_ERROR',
    error: 'Error',
    message: 'Client closed the request',
  })
})

t.test('unknown routes answer 404 in the error shape', async (t) => {
  const app = await bare(t)
  const res = await app.inject({ method: 'DELETE', url: '/nowhere?x=1' })
  t.equal(res.statusCode, 404)
  t.same(res.json(), {
    statusCode: 404,
    code: 'GUDANG_ERR_ROUTE_NOT_FOUND',
    error: 'Not Found',
    message: 'Route DELETE /nowhere?x=1 not found',
  })
})

t.test('internal errors are logged with the request id and answered without internals', async (t) => {
  const logs: string[] = []
  const app = await bare(t, logs)
  for (const url of ['/boom', '/unavailable']) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 500)
    const body = res.json()
    t.same(Object.keys(body).sort(), ['code', 'details', 'error', 'message', 'statusCode'])
    t.match(body, { code: 'GUDANG_ERR_INTERNAL_SERVER_ERROR', message: 'Internal Server Error' })
    t.notMatch(res.body, /secret|upstream/)
    const logged = logs
      .map((line) => JSON.parse(line))
      .find((l) => l.msg === 'request failed' && l.reqId === body.details.requestId)
    t.ok(logged, 'the failure is logged under the request id the client was given')
    t.match(logged.err.message, /secret|upstream/)
  }
})

t.test('Prisma\'s unique violation answers 409 and a missing row 404', async (t) => {
  const app = await build(t)
  app.post('/test/users', { config: { access: 'public' } }, async (request) =>
    app.prisma.user.create({
      data: { ...(request.body as { email: string, displayName: string }), role: { connect: { key: 'author' } } },
    }),
  )
  app.delete('/test/users/:id', { config: { access: 'public' } }, async (request) =>
    app.prisma.user.delete({ where: { id: (request.params as { id: string }).id } }),
  )
  const user = { email: 'ada@example.com', displayName: 'Ada' }
  t.equal((await app.inject({ method: 'POST', url: '/test/users', payload: user })).statusCode, 200)
  const duplicate = await app.inject({ method: 'POST', url: '/test/users', payload: user })
  t.equal(duplicate.statusCode, 409)
  t.match(duplicate.json(), {
    code: 'GUDANG_ERR_CONFLICT',
    details: { constraint: onPostgres ? { index: 'users_email_key' } : { fields: ['email'] } },
  })
  t.equal(await app.prisma.user.count(), 1, 'the failed request left the table as it was')

  const missing = await app.inject({
    method: 'DELETE',
    url: '/test/users/0195f0a0-0000-7000-8000-000000000000',
  })
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().code, 'GUDANG_ERR_NOT_FOUND')
})

t.test('a transaction that outlives its time answers 503: the database is busy', async (t) => {
  const app = await build(t)
  app.post('/test/slow', { config: { access: 'public' } }, async () =>
    app.prisma.$transaction(async (tx) => {
      await new Promise((resolve) => setTimeout(resolve, 300))
      return tx.user.count()
    }, { timeout: 50 }))
  const res = await app.inject({ method: 'POST', url: '/test/slow' })
  t.equal(res.statusCode, 503)
  t.match(res.json(), { code: 'GUDANG_ERR_BUSY', message: /try again shortly/ })
})
