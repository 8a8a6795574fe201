import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Prisma } from '../generated/prisma/client.js'
import type { Principal } from './access-control.js'
import { enqueue } from './webhooks.js'

/** Who made a change: a user, or an API token (neither: the server itself, e.g. the scheduler). */
export interface Actor {
  userId?: string
  tokenId?: string
}

export function actorOf(principal: Principal): Actor {
  if (principal.kind === 'user') return { userId: principal.userId }
  return principal.kind === 'token' ? { tokenId: principal.tokenId } : {}
}

/** One change for the audit log: `entry.publish`, `content-type.update` … on a subject. */
export interface AuditRecord {
  action: string
  subject: string
  actor: Actor
  details: Prisma.InputJsonObject
  /** What the change leaves (an entry's data): sent to webhooks, not kept in the audit log. */
  content?: Prisma.InputJsonValue
}

/**
 * Records a change in the transaction that makes it: no change without its record, and no
 * record without it. The same goes for its webhook event, written to the outbox.
 */
export async function audit(tx: Prisma.TransactionClient, record: AuditRecord): Promise<void> {
  const { action, subject, actor, details } = record
  await tx.auditEvent.create({ data: { action, subject, userId: actor.userId, tokenId: actor.tokenId, details } })
  await enqueue(tx, record)
}

/** Reading the audit log, newest first. */
function createAuditLog(app: FastifyInstance) {
  return {
    async list(query: { page: number, pageSize: number, action?: string, subject?: string, userId?: string }) {
      const where = {
        ...(query.action === undefined ? {} : { action: query.action }),
        ...(query.subject === undefined ? {} : { subject: query.subject }),
        ...(query.userId === undefined ? {} : { userId: query.userId }),
      }
      const [rows, total] = await app.prisma.$transaction([
        app.prisma.auditEvent.findMany({
          where,
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
          skip: (query.page - 1) * query.pageSize,
          take: query.pageSize,
        }),
        app.prisma.auditEvent.count({ where }),
      ])
      return { rows, total }
    },
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    auditLog: ReturnType<typeof createAuditLog>
  }
}

async function auditPlugin(app: FastifyInstance): Promise<void> {
  app.decorate('auditLog', createAuditLog(app))
}

export default fp(auditPlugin, { name: 'audit', dependencies: ['prisma'] })
