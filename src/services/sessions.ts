import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { InvalidCredentialsError, InvalidTokenError } from '../errors.js'
import type { Prisma } from '../generated/prisma/client.js'
import { hashOpaqueToken, newOpaqueToken } from './opaque-tokens.js'
import { dummyPasswordHash, verifyPassword } from './passwords.js'
import { normalizeEmail, userSelect } from './users.js'

/**
 * Sign-in sessions. A login opens a session with a refresh token; each refresh replaces the
 * token (rotation). A used token presented again means it was copied: the whole session is
 * revoked, which also ends its access tokens (checked on every request).
 */
function createSessions(app: FastifyInstance) {
  const { prisma, config } = app

  async function newRefreshToken(tx: Prisma.TransactionClient, sessionId: string) {
    const { value, hash } = newOpaqueToken('gdr_')
    const expiresAt = new Date(Date.now() + config.GUDANG_REFRESH_TOKEN_TTL * 1000)
    await tx.refreshToken.create({ data: { sessionId, tokenHash: hash, expiresAt } })
    return { refreshToken: value, refreshTokenExpiresAt: expiresAt }
  }

  return {
    /** A wrong email and a wrong password answer alike, after the same work. */
    async login(email: string, password: string) {
      const user = await prisma.user.findUnique({
        where: { email: normalizeEmail(email) },
        select: { ...userSelect, passwordHash: true },
      })
      const valid = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()))
      if (user === null || user.passwordHash === null || !valid || !user.isActive) throw new InvalidCredentialsError()
      const { passwordHash, ...profile } = user
      return prisma.$transaction(async (tx) => {
        const session = await tx.session.create({ data: { userId: user.id }, select: { id: true } })
        return { user: profile, sessionId: session.id, ...(await newRefreshToken(tx, session.id)) }
      })
    },

    async refresh(refreshToken: string) {
      const result = await prisma.$transaction(async (tx) => {
        const token = await tx.refreshToken.findUnique({
          where: { tokenHash: hashOpaqueToken(refreshToken) },
          select: {
            id: true,
            expiresAt: true,
            session: { select: { id: true, revokedAt: true, user: { select: userSelect } } },
          },
        })
        if (token === null || token.session.revokedAt !== null || !token.session.user.isActive) {
          throw new InvalidTokenError('unknown or revoked refresh token')
        }
        if (token.expiresAt <= new Date()) throw new InvalidTokenError('the refresh token has expired')
        const { session } = token
        // Marking it used is conditional, so of two concurrent refreshes with one token only
        // one succeeds; the other is a reuse.
        const { count } = await tx.refreshToken.updateMany({
          where: { id: token.id, usedAt: null },
          data: { usedAt: new Date() },
        })
        if (count === 0) return { reused: true, sessionId: session.id } as const
        await tx.refreshToken.deleteMany({ where: { sessionId: session.id, expiresAt: { lt: new Date() } } })
        return { reused: false, user: session.user, sessionId: session.id, ...(await newRefreshToken(tx, session.id)) }
      })
      if (result.reused) {
        // Outside the transaction above: the revocation must stay although the request fails.
        await this.revoke(result.sessionId)
        throw new InvalidTokenError('the refresh token was already used; the session is revoked')
      }
      return result
    },

    async revoke(sessionId: string): Promise<void> {
      await prisma.session.updateMany({ where: { id: sessionId, revokedAt: null }, data: { revokedAt: new Date() } })
    },

    /** Ends the session of a refresh token; an unknown token is no error (RFC 7009). */
    async logout(refreshToken: string): Promise<void> {
      const token = await prisma.refreshToken.findUnique({
        where: { tokenHash: hashOpaqueToken(refreshToken) },
        select: { sessionId: true },
      })
      if (token !== null) await this.revoke(token.sessionId)
    },
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    sessions: ReturnType<typeof createSessions>
  }
}

async function sessionsPlugin(app: FastifyInstance): Promise<void> {
  app.decorate('sessions', createSessions(app))
  // Made before the first login, which would otherwise take longer for an unknown email.
  app.addHook('onReady', async () => {
    await dummyPasswordHash()
  })
}

export default fp(sessionsPlugin, { name: 'sessions', dependencies: ['prisma'] })
