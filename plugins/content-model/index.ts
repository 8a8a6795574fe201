import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { type TSchema, Type } from 'typebox'
import { Item } from '../../src/schemas/common.js'
import {
  ApiIdSchema,
  ComponentDefinitionSchema,
  ComponentUidSchema,
  ContentTypeDefinitionSchema,
  ContentTypeVersionSchema,
  NewComponentSchema,
  NewContentTypeSchema,
  ValidationQuerySchema,
  ValidationResultSchema,
} from '../../src/schemas/content-model.js'
import { errorResponses } from '../../src/schemas/error.js'
import type { Principal } from '../../src/services/access-control.js'

const TypeParams = Type.Object({ apiId: ApiIdSchema })
const ComponentParams = Type.Object({ uid: ComponentUidSchema })

function userId(principal: Principal): string | undefined {
  return principal.kind === 'user' ? principal.userId : undefined
}

/**
 * The content model (subject `content-types` to change it): content types and components,
 * defined at runtime. Whoever may read some content may read the model: an admin UI and a
 * site generator both need it.
 */
const contentModel: FastifyPluginAsyncTypebox = async (app) => {
  const ContentType = Type.Ref('ContentType')
  const Component = Type.Ref('Component')
  const List = <T extends TSchema>(item: T) =>
    Type.Object({ data: Type.Array(item), meta: Type.Object({ total: Type.Integer() }) })

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
      const created = await app.contentModel.createType(request.body, userId(request.principal))
      return reply.status(201).send({ data: created })
    },
  )

  app.put(
    '/content-types/:apiId',
    {
      config: { access: { subject: 'content-types', action: 'update' } },
      schema: {
        tags: ['content model'],
        summary: 'Replace a content type\'s definition',
        description: 'The version goes up; the previous definition stays in the history. The API id does not change.',
        params: TypeParams,
        body: ContentTypeDefinitionSchema,
        response: { 200: Item(ContentType), ...errorResponses(400, 404) },
      },
    },
    async (request) => ({
      data: await app.contentModel.updateType(request.params.apiId, request.body, userId(request.principal)),
    }),
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
      await app.contentModel.removeType(request.params.apiId)
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
    async (request, reply) => reply.status(201).send({ data: await app.contentModel.createComponent(request.body) }),
  )

  app.put(
    '/components/:uid',
    {
      config: { access: { subject: 'content-types', action: 'update' } },
      schema: {
        tags: ['content model'],
        summary: 'Replace a component\'s definition',
        description: 'A component cannot come to contain itself (400).',
        params: ComponentParams,
        body: ComponentDefinitionSchema,
        response: { 200: Item(Component), ...errorResponses(400, 404) },
      },
    },
    async (request) => ({ data: await app.contentModel.updateComponent(request.params.uid, request.body) }),
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
      await app.contentModel.removeComponent(request.params.uid)
      return reply.status(204).send(null)
    },
  )
}

export default contentModel
