import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyServerOptions } from 'fastify'
import healthRoutes from '../plugins/health/index.js'
import type { Config } from './config.js'
import cors from './infra/cors.js'
import errorHandler, { sendError } from './infra/error-handler.js'
import helmet from './infra/helmet.js'
import prisma from './infra/prisma.js'
import swagger from './infra/swagger.js'
import healthService from './services/health.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
  }
}

export interface BuildOptions {
  /** Replaces the pino options built from LOG_LEVEL (tests pass a stream or `false`). */
  logger?: FastifyServerOptions['logger']
}

/** A client's X-Request-Id is kept when it is harmless in a log line; otherwise we make one. */
function requestId(request: IncomingMessage): string {
  const given = request.headers['x-request-id']
  return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID()
}

/**
 * Builds Gudang, ready for `listen()` (src/server.ts) or `inject()` (tests). It never listens.
 * The registration order is the start-up order: infrastructure, services, then routes.
 */
export function buildApp(config: Config, options: BuildOptions = {}) {
  const app = Fastify({
    logger: options.logger ?? { level: config.LOG_LEVEL },
    genReqId: requestId,
    bodyLimit: config.GUDANG_BODY_LIMIT,
    trustProxy: config.GUDANG_TRUST_PROXY,
    // Unknown properties are rejected by the schemas, not silently dropped; every failing
    // field is reported.
    ajv: { customOptions: { removeAdditional: false, allErrors: true } },
    // Errors found before routing (a malformed URL) get the error body too.
    frameworkErrors: sendError,
    // Applying migrations at start-up may take longer than Fastify's 10 s default.
    pluginTimeout: 0,
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.decorate('config', config)
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  // Once closing, answers end their connection: a keep-alive connection that is busy when
  // close() starts would otherwise hold the shutdown until its keep-alive timeout (72 s).
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close')
  })

  app.register(errorHandler)
  app.register(helmet)
  app.register(cors)
  app.register(swagger)
  app.register(prisma)

  app.register(healthService)

  app.register(healthRoutes, { prefix: '/health' })

  return app
}

export type App = ReturnType<typeof buildApp>
