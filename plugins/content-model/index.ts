import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { Item, List } from '../../src/schemas/common.js'
import {
  ApiIdSchema,
  ComponentChangeSchema,
  ComponentUidSchema,
  ContentTypeChangeSchema,
  ContentTypeVersionSchema,
  NewComponentSchema,
  NewContentTypeSchema,
  ValidationQuerySchema,
  ValidationResultSchema,
} from '../../src/schemas/content-model.js'
import { errorResponses } from '../../src/schemas/error.js'
import { actorOf } from '../../src/services/audit.js'

const TypeParams = Type.Object({ apiId: ApiIdSchema })
const ComponentParams = Type.Object({ uid: ComponentUidSchema })

/**
 * The content model (subject `content-types` to change it): content types and components,
 * defined at runtime. Whoever may read some content may read the model: an admin UI and a
 * site generator both need it.
 */
const contentModel: FastifyPluginAsyncTypebox = async (app) => {
  const ContentType = Type.Ref('ContentType')
  const Component = Type.Ref('Component')
  const Plan = Type.Ref('Plan')

  app.get(
    '/content-types',
    {
      config: { access: 'content-reader' },
      schema: {
        tags: ['content model'],
        summary: 'List the content types whose entries you may read',
        response: { 200: List(ContentType) },
      },
    },
    async (request) => {
      const data = await app.contentModel.listTypes(request.principal.rules)
      return { data, meta: { total: data.length } }
    },
  )

  app.get(
    '/content-types/:apiId',
    {
      config: { access: 'content-reader' },
      schema: {
        tags: ['content model'],
        summary: 'Read a content type',
        description: 'A type whose entries you may not read answers 404.',
        params: TypeParams,
        response: { 200: Item(ContentType), ...errorResponses(404) },
      },
    },
    async (request) => ({ data: await app.contentModel.getType(request.params.apiId, request.principal.rules) }),
  )

  app.post(
    '/content-types',
    {
      config: { access: { subject: 'content-types', action: 'create' } },
      schema: {
        tags: ['content model'],
        summary: 'Create a content type',
        description: 'Definitions that cannot work (duplicate or reserved field names, a relation to a missing type, '
          + 'an invalid regular expression, min > max …) answer 400 with every problem at its path.',
        body: NewContentTypeSchema,
        response: { 201: Item(ContentType), ...errorResponses(400, 409) },
      },
    },
    async (request, reply) => {
      const created = await app.contentModel.createType(request.body, actorOf(request.principal))
      return reply.status(201).send({ data: created })
    },
  )

  const planned = 'Values move with renamed fields (`changes.rename`) and convert to new types. Values that do '
    + 'not convert (unless `changes.convert` clears them) and removed fields that hold data (unless confirmed in '
    + '`changes.remove`) block the change.'

  app.post(
    '/content-types/:apiId/plan',
    {
      config: { access: { subject: 'content-types', action: 'update' } },
      schema: {
        tags: ['content model'],
        summary: 'Plan a change of a content type, without applying it',
        description: `The steps (fields added, renamed, retyped, changed, removed) with how many entries each touches, `
          + `what blocks the change with the entries concerned, and the published entries the new rules would not let `
          + `be published again. ${planned}`,
        params: TypeParams,
        body: ContentTypeChangeSchema,
        response: { 200: Item(Plan), ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { changes, ...definition } = request.body
      const { plan } = await app.contentModel.updateType(request.params.apiId, definition, { changes, dryRun: true })
      return { data: plan }
    },
  )

  app.put(
    '/content-types/:apiId',
    {
      config: { access: { subject: 'content-types', action: 'update' } },
      schema: {
        tags: ['content model'],
        summary: 'Change a content type: its whole new definition, applied to its entries',
        description: `${planned} Blocked, the answer is 409 with the plan in \`details\` and nothing changes. `
          + 'Applied, the version goes up and the history keeps the previous definition and the steps. The API id does not change.',
        params: TypeParams,
        body: ContentTypeChangeSchema,
        response: {
          200: Type.Object({ data: ContentType, meta: Type.Object({ plan: Plan }) }),
          ...errorResponses(400, 404, 409),
        },
      },
    },
    async (request) => {
      const { changes, ...definition } = request.body
      const options = { changes, actor: actorOf(request.principal) }
      const { type, plan } = await app.contentModel.updateType(request.params.apiId, definition, options)
      return { data: type, meta: { plan } }
    },
  )

  app.delete(
    '/content-types/:apiId',
    {
      config: { access: { subject: 'content-types', action: 'delete' } },
      schema: {
        tags: ['content model'],
        summary: 'Delete a content type',
        description: 'Refused (409, `details.referencedBy`) while other types relate to it.',
        params: TypeParams,
        response: { 204: { type: 'null' }, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      await app.contentModel.removeType(request.params.apiId, actorOf(request.principal))
      return reply.status(204).send(null)
    },
  )

  app.get(
    '/content-types/:apiId/versions',
    {
      config: { access: { subject: 'content-types', action: 'read' } },
      schema: {
        tags: ['content model'],
        summary: 'The definitions a content type has had, newest first',
        params: TypeParams,
        response: { 200: List(ContentTypeVersionSchema), ...errorResponses(404) },
      },
    },
    async (request) => {
      const data = await app.contentModel.history(request.params.apiId)
      return { data, meta: { total: data.length } }
    },
  )

  app.post(
    '/content-types/:apiId/validate',
    {
      config: { access: 'content-reader' },
      schema: {
        tags: ['content model'],
        summary: 'Check entry data against a content type',
        description: 'As saving (`mode=draft`: types and shapes) or publishing (`mode=publish`: every rule) '
          + 'will. Each problem names the field\'s path, such as `/blocks/2/title`.',
        params: TypeParams,
        querystring: ValidationQuerySchema,
        body: Type.Unknown({ description: 'The entry\'s data' }),
        response: { 200: Item(ValidationResultSchema), ...errorResponses(404) },
      },
    },
    async (request) => {
      const { apiId } = request.params
      return { data: await app.contentModel.validate(apiId, request.principal.rules, request.query.mode, request.body) }
    },
  )

  app.get(
    '/components',
    {
      config: { access: 'content-reader' },
      schema: { tags: ['content model'], summary: 'List the components', response: { 200: List(Component) } },
    },
    async () => {
      const data = await app.contentModel.listComponents()
      return { data, meta: { total: data.length } }
    },
  )

  app.get(
    '/components/:uid',
    {
      config: { access: 'content-reader' },
      schema: {
        tags: ['content model'],
        summary: 'Read a component',
        params: ComponentParams,
        response: { 200: Item(Component), ...errorResponses(404) },
      },
    },
    async (request) => ({ data: await app.contentModel.getComponent(request.params.uid) }),
  )

  app.post(
    '/components',
    {
      config: { access: { subject: 'content-types', action: 'create' } },
      schema: {
        tags: ['content model'],
        summary: 'Create a component',
        body: NewComponentSchema,
        response: { 201: Item(Component), ...errorResponses(400, 409) },
      },
    },
    async (request, reply) => {
      const component = await app.contentModel.createComponent(request.body, actorOf(request.principal))
      return reply.status(201).send({ data: component })
    },
  )

  app.post(
    '/components/:uid/plan',
    {
      config: { access: { subject: 'content-types', action: 'update' } },
      schema: {
        tags: ['content model'],
        summary: 'Plan a change of a component against every entry that holds it, without applying it',
        description: planned,
        params: ComponentParams,
        body: ComponentChangeSchema,
        response: { 200: Item(Plan), ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { changes, ...definition } = request.body
      const { plan } = await app.contentModel.updateComponent(request.params.uid, definition, { changes, dryRun: true })
      return { data: plan }
    },
  )

  app.put(
    '/components/:uid',
    {
      config: { access: { subject: 'content-types', action: 'update' } },
      schema: {
        tags: ['content model'],
        summary: 'Change a component: its whole new definition, applied to every entry that holds it',
        description: `${planned} Blocked, the answer is 409 with the plan in \`details\`. A component cannot come to contain itself (400).`,
        params: ComponentParams,
        body: ComponentChangeSchema,
        response: {
          200: Type.Object({ data: Component, meta: Type.Object({ plan: Plan }) }),
          ...errorResponses(400, 404, 409),
        },
      },
    },
    async (request) => {
      const { changes, ...definition } = request.body
      const options = { changes, actor: actorOf(request.principal) }
      const { component, plan } = await app.contentModel.updateComponent(request.params.uid, definition, options)
      return { data: component, meta: { plan } }
    },
  )

  app.delete(
    '/components/:uid',
    {
      config: { access: { subject: 'content-types', action: 'delete' } },
      schema: {
        tags: ['content model'],
        summary: 'Delete a component',
        description: 'Refused (409, `details.usedBy`) while a content type or a component uses it.',
        params: ComponentParams,
        response: { 204: { type: 'null' }, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      await app.contentModel.removeComponent(request.params.uid, actorOf(request.principal))
      return reply.status(204).send(null)
    },
  )
}

export default contentModel
