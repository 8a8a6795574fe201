import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { errorResponses } from '../../src/schemas/error.js'
import { AssetParamsSchema, AssetQuerySchema } from '../../src/schemas/media.js'

/** A year: a URL whose `v` names the version never changes what it gives. */
const IMMUTABLE = 'public, max-age=31536000, immutable'

/** A download under its name: RFC 8187's encoding, and a plain ASCII name for older clients. */
function contentDisposition(name: string): string {
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_')
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`
}

/** Whether `If-None-Match` names the ETag (or `*`). */
function matches(header: string | undefined, etag: string): boolean {
  return header !== undefined && header.split(',').some((tag) => ['*', etag, `W/${etag}`].includes(tag.trim()))
}

/**
 * Files and image renditions (`/assets/:id`), for browsers and CDNs. Public: the id is the
 * capability, as with a CDN's asset URL. Images are shown; every other file is a download that
 * may run nothing, so an uploaded HTML or SVG file cannot act from the API's origin.
 */
const assets: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onSend', async (_request, reply) => {
    if (reply.statusCode >= 400) reply.header('cache-control', 'no-store')
  })

  app.get(
    '/:id',
    {
      config: { access: 'public' },
      schema: {
        tags: ['media'],
        summary: 'A media item\'s file, or a rendition of an image',
        description: 'Without parameters, the file as served: images upright, without their metadata (EXIF, location). '
          + 'With `w`, `h`, `fit`, `format` or `q`, a rendition, made on the first request and stored; sizes only from '
          + 'GUDANG_MEDIA_WIDTHS. `format=auto` picks AVIF or WebP from the Accept header (`Vary: Accept`). '
          + 'A strong ETag answers `If-None-Match` with 304; with the `v` of the item\'s `url` the answer is cached for a '
          + 'year (`immutable`), without it it is revalidated.',
        params: AssetParamsSchema,
        querystring: AssetQuerySchema,
        produces: ['image/*', 'application/octet-stream'],
        response: {
          200: Type.Unsafe({ type: 'string', format: 'binary', description: 'The bytes' }),
          304: Type.Null(),
          ...errorResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const asset = await app.media.asset(request.params.id, request.query, request.headers.accept)
      reply
        .header('etag', asset.etag)
        .header('cache-control', asset.current ? IMMUTABLE : 'public, no-cache')
        // Helmet's default (same-origin) would keep sites on other origins from showing images.
        .header('cross-origin-resource-policy', 'cross-origin')
      if (asset.negotiated) reply.header('vary', 'Accept')
      if (asset.download) {
        reply
          .header('content-disposition', contentDisposition(asset.name))
          .header('content-security-policy', 'default-src \'none\'; sandbox')
      }
      if (matches(request.headers['if-none-match'], asset.etag)) {
        asset.body.destroy()
        return reply.status(304).send(null)
      }
      return reply.type(asset.type).header('content-length', asset.size).send(asset.body)
    },
  )
}

export default assets
