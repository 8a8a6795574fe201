import cors from '@fastify/cors'
import fp from 'fastify-plugin'

/**
 * CORS for browsers that call Gudang from another origin (websites, an admin UI).
 * GUDANG_CORS_ORIGIN is `*` or a comma-separated list of origins.
 */
export default fp(
  async (app) => {
    const origins = app.config.GUDANG_CORS_ORIGIN.split(',').map((origin) => origin.trim())
    await app.register(cors, {
      origin: origins.includes('*') ? '*' : origins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      exposedHeaders: ['ETag', 'X-Request-Id'],
    })
  },
  { name: 'cors', decorators: { fastify: ['config'] } },
)
