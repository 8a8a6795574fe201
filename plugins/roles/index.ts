import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { IdParamsSchema, Item, List } from '../../src/schemas/common.js'
import { errorResponses } from '../../src/schemas/error.js'
import { NewRoleSchema, RoleChangesSchema } from '../../src/schemas/roles.js'

/** Roles and their permissions (subject `roles`); a change applies from the next request. */
const roles: FastifyPluginAsyncTypebox = async (app) => {
  const Role = Type.Ref('Role')

  app.get(
    '/',
    {
      config: { access: { subject: 'roles', action: 'read' } },
      schema: {
        tags: ['roles'],
        summary: 'List roles with their permissions',
        response: { 200: List(Role) },
      },
    },
    async () => {
      const data = await app.roles.list()
      return { data, meta: { total: data.length } }
    },
  )

  app.get(
    '/:id',
    {
      config: { access: { subject: 'roles', action: 'read' } },
      schema: { tags: ['roles'], summary: 'Read a role', params: IdParamsSchema, response: { 200: Item(Role), ...errorResponses(404) } },
    },
    async (request) => ({ data: await app.roles.get(request.params.id) }),
  )

  app.post(
    '/',
    {
      config: { access: { subject: 'roles', action: 'create' } },
      schema: {
        tags: ['roles'],
        summary: 'Create a custom role',
        description: 'Nobody grants permissions they do not hold (403).',
        body: NewRoleSchema,
        response: { 201: Item(Role), ...errorResponses(400, 403, 409) },
      },
    },
    async (request, reply) => {
      const created = await app.roles.create(request.body, request.principal.rules)
      return reply.status(201).send({ data: created })
    },
  )

  app.patch(
    '/:id',
    {
      config: { access: { subject: 'roles', action: 'update' } },
      schema: {
        tags: ['roles'],
        summary: 'Change a role',
        description: '`permissions`, when given, replaces the whole set. The Administrator role cannot be changed (409); '
          + 'neither can a role, nor into a role, that holds permissions you do not (403).',
        params: IdParamsSchema,
        body: RoleChangesSchema,
        response: { 200: Item(Role), ...errorResponses(400, 403, 404, 409) },
      },
    },
    async (request) => ({ data: await app.roles.update(request.params.id, request.body, request.principal.rules) }),
  )

  app.delete(
    '/:id',
    {
      config: { access: { subject: 'roles', action: 'delete' } },
      schema: {
        tags: ['roles'],
        summary: 'Delete a custom role',
        description: 'Built-in roles, and roles that users or tokens hold, cannot be deleted (409).',
        params: IdParamsSchema,
        response: { 204: { type: 'null' }, ...errorResponses(403, 404, 409) },
      },
    },
    async (request, reply) => {
      await app.roles.remove(request.params.id, request.principal.rules)
      return reply.status(204).send(null)
    },
  )
}

export default roles
