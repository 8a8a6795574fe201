import helmet from '@fastify/helmet'
import fp from 'fastify-plugin'

/** Security headers on every answer; /docs sets its own content security policy. */
export default fp(
  async (app) => {
    await app.register(helmet)
  },
  { name: 'helmet' },
)
