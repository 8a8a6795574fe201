import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { version } from '../package.js'
import { ruleFor } from '../services/access-control.js'
import { contentSchemas } from '../services/content-openapi.js'

/** The routes that answer the document, as JSON and as YAML. */
const DOCUMENTS: ReadonlySet<string | undefined> = new Set(['/docs/json', '/docs/yaml'])

/**
 * The OpenAPI 3 document, generated from the route schemas, at /docs/json and an interactive
 * page at /docs. Registered before the routes so it sees all of them.
 *
 * The document also describes the content types' entry data (src/services/content-openapi.ts).
 * Those change at runtime, while @fastify/swagger builds its document once and keeps it: so each
 * request for the document reads the model (preHandler, which may wait for the database) and
 * answers a copy of the kept document with the model's schemas added (transformSpecification,
 * which may not wait). The kept document is never changed: a deleted type leaves no trace.
 */
async function swaggerPlugin(app: FastifyInstance): Promise<void> {
  /**
   * The document is public: it describes the content types anyone may read (the Public
   * role's), without their private fields, as the delivery API serves them.
   */
  async function publicModel() {
    const { permissions } = await app.prisma.role.findUniqueOrThrow({
      where: { key: 'public' },
      select: { permissions: { select: { subject: true, action: true, ownOnly: true, fields: true } } },
    })
    const model = await app.contentModel.export()
    const readable = (apiId: string) =>
      ruleFor(permissions, `content:${apiId}`, 'read') !== undefined || ruleFor(permissions, 'content-types', 'read') !== undefined
    return {
      components: model.components.map((c) => ({ ...c, fields: c.fields.filter((f) => f.private !== true) })),
      contentTypes: model.contentTypes
        .filter((t) => readable(t.apiId))
        .map((t) => ({ ...t, fields: t.fields.filter((f) => f.private !== true) })),
    }
  }

  const modelSchemas = new WeakMap<FastifyRequest, ReturnType<typeof contentSchemas>>()

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
        { name: 'entries', description: 'Entries for editors: drafts, publishing, versions, locales' },
        { name: 'locales', description: 'The locales content is written in' },
        { name: 'audit log', description: 'Who changed what, when' },
        { name: 'delivery', description: 'Published content for websites and site builds: queries, caching, delta sync' },
        { name: 'media', description: 'The media library, and files and image renditions at /assets' },
        { name: 'webhooks', description: 'Signed, retried calls to other services when content changes; the delivery log' },
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
    // A multipart body is read as a stream, not validated: a route describes it in
    // `x-multipart`, for the document only.
    transform: ({ schema, url }) => {
      const { 'x-multipart': form, ...rest } = { ...schema } as { 'x-multipart'?: unknown }
      return { schema: form === undefined ? rest : { ...rest, body: form }, url }
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
    uiHooks: {
      // `app.contentModel` is decorated after this plugin, before any request.
      preHandler: async (request) => {
        if (!DOCUMENTS.has(request.routeOptions.url)) return
        modelSchemas.set(request, contentSchemas(await publicModel()))
      },
    },
    // Only the path down to the changed object is copied: the rest is shared with the kept document.
    transformSpecificationClone: false,
    transformSpecification: (document, request) => ({
      ...document,
      components: {
        ...document.components,
        schemas: { ...document.components.schemas, ...modelSchemas.get(request) },
      },
    }),
  })
}

export default fp(swaggerPlugin, { name: 'swagger', dependencies: ['error-handler'] })
