import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { DateTime, Page, StrictObject, Uuid } from '../../src/schemas/common.js'

const AuditEventSchema = Type.Object({
  id: Type.String(),
  action: Type.String({ examples: ['entry.publish', 'content-type.update'] }),
  subject: Type.String({ examples: ['content:article', 'content-types'] }),
  userId: Type.Union([Type.String(), Type.Null()]),
  tokenId: Type.Union([Type.String(), Type.Null()]),
  details: Type.Unknown({ description: 'What changed: for an entry its document id, locale, version and fields' }),
  createdAt: DateTime,
})

const AuditQuerySchema = StrictObject({
  page: Type.Integer({ minimum: 1, default: 1 }),
  pageSize: Type.Integer({ minimum: 1, maximum: 100, default: 25 }),
  action: Type.Optional(Type.String({ maxLength: 100 })),
  subject: Type.Optional(Type.String({ maxLength: 200 })),
  userId: Type.Optional(Uuid),
})

/** The audit log (subject `settings`, read): who changed what, when, newest first. */
const auditLog: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/',
    {
      config: { access: { subject: 'settings', action: 'read' } },
      schema: {
        tags: ['audit log'],
        summary: 'Read the audit log, newest first',
        description: 'Every change of entries and of the content model: `action`, `subject`, who (`userId` or '
          + '`tokenId`; neither for the server itself, such as the scheduler) and `details`.',
        querystring: AuditQuerySchema,
        response: { 200: Page(AuditEventSchema) },
      },
    },
    async (request) => {
      const { page, pageSize } = request.query
      const { rows, total } = await app.auditLog.list(request.query)
      return { data: rows, meta: { page, pageSize, total } }
    },
  )
}

export default auditLog
