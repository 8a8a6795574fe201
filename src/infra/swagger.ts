import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { version } from '../package.js'

/**
 * The OpenAPI 3 document, generated from the route schemas, at /docs/json and an interactive
 * page at /docs. Registered before the routes so it sees all of them.
 */
async function swaggerPlugin(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Gudang',
        description: 'A headless CMS: content types, entries and media over HTTP.',
        version,
      },
      tags: [
        { name: 'health', description: 'Liveness and readiness for load balancers and orchestrators' },
        { name: 'auth', description: 'Sign in, refresh, sign out; the signed-in user' },
        { name: 'users', description: 'Accounts of the admin UI (administrators)' },
        { name: 'roles', description: 'Roles and their permissions' },
        { name: 'tokens', description: 'API tokens for site builds and websites' },
        { name: 'content model', description: 'Content types and components' },
      ],
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            description: 'An access token from POST /auth/login (a JWT) or an API token (gdt_…). '
              + 'Each operation names the permission it needs; without a token a request has the Public role\'s.',
          },
        },
      },
    },
    // Shared schemas (added with an $id) appear under components.schemas by that name.
    refResolver: { buildLocalReference: (json) => String(json.$id) },
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    // Without TLS (a server reached by its address over plain HTTP) the browser would ask for
    // the page's scripts over HTTPS and show a blank page.
    transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, ''),
  })
}

export default fp(swaggerPlugin, { name: 'swagger', dependencies: ['error-handler'] })
