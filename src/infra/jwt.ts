import { randomBytes } from 'node:crypto'
import fastifyJwt from '@fastify/jwt'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** What Gudang puts in an access token: the user and the session it was issued in. */
export interface AccessTokenClaims {
  sub: string
  sid: string
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessTokenClaims
    user: AccessTokenClaims
  }
}

/**
 * Access tokens are HS256 JWTs (@fastify/jwt); no other algorithm is accepted, `none`
 * included. The key is GUDANG_JWT_SECRET or, unset, a random one that the first instance
 * stores in the database for all. It is read on first use: the app starts (and reports
 * pending migrations on /health/ready) before the table exists.
 */
async function jwtPlugin(app: FastifyInstance): Promise<void> {
  const configured = app.config.GUDANG_JWT_SECRET
  let stored: Promise<string> | undefined
  async function storedSecret(): Promise<string> {
    const name = 'jwt'
    await app.prisma.systemSecret.createMany({
      data: [{ name, value: randomBytes(48).toString('base64url') }],
      skipDuplicates: true,
    })
    const secret = await app.prisma.systemSecret.findUniqueOrThrow({ where: { name } })
    return secret.value
  }
  await app.register(fastifyJwt, {
    secret: async () => {
      if (configured !== undefined) return configured
      // A failed read is tried again on the next request.
      stored ??= storedSecret().catch((error: unknown) => {
        stored = undefined
        throw error
      })
      return stored
    },
    sign: { algorithm: 'HS256', expiresIn: app.config.GUDANG_ACCESS_TOKEN_TTL },
    verify: { algorithms: ['HS256'], requiredClaims: ['exp', 'sub', 'sid'] },
  })
}

export default fp(jwtPlugin, { name: 'jwt', dependencies: ['prisma'] })
