import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * @fastify/rate-limit, applied only where a route asks for it (`app.rateLimit()`): login,
 * per account and per IP. Counters are kept in memory, per instance.
 */
async function rateLimitPlugin(app: FastifyInstance): Promise<void> {
  // Room for many accounts: an attacker cycling through made-up emails must not push a
  // real account's count out of the cache.
  await app.register(rateLimit, { global: false, cache: 100_000 })
}

export default fp(rateLimitPlugin, { name: 'rate-limit' })
