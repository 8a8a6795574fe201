import type { FastifyReply, FastifyRequest } from 'fastify'

/**
 * An onSend hook for answers no cache may keep: probes, tokens, credentials.
 * `app.addHook('onSend', noStore)` in the plugin whose routes answer them.
 */
export async function noStore(_request: FastifyRequest, reply: FastifyReply): Promise<void> {
  reply.header('cache-control', 'no-store')
}
