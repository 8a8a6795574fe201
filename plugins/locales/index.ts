import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { Item, List } from '../../src/schemas/common.js'
import { errorResponses } from '../../src/schemas/error.js'
import { LocaleChangesSchema, LocaleParamsSchema, NewLocaleSchema } from '../../src/schemas/locales.js'

/**
 * The locales (subject `settings` to change them). Whoever may read some content may list
 * them: an admin UI and a site generator both need them.
 */
const locales: FastifyPluginAsyncTypebox = async (app) => {
  const Locale = Type.Ref('Locale')
  const tags = ['locales']

  app.get(
    '/',
    {
      config: { access: 'content-reader' },
      schema: {
        tags,
        summary: 'List the locales, the default first',
        response: { 200: List(Locale) },
      },
    },
    async () => {
      const data = await app.locales.list()
      return { data, meta: { total: data.length } }
    },
  )

  app.post(
    '/',
    {
      config: { access: { subject: 'settings', action: 'create' } },
      schema: {
        tags,
        summary: 'Add a locale',
        body: NewLocaleSchema,
        response: { 201: Item(Locale), ...errorResponses(400, 409) },
      },
    },
    async (request, reply) => reply.status(201).send({ data: await app.locales.create(request.body) }),
  )

  app.patch(
    '/:code',
    {
      config: { access: { subject: 'settings', action: 'update' } },
      schema: {
        tags,
        summary: 'Rename a locale, or make it the default',
        params: LocaleParamsSchema,
        body: LocaleChangesSchema,
        response: { 200: Item(Locale), ...errorResponses(400, 404) },
      },
    },
    async (request) => ({ data: await app.locales.update(request.params.code, request.body) }),
  )

  app.delete(
    '/:code',
    {
      config: { access: { subject: 'settings', action: 'delete' } },
      schema: {
        tags,
        summary: 'Delete a locale',
        description: 'Refused (409) for the default locale and for a locale entries are written in (`details.entries`).',
        params: LocaleParamsSchema,
        response: { 204: Type.Null(), ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      await app.locales.remove(request.params.code)
      return reply.status(204).send(null)
    },
  )
}

export default locales
