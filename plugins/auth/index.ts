import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { noStore } from '../../src/infra/no-store.js'
import { Type } from 'typebox'
import { LoginSchema, MeSchema, PasswordChangeSchema, RefreshTokenBodySchema } from '../../src/schemas/auth.js'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { InvalidCredentialsError, TooManyRequestsError, WrongPasswordError } from '../../src/errors.js'
import { Item } from '../../src/schemas/common.js'
import { errorResponses } from '../../src/schemas/error.js'
import { signedIn } from '../../src/services/access-control.js'
import { normalizeEmail } from '../../src/services/users.js'

/** Sign-in for the admin UI and scripts: login, refresh, logout, the signed-in user. */
const auth: FastifyPluginAsyncTypebox = async (app) => {
  const { config } = app
  const expiresIn = config.GUDANG_ACCESS_TOKEN_TTL
  const SessionTokens = Type.Ref('SessionTokens')

  app.addHook('onSend', noStore)

  const window = config.GUDANG_LOGIN_WINDOW * 1000

  /** The answer of login and refresh: a new access token beside the session's refresh token. */
  async function sessionTokens(reply: FastifyReply, session: Awaited<ReturnType<typeof app.sessions.login>>) {
    const { user, sessionId, refreshToken, refreshTokenExpiresAt } = session
    const accessToken = await reply.jwtSign({ sub: user.id, sid: sessionId })
    return { accessToken, tokenType: 'Bearer' as const, expiresIn, refreshToken, refreshTokenExpiresAt, user }
  }

  /**
   * Counts the failed password attempts on one account: `check` refuses once there were
   * GUDANG_LOGIN_MAX_ATTEMPTS in the window, `failed` counts one. Successes do not count, so a
   * busy script that signs in right is never locked out.
   */
  function failedAttempts(account: (request: FastifyRequest) => string) {
    const limiter = app.createRateLimit({
      max: config.GUDANG_LOGIN_MAX_ATTEMPTS,
      timeWindow: window,
      keyGenerator: account,
    })
    return {
      async check(request: FastifyRequest, reply: FastifyReply): Promise<void> {
        const limit = await limiter(request, { increment: false })
        if (!limit.isAllowed && limit.remaining === 0) {
          reply.header('retry-after', limit.ttlInSeconds)
          throw new TooManyRequestsError(`Too many failed attempts for this account; retry in ${limit.ttlInSeconds} s`)
        }
      },
      async failed(request: FastifyRequest): Promise<void> {
        await limiter(request)
      },
    }
  }
  const loginAttempts = failedAttempts((request) => `login:${normalizeEmail((request.body as { email: string }).email)}`)
  const passwordAttempts = failedAttempts((request) => `password:${signedIn(request.principal).userId}`)

  app.post(
    '/login',
    {
      config: { access: 'public' },
      // Every attempt from an IP counts, before the body is read.
      onRequest: app.rateLimit({ max: config.GUDANG_LOGIN_MAX_ATTEMPTS_PER_IP, timeWindow: window }),
      preHandler: loginAttempts.check,
      schema: {
        tags: ['auth'],
        summary: 'Sign in with email and password',
        description: 'Answers an access token and a refresh token. A wrong email and a wrong password answer alike. '
          + 'Limited to GUDANG_LOGIN_MAX_ATTEMPTS failed attempts per account and GUDANG_LOGIN_MAX_ATTEMPTS_PER_IP '
          + 'attempts per IP in GUDANG_LOGIN_WINDOW seconds (then 429).',
        body: LoginSchema,
        response: { 200: Item(SessionTokens), ...errorResponses(400, 401, 429) },
      },
    },
    async (request, reply) => {
      const session = await app.sessions
        .login(request.body.email, request.body.password)
        .catch(async (error: unknown) => {
          if (error instanceof InvalidCredentialsError) await loginAttempts.failed(request)
          throw error
        })
      return { data: await sessionTokens(reply, session) }
    },
  )

  app.post(
    '/refresh',
    {
      config: { access: 'public' },
      schema: {
        tags: ['auth'],
        summary: 'Exchange a refresh token for new tokens',
        description: 'The refresh token is used up. Presenting a used one again revokes its whole session.',
        body: RefreshTokenBodySchema,
        response: { 200: Item(SessionTokens), ...errorResponses(400, 401) },
      },
    },
    async (request, reply) => {
      const session = await app.sessions.refresh(request.body.refreshToken)
      return { data: await sessionTokens(reply, session) }
    },
  )

  app.post(
    '/logout',
    {
      config: { access: 'public' },
      schema: {
        tags: ['auth'],
        summary: 'End the session of a refresh token',
        description: 'Its refresh tokens and access tokens stop working at once. An unknown token is no error.',
        body: RefreshTokenBodySchema,
        response: { 204: { type: 'null' }, ...errorResponses(400) },
      },
    },
    async (request, reply) => {
      await app.sessions.logout(request.body.refreshToken)
      return reply.status(204).send(null)
    },
  )

  app.get(
    '/me',
    {
      config: { access: 'user' },
      schema: {
        tags: ['auth'],
        summary: 'The signed-in user, with the permissions of their role',
        response: { 200: Item(MeSchema) },
      },
    },
    async (request) => ({ data: await app.users.me(signedIn(request.principal).userId) }),
  )

  app.put(
    '/me/password',
    {
      config: { access: 'user' },
      preHandler: passwordAttempts.check,
      schema: {
        tags: ['auth'],
        summary: 'Change your own password',
        description: 'Needs the current password (a wrong one: 400 GUDANG_ERR_WRONG_PASSWORD; past '
          + 'GUDANG_LOGIN_MAX_ATTEMPTS of them in GUDANG_LOGIN_WINDOW seconds: 429). Your other sessions end; '
          + 'this one continues.',
        body: PasswordChangeSchema,
        response: { 204: { type: 'null' }, ...errorResponses(400, 429) },
      },
    },
    async (request, reply) => {
      const { userId, sessionId } = signedIn(request.principal)
      await app.users
        .changePassword(userId, sessionId, request.body.currentPassword, request.body.newPassword)
        .catch(async (error: unknown) => {
          if (error instanceof WrongPasswordError) await passwordAttempts.failed(request)
          throw error
        })
      return reply.status(204).send(null)
    },
  )
}

export default auth
