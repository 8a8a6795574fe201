import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { noStore } from '../../src/infra/no-store.js'
import { Type } from 'typebox'
import { IssuedApiTokenSchema, NewApiTokenSchema } from '../../src/schemas/api-tokens.js'
import { IdParamsSchema, Item, Page, PageQuerySchema } from '../../src/schemas/common.js'
import { errorResponses } from '../../src/schemas/error.js'

/**
 * API tokens for site builds and websites (subject `tokens`). With an own-only permission a
 * caller sees and manages only the tokens they made.
 */
const apiTokens: FastifyPluginAsyncTypebox = async (app) => {
  const ApiToken = Type.Ref('ApiToken')

  // Answers may hold a token's value.
  app.addHook('onSend', noStore)

  app.get(
    '/',
    {
      config: { access: { subject: 'tokens', action: 'read' } },
      schema: {
        tags: ['tokens'],
        summary: 'List API tokens, with when each was last used',
        querystring: PageQuerySchema,
        response: { 200: Page(ApiToken) },
      },
    },
    async (request) => {
      const { page, pageSize } = request.query
      const { data, total } = await app.apiTokens.list(request.grant, page, pageSize)
      return { data, meta: { page, pageSize, total } }
    },
  )

  app.get(
    '/:id',
    {
      config: { access: { subject: 'tokens', action: 'read' } },
      schema: { tags: ['tokens'], summary: 'Read an API token', params: IdParamsSchema, response: { 200: Item(ApiToken), ...errorResponses(404) } },
    },
    async (request) => ({ data: await app.apiTokens.get(request.grant, request.params.id) }),
  )

  app.post(
    '/',
    {
      config: { access: { subject: 'tokens', action: 'create' } },
      schema: {
        tags: ['tokens'],
        summary: 'Create an API token',
        description: 'The answer holds the token\'s value, `accessKey`: it is shown this once and only its hash is kept. '
          + 'A token cannot grant more than its creator holds (403).',
        body: NewApiTokenSchema,
        response: { 201: Item(IssuedApiTokenSchema), ...errorResponses(400, 403, 409) },
      },
    },
    async (request, reply) => {
      const { principal, body } = request
      const expiresAt = body.expiresAt === undefined ? undefined : new Date(body.expiresAt)
      const token = await app.apiTokens.create(principal, { ...body, expiresAt })
      return reply.status(201).send({ data: token })
    },
  )

  app.post(
    '/:id/regenerate',
    {
      config: { access: { subject: 'tokens', action: 'update' } },
      schema: {
        tags: ['tokens'],
        summary: 'Give an API token a new value',
        description: 'The old value stops working at once. The new one is shown this once. Only by a caller '
          + 'who holds what the token may do (403).',
        params: IdParamsSchema,
        response: { 200: Item(IssuedApiTokenSchema), ...errorResponses(403, 404) },
      },
    },
    async (request) => ({ data: await app.apiTokens.regenerate(request.principal, request.grant, request.params.id) }),
  )

  app.delete(
    '/:id',
    {
      config: { access: { subject: 'tokens', action: 'delete' } },
      schema: {
        tags: ['tokens'],
        summary: 'Revoke an API token',
        description: 'It stops working at once. Only by a caller who holds what the token may do (403).',
        params: IdParamsSchema,
        response: { 204: { type: 'null' }, ...errorResponses(403, 404) },
      },
    },
    async (request, reply) => {
      await app.apiTokens.remove(request.principal, request.grant, request.params.id)
      return reply.status(204).send(null)
    },
  )
}

export default apiTokens
