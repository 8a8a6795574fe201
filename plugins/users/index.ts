import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { IdParamsSchema, Item, Page, PageQuerySchema } from '../../src/schemas/common.js'
import { errorResponses } from '../../src/schemas/error.js'
import { NewUserSchema, UserChangesSchema } from '../../src/schemas/users.js'

/** Administrators manage users (subject `users`). */
const users: FastifyPluginAsyncTypebox = async (app) => {
  const User = Type.Ref('User')

  app.get(
    '/',
    {
      config: { access: { subject: 'users', action: 'read' } },
      schema: { tags: ['users'], summary: 'List users', querystring: PageQuerySchema, response: { 200: Page(User) } },
    },
    async (request) => {
      const { page, pageSize } = request.query
      const { data, total } = await app.users.list(page, pageSize)
      return { data, meta: { page, pageSize, total } }
    },
  )

  app.get(
    '/:id',
    {
      config: { access: { subject: 'users', action: 'read' } },
      schema: { tags: ['users'], summary: 'Read a user', params: IdParamsSchema, response: { 200: Item(User), ...errorResponses(404) } },
    },
    async (request) => ({ data: await app.users.get(request.params.id) }),
  )

  app.post(
    '/',
    {
      config: { access: { subject: 'users', action: 'create' } },
      schema: {
        tags: ['users'],
        summary: 'Create a user',
        description: 'Only with a role whose permissions you hold yourself (403 otherwise).',
        body: NewUserSchema,
        response: { 201: Item(User), ...errorResponses(400, 403, 409) },
      },
    },
    async (request, reply) => {
      const created = await app.users.create(request.body, request.principal.rules)
      return reply.status(201).send({ data: created })
    },
  )

  app.patch(
    '/:id',
    {
      config: { access: { subject: 'users', action: 'update' } },
      schema: {
        tags: ['users'],
        summary: 'Change a user',
        description: 'A new password or disabling the user ends their sessions. The last active administrator '
          + 'cannot be disabled or given another role (409). A user whose role holds permissions you do not, '
          + 'or a role like that, is out of your reach (403).',
        params: IdParamsSchema,
        body: UserChangesSchema,
        response: { 200: Item(User), ...errorResponses(400, 403, 404, 409) },
      },
    },
    async (request) => ({ data: await app.users.update(request.params.id, request.body, request.principal.rules) }),
  )

  app.delete(
    '/:id',
    {
      config: { access: { subject: 'users', action: 'delete' } },
      schema: {
        tags: ['users'],
        summary: 'Delete a user',
        description: 'The last active administrator cannot be deleted (409), nor a user whose role holds '
          + 'permissions you do not (403). Their API tokens stay, without a creator.',
        params: IdParamsSchema,
        response: { 204: { type: 'null' }, ...errorResponses(403, 404, 409) },
      },
    },
    async (request, reply) => {
      await app.users.remove(request.params.id, request.principal.rules)
      return reply.status(204).send(null)
    },
  )
}

export default users
