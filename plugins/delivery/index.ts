import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { LRUCache } from 'lru-cache'
import { Type } from 'typebox'
import { ForbiddenError, UnauthenticatedError } from '../../src/errors.js'
import { Item } from '../../src/schemas/common.js'
import {
  DeliveryEntryParamsSchema,
  DeliveryListQuerySchema,
  DeliveryParamsSchema,
  DeliveryReadQuerySchema,
} from '../../src/schemas/delivery.js'
import type { QueryContext } from '../../src/services/delivery-query.js'
import { errorResponses } from '../../src/schemas/error.js'

const Entry = Type.Ref('DeliveredEntry')
const NotModified = Type.Null({ description: 'Not modified: the ETag sent in If-None-Match is current' })

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
 * `If-None-Match`, answered before any query), a Cache-Control for CDNs and browsers, and the
 * ids of every document in them (Surrogate-Key, Cache-Tag), so that a CDN can purge what a
 * publish changed.
 */
const delivery: FastifyPluginAsyncTypebox = async (app) => {
  const { config } = app
  const tags = ['delivery']
  const read = { access: { subject: 'content:{apiId}', action: 'read' as const } }

  app.addHook('preHandler', async (request, reply) => {
    if ((request.query as { status?: string }).status !== 'draft' || request.principal.drafts) return
    if (request.principal.kind === 'anonymous') {
      reply.header('www-authenticate', 'Bearer')
      throw new UnauthenticatedError()
    }
    throw new ForbiddenError('Drafts are for preview and full tokens and for editors: this token reads published content')
  })

  app.addHook('onSend', async (_request, reply, payload) => {
    // An error is not content: nothing keeps it, and its ETag would name a version it is not.
    if (reply.statusCode >= 400) reply.removeHeader('etag').header('cache-control', 'no-store')
    // A 304 has no body, nor a length or type of one.
    if (reply.statusCode === 304) {
      reply.removeHeader('content-type')
      return null
    }
    return payload
  })

  /**
   * Published answers as they were sent, by ETag: an ETag names everything an answer depends
   * on (the content's last change, the model, the caller, the URL), so a kept answer with the
   * ETag of a request is that request's answer.
   */
  const kept = config.GUDANG_RESPONSE_CACHE_SIZE === 0
    ? undefined
    : new LRUCache<string, { payload: string, keys: string[] }>({
        maxSize: config.GUDANG_RESPONSE_CACHE_SIZE,
        sizeCalculation: (answer) => answer.payload.length + 1,
      })
  /** The answers being made that are to be kept once sent, with their ETags and purge keys. */
  const keeping = new WeakMap<FastifyRequest, { etag: string, keys: string[] }>()

  app.addHook('onSend', async (request, reply, payload) => {
    const keep = keeping.get(request)
    if (kept !== undefined && keep !== undefined && reply.statusCode === 200 && typeof payload === 'string') {
      kept.set(keep.etag, { payload, keys: keep.keys })
    }
  })

  /**
   * Answers a request: a 304 if the caller's copy is current (`If-None-Match`), a kept answer,
   * or a new one from `make`; with how long caches may keep it, its ETag and purge keys.
   */
  async function answer(
    request: FastifyRequest,
    reply: FastifyReply,
    query: { status: QueryContext['status'] },
    make: () => Promise<{ body: unknown, documents: Set<string> }>,
  ) {
    const { status } = query
    const { apiId } = request.params as { apiId: string }
    const { principal } = request
    const published = `max-age=${config.GUDANG_CACHE_MAX_AGE}`
    const shared = `s-maxage=${config.GUDANG_CACHE_S_MAXAGE}, stale-while-revalidate=${config.GUDANG_CACHE_STALE_WHILE_REVALIDATE}`
    // What a token or an editor reads may differ from what anyone may read: not for shared caches.
    const policy = status === 'draft'
      ? 'private, no-store'
      : principal.kind === 'anonymous' ? `public, ${published}, ${shared}` : `private, ${published}`
    const etag = await app.delivery.etag(principal, request.url, status)
    // Added to what varies already (Origin, with a list of CORS origins).
    const vary = reply.getHeader('vary')
    reply.header('cache-control', policy).header('vary', vary === undefined ? 'Authorization' : `${String(vary)}, Authorization`)
    reply.header('etag', etag)
    const held = request.headers['if-none-match']
    // Weak comparison, as for GET: W/"x" and "x" are the same.
    const weak = (tag: string) => tag.trim().replace(/^W\//, '')
    if (held !== undefined && held.split(',').some((tag) => weak(tag) === weak(etag))) {
      return reply.code(304).send(null)
    }
    const found = status === 'published' ? kept?.get(etag) : undefined
    if (found !== undefined) {
      purgeKeys(reply, found.keys)
      return reply.type('application/json; charset=utf-8').send(found.payload)
    }
    const { body, documents } = await make()
    // The keys a CDN can purge the answer by: its type, and every document in it.
    const keys = [`content:${apiId}`, ...documents]
    purgeKeys(reply, keys)
    if (status === 'published') keeping.set(request, { etag, keys })
    return body
  }

  function purgeKeys(reply: FastifyReply, keys: string[]) {
    reply.header('surrogate-key', keys.join(' ')).header('cache-tag', keys.join(','))
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
        response: { 200: ListSchema, 304: NotModified, ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => answer(request, reply, request.query, async () => {
      const { documents, ...body } = await app.delivery.list(request.principal, request.params.apiId, request.query)
      return { body, documents }
    }),
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
        response: { 200: Item(Entry), 304: NotModified, ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => answer(request, reply, request.query, async () => {
      const { apiId, documentId } = request.params
      const { documents, data } = await app.delivery.one(request.principal, apiId, documentId, request.query)
      return { body: { data }, documents }
    }),
  )
}

export default delivery
