import etag from '@fastify/etag'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { Type } from 'typebox'
import { ForbiddenError, UnauthenticatedError } from '../../src/errors.js'
import { Item } from '../../src/schemas/common.js'
import {
  DeliveryEntryParamsSchema,
  DeliveryListQuerySchema,
  DeliveryParamsSchema,
  DeliveryReadQuerySchema,
} from '../../src/schemas/delivery.js'
import { errorResponses } from '../../src/schemas/error.js'

const Entry = Type.Ref('DeliveredEntry')

const ListSchema = Type.Union([
  Type.Object({
    data: Type.Array(Entry),
    meta: Type.Object({
      page: Type.Optional(Type.Integer()),
      pageSize: Type.Integer(),
      total: Type.Optional(Type.Integer({ description: 'Paging by number only' })),
      pageCount: Type.Optional(Type.Integer()),
      nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `after` for the next page; null on the last' }),
    }),
  }),
  Item(Entry),
], { description: 'A collection type: a page of entries. A single type: its one entry.' })

/**
 * The delivery API (`/api/content/:apiId`): published content for websites and site builds,
 * drafts with `status=draft` for callers who may read them. Answers carry an ETag (a 304 for
 * `If-None-Match`), a Cache-Control for CDNs and browsers, and the ids of every document in them
 * (Surrogate-Key, Cache-Tag), so that a CDN can purge what a publish changed.
 */
const delivery: FastifyPluginAsyncTypebox = async (app) => {
  const { config } = app
  const tags = ['delivery']
  const read = { access: { subject: 'content:{apiId}', action: 'read' as const } }

  await app.register(etag)

  app.addHook('preHandler', async (request, reply) => {
    if ((request.query as { status?: string }).status !== 'draft' || request.principal.drafts) return
    if (request.principal.kind === 'anonymous') {
      reply.header('www-authenticate', 'Bearer')
      throw new UnauthenticatedError()
    }
    throw new ForbiddenError('Drafts are for preview and full tokens and for editors: this token reads published content')
  })

  /** How long caches may keep the answer, and the keys to purge it by. */
  function cacheHeaders(reply: FastifyReply, status: string, apiId: string, documents: Set<string>) {
    const { principal } = reply.request
    const published = `max-age=${config.GUDANG_CACHE_MAX_AGE}`
    const shared = `s-maxage=${config.GUDANG_CACHE_S_MAXAGE}, stale-while-revalidate=${config.GUDANG_CACHE_STALE_WHILE_REVALIDATE}`
    // What a token or an editor reads may differ from what anyone may read: not for shared caches.
    const policy = status === 'draft'
      ? 'private, no-store'
      : principal.kind === 'anonymous' ? `public, ${published}, ${shared}` : `private, ${published}`
    const keys = [`content:${apiId}`, ...documents]
    reply.header('cache-control', policy).header('vary', 'Authorization')
      .header('surrogate-key', keys.join(' ')).header('cache-tag', keys.join(','))
  }

  app.get(
    '/:apiId',
    {
      config: read,
      schema: {
        tags,
        summary: 'Query published entries (a single type: its entry)',
        description: 'Filters, sorting, paging by number or cursor, field selection, population, locales with '
          + 'fallbacks and full-text search: see the README ("Delivery API") for the syntax. Unknown fields or '
          + 'operators and bad values answer 400 with the valid choices.',
        params: DeliveryParamsSchema,
        querystring: DeliveryListQuerySchema,
        response: { 200: ListSchema, ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const { apiId } = request.params
      const { documents, ...answer } = await app.delivery.list(request.principal, apiId, request.query)
      cacheHeaders(reply, request.query.status, apiId, documents)
      return answer
    },
  )

  app.get(
    '/:apiId/:documentId',
    {
      config: read,
      schema: {
        tags,
        summary: 'Read a published entry',
        params: DeliveryEntryParamsSchema,
        querystring: DeliveryReadQuerySchema,
        response: { 200: Item(Entry), ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const { apiId, documentId } = request.params
      const { documents, data } = await app.delivery.one(request.principal, apiId, documentId, request.query)
      cacheHeaders(reply, request.query.status, apiId, documents)
      return { data }
    },
  )
}

export default delivery
