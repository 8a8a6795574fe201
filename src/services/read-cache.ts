import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * What every delivery request reads and hardly ever changes (the content model, the Public
 * role's permissions), kept in memory for GUDANG_READ_CACHE_TTL milliseconds. A write request
 * that succeeds empties it before its answer is sent, so this instance sees its own changes at
 * once; other instances (and the CLI, the scheduler) within the TTL.
 */
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

function createReadCache(ttl: number) {
  const entries = new Map<string, { value: Promise<unknown>, until: number }>()
  return {
    async get<T>(key: string, load: () => Promise<T>): Promise<T> {
      const now = Date.now()
      const kept = entries.get(key)
      if (kept !== undefined && kept.until > now) return kept.value as Promise<T>
      const value = load()
      if (ttl > 0) {
        entries.set(key, { value, until: now + ttl })
        // A failed load is not kept.
        value.catch(() => entries.delete(key))
      }
      return value
    },
    clear(): void {
      entries.clear()
    },
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    readCache: ReturnType<typeof createReadCache>
  }
}

async function readCachePlugin(app: FastifyInstance): Promise<void> {
  const cache = createReadCache(app.config.GUDANG_READ_CACHE_TTL)
  app.decorate('readCache', cache)
  app.addHook('onSend', async (request, reply) => {
    if (WRITES.has(request.method) && reply.statusCode < 400) cache.clear()
  })
}

export default fp(readCachePlugin, { name: 'read-cache' })
