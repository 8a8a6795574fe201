import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyServerOptions } from 'fastify'
import qs from 'qs'
import apiTokenRoutes from '../plugins/api-tokens/index.js'
import assetRoutes from '../plugins/assets/index.js'
import auditLogRoutes from '../plugins/audit-log/index.js'
import authRoutes from '../plugins/auth/index.js'
import contentModelRoutes from '../plugins/content-model/index.js'
import deliveryRoutes from '../plugins/delivery/index.js'
import entryRoutes from '../plugins/entries/index.js'
import localeRoutes from '../plugins/locales/index.js'
import mediaRoutes from '../plugins/media/index.js'
import healthRoutes from '../plugins/health/index.js'
import roleRoutes from '../plugins/roles/index.js'
import syncRoutes from '../plugins/sync/index.js'
import userRoutes from '../plugins/users/index.js'
import webhookRoutes from '../plugins/webhooks/index.js'
import { type Config, trustProxy } from './config.js'
import cors from './infra/cors.js'
import errorHandler, { sendError } from './infra/error-handler.js'
import helmet from './infra/helmet.js'
import jwt from './infra/jwt.js'
import multipart from './infra/multipart.js'
import prisma from './infra/prisma.js'
import rateLimit from './infra/rate-limit.js'
import swagger from './infra/swagger.js'
import { ApiTokenSchema } from './schemas/api-tokens.js'
import { SessionTokensSchema } from './schemas/auth.js'
import { ComponentSchema, ContentTypeSchema, PlanSchema } from './schemas/content-model.js'
import { DeliveryEntrySchema } from './schemas/delivery.js'
import { EntrySchema } from './schemas/entries.js'
import { LocaleSchema } from './schemas/locales.js'
import { DeliveredMediaSchema, MediaSchema } from './schemas/media.js'
import { RoleSchema } from './schemas/roles.js'
import { UserSchema } from './schemas/users.js'
import { WebhookSchema } from './schemas/webhooks.js'
import accessControl from './services/access-control.js'
import apiTokens from './services/api-tokens.js'
import auditLog from './services/audit.js'
import contentModel from './services/content-model.js'
import delivery from './services/delivery.js'
import entries from './services/entries.js'
import locales from './services/locales.js'
import media from './services/media.js'
import scheduler from './services/scheduler.js'
import healthService from './services/health.js'
import images from './services/images.js'
import readCache from './services/read-cache.js'
import roles from './services/roles.js'
import sessions from './services/sessions.js'
import storage from './services/storage.js'
import sync from './services/sync.js'
import users from './services/users.js'
import webhooks from './services/webhooks.js'

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
    trustProxy: trustProxy(config.GUDANG_TRUST_PROXY),
    // Unknown properties are rejected by the schemas, not silently dropped; every failing
    // field is reported.
    ajv: { customOptions: { removeAdditional: false, allErrors: true } },
    // Errors found before routing (a malformed URL) get the error body too.
    frameworkErrors: sendError,
    // Applying migrations at start-up may take longer than Fastify's 10 s default.
    pluginTimeout: 0,
    // Nested parameters (`filters[title][$eq]=…`), as the delivery API's queries need them.
    routerOptions: {
      querystringParser: (query) => qs.parse(query, { depth: 8, arrayLimit: 100, parameterLimit: 500 }),
    },
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

  // Shared response schemas: referenced by name and listed in the OpenAPI components.
  const shared = [
    UserSchema, SessionTokensSchema, RoleSchema, ApiTokenSchema,
    ContentTypeSchema, ComponentSchema, PlanSchema, EntrySchema, LocaleSchema, DeliveryEntrySchema, MediaSchema,
    DeliveredMediaSchema, WebhookSchema,
  ]
  for (const schema of shared) app.addSchema(schema)

  app.register(errorHandler)
  app.register(helmet)
  app.register(cors)
  app.register(swagger)
  app.register(prisma)
  app.register(jwt)
  app.register(rateLimit)
  app.register(multipart)

  app.register(healthService)
  app.register(readCache)
  app.register(accessControl)
  app.register(users)
  app.register(sessions)
  app.register(roles)
  app.register(apiTokens)
  app.register(auditLog)
  app.register(contentModel)
  app.register(entries)
  app.register(storage)
  app.register(images)
  app.register(media)
  app.register(locales)
  app.register(scheduler)
  app.register(delivery)
  app.register(sync)
  app.register(webhooks)

  app.register(healthRoutes, { prefix: '/health' })
  app.register(authRoutes, { prefix: '/auth' })
  app.register(userRoutes, { prefix: '/api/admin/users' })
  app.register(roleRoutes, { prefix: '/api/admin/roles' })
  app.register(apiTokenRoutes, { prefix: '/api/admin/tokens' })
  app.register(contentModelRoutes, { prefix: '/api/admin' })
  app.register(entryRoutes, { prefix: '/api/admin' })
  app.register(localeRoutes, { prefix: '/api/admin/locales' })
  app.register(auditLogRoutes, { prefix: '/api/admin/audit-log' })
  app.register(deliveryRoutes, { prefix: '/api/content' })
  app.register(syncRoutes, { prefix: '/api/sync' })
  app.register(mediaRoutes, { prefix: '/api/admin/media' })
  app.register(assetRoutes, { prefix: '/assets' })
  app.register(webhookRoutes, { prefix: '/api/admin/webhooks' })

  return app
}

export type App = ReturnType<typeof buildApp>
