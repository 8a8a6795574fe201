import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { SyncQuerySchema } from '../../src/schemas/delivery.js'
import { errorResponses } from '../../src/schemas/error.js'
import { noStore } from '../../src/infra/no-store.js'

const SyncItemSchema = Type.Object({
  action: Type.Enum(['upsert', 'delete'], { description: 'upsert: published or changed; delete: unpublished or deleted' }),
  contentType: Type.String(),
  documentId: Type.String(),
  locale: Type.String(),
  entry: Type.Optional(Type.Ref('DeliveredEntry')),
})

/** The delta-sync feed (`/api/sync`) for site generators: everything once, then only what changed. */
const sync: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onSend', noStore)

  app.get(
    '/',
    {
      config: { access: 'content-reader' },
      schema: {
        tags: ['delivery'],
        summary: 'Sync: every published entry, then only what changed',
        description: 'Without a token: every published entry of the types you may read (`type`, `locale` narrow it), '
          + 'page by page (`meta.nextPageToken`), ending with `meta.syncToken`. With a sync token: what changed since '
          + '(`upsert` with the entry as it is now, `delete` for unpublished or deleted ones), each document and locale once, '
          + 'then a new sync token. Keep the token between builds.',
        querystring: SyncQuerySchema,
        response: {
          200: Type.Object({
            data: Type.Array(SyncItemSchema),
            meta: Type.Object({ nextPageToken: Type.Optional(Type.String()), syncToken: Type.Optional(Type.String()) }),
          }),
          ...errorResponses(400),
        },
      },
    },
    async (request) => app.sync.page(request.principal, request.query),
  )
}

export default sync
