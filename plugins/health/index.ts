import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { noStore } from '../../src/infra/no-store.js'
import { NotReadyError, withDetails } from '../../src/errors.js'
import { errorResponses } from '../../src/schemas/error.js'
import { LivenessSchema, ReadinessSchema } from '../../src/schemas/health.js'

/** Liveness and readiness probes; public, cheap, and never cached. */
const health: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onSend', noStore)

  app.get(
    '/live',
    {
      config: { access: 'public' },
      schema: {
        tags: ['health'],
        summary: 'The process is up',
        response: { 200: LivenessSchema },
      },
    },
    async () => ({ status: 'ok' as const }),
  )

  app.get(
    '/ready',
    {
      config: { access: 'public' },
      schema: {
        tags: ['health'],
        summary: 'The database answers and every migration is applied',
        description: 'Answers 503 with the failing checks in `details` otherwise.',
        response: { 200: ReadinessSchema, ...errorResponses(503) },
      },
    },
    async () => {
      const { ready, checks, pendingMigrations } = await app.health.readiness()
      if (!ready) {
        throw withDetails(new NotReadyError('a dependency is failing'), { checks, pendingMigrations })
      }
      return { status: 'ok' as const, checks }
    },
  )
}

export default health
