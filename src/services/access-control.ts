import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { ForbiddenError, InvalidTokenError, UnauthenticatedError, withDetails } from '../errors.js'
import type { ApiTokenKind } from '../generated/prisma/enums.js'
import type { AccessTokenClaims } from '../infra/jwt.js'
import { errorResponses } from '../schemas/error.js'
import { hashOpaqueToken } from './opaque-tokens.js'

export const ACTIONS = ['read', 'create', 'update', 'delete', 'publish'] as const
export type Action = (typeof ACTIONS)[number]

/**
 * What a permission can be about: `*` (everything), every content type (`content:*`), one
 * content type (`content:<api id>`), or one of these.
 */
export const SYSTEM_SUBJECTS = ['media', 'users', 'roles', 'tokens', 'settings', 'content-types', 'webhooks'] as const

/** One permission of a role; `fields` empty means every field. */
export interface Rule {
  subject: string
  action: string
  ownOnly: boolean
  fields: string[]
}

/** Who is calling, with the rules that apply to them: read on every request (the Public role's kept for a moment). */
export type Principal
  = | { kind: 'anonymous', rules: Rule[], drafts: false }
    | { kind: 'user', userId: string, sessionId: string, rules: Rule[], drafts: true }
    | { kind: 'token', tokenId: string, rules: Rule[], drafts: boolean }

/** What the route's permission lets this caller do; set by the route's preHandler. */
export interface Grant {
  /** Merge into the query's `where`: with an own-only permission, the caller's rows only. */
  where: { createdById?: string }
  /** The fields the caller may read or write; undefined: every field. */
  fields: string[] | undefined
}

/**
 * What a route declares in `config.access`: anyone, any signed-in user, anyone who may read
 * some content (the content model is theirs to read), or a permission.
 */
export type Access = 'public' | 'user' | 'content-reader' | { subject: string, action: Action }

/** A subject may name the route's content type: `content:{apiId}` is `content:article` at /content-types/article/… */
function subjectOf(subject: string, request: FastifyRequest): string {
  return subject.replace('{apiId}', () => String((request.params as { apiId?: string }).apiId))
}

/** Whether the rules let their holder read the entries of some content type, or the model. */
function readsContent(rules: Rule[]): boolean {
  return rules.some((r) => r.action === 'read' && /^(\*|content:|content-types$)/.test(r.subject))
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access
  }
  interface FastifyRequest {
    /** Set on every route that is not public. */
    principal: Principal
    /** Set on every route that declares a permission. */
    grant: Grant
  }
}

function rule(subject: string, action: Action): Rule {
  return { subject, action, ownOnly: false, fields: [] }
}

const readPublished = [rule('content:*', 'read'), rule('media', 'read')]

/** What API tokens of each kind may do; `custom` tokens follow their role instead. */
export const TOKEN_RULES: Record<ApiTokenKind, Rule[]> = {
  custom: [],
  delivery: readPublished,
  preview: readPublished,
  full: [
    ...ACTIONS.map((action) => rule('content:*', action)),
    ...ACTIONS.filter((action) => action !== 'publish').map((action) => rule('media', action)),
  ],
}

/** What an API token may do: its kind's rules, or its role's; drafts only for preview and full. */
export function tokenAccess(kind: ApiTokenKind, role: { permissions: Rule[] } | null) {
  return { rules: role?.permissions ?? TOKEN_RULES[kind], drafts: kind === 'preview' || kind === 'full' }
}

/**
 * The rule that decides `action` on `subject`: the subject's own rule wins over `content:*`,
 * which wins over `*`. So a role can grant all content and narrow one type.
 */
export function ruleFor(rules: Rule[], subject: string, action: string): Rule | undefined {
  const candidates = subject.startsWith('content:') ? [subject, 'content:*', '*'] : [subject, '*']
  for (const candidate of candidates) {
    const found = rules.find((r) => r.subject === candidate && r.action === action)
    if (found) return found
  }
  return undefined
}

/** A content type no rule names: what `content:*` and `*` grant for every other type. */
const ANY_OTHER_TYPE = 'content:\u0000'

/**
 * The permissions (`subject:action`) in `requested` that `held` does not include: an action
 * held for fewer rows (own only) or fewer fields, or not at all. Nobody hands out more than
 * they hold, whether through a role, a user's role or an API token.
 */
export function exceededPermissions(held: Rule[], requested: Rule[]): string[] {
  const subjects = new Set([...SYSTEM_SUBJECTS, ANY_OTHER_TYPE])
  for (const { subject } of [...held, ...requested]) if (subject !== '*' && subject !== 'content:*') subjects.add(subject)
  const exceeded: string[] = []
  for (const subject of subjects) {
    for (const action of ACTIONS) {
      // Only content is published.
      if (action === 'publish' && !subject.startsWith('content:')) continue
      const wanted = ruleFor(requested, subject, action)
      if (wanted === undefined) continue
      const have = ruleFor(held, subject, action)
      const fewerRows = have !== undefined && have.ownOnly && !wanted.ownOnly
      const fewerFields = have !== undefined && have.fields.length > 0
        && (wanted.fields.length === 0 || wanted.fields.some((field) => !have.fields.includes(field)))
      if (have === undefined || fewerRows || fewerFields) {
        exceeded.push(`${subject === ANY_OTHER_TYPE ? 'content:*' : subject}:${action}`)
      }
    }
  }
  return exceeded
}

/** Refuses to hand out `requested` (and draft access) unless the caller holds all of it. */
export function assertHeld(held: Rule[], requested: Rule[], drafts?: { held: boolean, requested: boolean }): void {
  const exceeded = exceededPermissions(held, requested)
  if (drafts?.requested === true && !drafts.held) exceeded.push('drafts')
  if (exceeded.length > 0) {
    throw withDetails(
      new ForbiddenError(`You cannot grant permissions you do not hold: ${exceeded.join(', ')}`),
      { permissions: exceeded },
    )
  }
}

/** The fields of `data` the grant lets the caller read. */
export function readableFields<T extends Record<string, unknown>>(grant: Grant, data: T): Partial<T> {
  const { fields } = grant
  if (fields === undefined) return data
  return Object.fromEntries(Object.entries(data).filter(([key]) => fields.includes(key))) as Partial<T>
}

/** Refuses a write that touches a field the grant does not allow, naming every such field. */
export function assertWritableFields(grant: Grant, data: Record<string, unknown>): void {
  const { fields } = grant
  if (fields === undefined) return
  const forbidden = Object.keys(data).filter((key) => !fields.includes(key))
  if (forbidden.length > 0) {
    throw withDetails(new ForbiddenError(`You may not write the field(s) ${forbidden.join(', ')}`), { fields: forbidden })
  }
}

/** The user behind a request on a route whose access is 'user' (which lets only users through). */
export function signedIn(principal: Principal): Extract<Principal, { kind: 'user' }> {
  /* c8 ignore next: only reached by a route that declares the wrong access */
  if (principal.kind !== 'user') throw new Error('signedIn() needs a route with config.access \'user\'')
  return principal
}

function toArray<T>(value: T | T[] | undefined): T[] {
  return ([] as T[]).concat(value ?? [])
}

/**
 * Authentication (onRequest) and authorisation (preHandler) for every route registered after
 * this plugin, that is every route but the API documentation's. A route declares
 * `config.access`: 'public', 'user' (any signed-in user) or a permission `{ subject, action }`.
 * A route that declares nothing stops the app from starting: nothing is reachable by omission.
 */
function createAccessControl(app: FastifyInstance) {
  const { prisma } = app
  const permissions = { select: { subject: true, action: true, ownOnly: true, fields: true } } as const

  async function anonymous(): Promise<Principal> {
    // Every anonymous request needs them: kept for a moment (see read-cache.ts).
    const role = await app.readCache.get('public-role', () => prisma.role.findUniqueOrThrow({ where: { key: 'public' }, select: { permissions } }))
    return { kind: 'anonymous', rules: role.permissions, drafts: false }
  }

  async function apiToken(value: string): Promise<Principal> {
    const token = await prisma.apiToken.findUnique({
      where: { tokenHash: hashOpaqueToken(value) },
      select: { id: true, kind: true, expiresAt: true, lastUsedAt: true, role: { select: { permissions } } },
    })
    if (token === null) throw new InvalidTokenError('unknown or revoked API token')
    const now = new Date()
    if (token.expiresAt !== null && token.expiresAt <= now) throw new InvalidTokenError('the API token has expired')
    // Last use is kept to the minute: a write on every request would cost more than it tells.
    if (token.lastUsedAt === null || now.getTime() - token.lastUsedAt.getTime() > 60_000) {
      await prisma.apiToken.updateMany({ where: { id: token.id }, data: { lastUsedAt: now } })
    }
    return { kind: 'token', tokenId: token.id, ...tokenAccess(token.kind, token.role) }
  }

  async function accessToken(request: FastifyRequest): Promise<Principal> {
    let claims
    try {
      claims = await request.jwtVerify<AccessTokenClaims>()
    } catch (error) {
      const code = String((error as { code?: unknown }).code)
      // The errors of @fastify/jwt and fast-jwt are the token's fault; others (the signing key
      // could not be read) are not.
      if (!/^FA?ST_JWT_/.test(code)) throw error
      throw new InvalidTokenError(code === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED'
        ? 'the access token has expired'
        : 'the access token is not valid')
    }
    const session = await prisma.session.findUnique({
      where: { id: claims.sid },
      select: {
        revokedAt: true,
        user: { select: { id: true, isActive: true, role: { select: { permissions } } } },
      },
    })
    if (session === null || session.revokedAt !== null || session.user.id !== claims.sub || !session.user.isActive) {
      throw new InvalidTokenError('the session has ended')
    }
    return { kind: 'user', userId: session.user.id, sessionId: claims.sid, rules: session.user.role.permissions, drafts: true }
  }

  async function identify(request: FastifyRequest, reply: FastifyReply): Promise<Principal> {
    const header = request.headers.authorization
    if (header === undefined) return anonymous()
    const credentials = /^Bearer +(\S+)$/i.exec(header)?.[1]
    try {
      if (credentials === undefined) throw new InvalidTokenError('send Authorization: Bearer <token>')
      return credentials.startsWith('gdt_') ? await apiToken(credentials) : await accessToken(request)
    } catch (error) {
      if (error instanceof InvalidTokenError) reply.header('www-authenticate', 'Bearer error="invalid_token"')
      throw error
    }
  }

  /** Who is calling; an anonymous caller who may not is turned away before the body is read. */
  function authenticate(access: Exclude<Access, 'public'>) {
    return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const principal = await identify(request, reply)
      request.principal = principal
      if (principal.kind !== 'anonymous') return
      const admitted = access === 'content-reader'
        ? readsContent(principal.rules)
        : access !== 'user' && ruleFor(principal.rules, subjectOf(access.subject, request), access.action) !== undefined
      if (!admitted) throw unauthenticated(reply)
    }
  }

  function unauthenticated(reply: FastifyReply): Error {
    reply.header('www-authenticate', 'Bearer')
    return new UnauthenticatedError()
  }

  /** Without credentials, credentials might help (401); with them, they do not (403). */
  function denied(principal: Principal, reply: FastifyReply, message: string, details?: unknown): Error {
    if (principal.kind === 'anonymous') return unauthenticated(reply)
    return withDetails(new ForbiddenError(message), details)
  }

  function authorize(access: Exclude<Access, 'public'>) {
    if (access === 'user') {
      return async function signedIn(request: FastifyRequest, reply: FastifyReply): Promise<void> {
        if (request.principal.kind !== 'user') throw denied(request.principal, reply, 'Only a signed-in user may do this')
      }
    }
    if (access === 'content-reader') {
      return async function readsSomeContent(request: FastifyRequest, reply: FastifyReply): Promise<void> {
        if (!readsContent(request.principal.rules)) {
          throw denied(request.principal, reply, 'Only a caller who may read some content may do this')
        }
      }
    }
    const { action } = access
    return async function permitted(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const { principal } = request
      const subject = subjectOf(access.subject, request)
      const found = ruleFor(principal.rules, subject, action)
      // An own-only permission needs an owner: API tokens and anonymous callers own no rows.
      if (found === undefined || (found.ownOnly && principal.kind !== 'user')) {
        throw denied(principal, reply, `Missing permission ${subject}:${action}`, { subject, action })
      }
      request.grant = {
        where: found.ownOnly && principal.kind === 'user' ? { createdById: principal.userId } : {},
        fields: found.fields.length > 0 ? found.fields : undefined,
      }
    }
  }

  /** Adds the hooks and documents the access of one route (an onRoute hook). */
  function protect(route: RouteOptions): void {
    const access = route.config?.access
    if (access === undefined) {
      throw new Error(`${String(route.method)} ${route.url} declares no config.access ('public', 'user', 'content-reader' or a permission)`)
    }
    if (access === 'public') {
      route.schema = { ...route.schema, security: [] }
      return
    }
    route.onRequest = [authenticate(access), ...toArray(route.onRequest)]
    route.preHandler = [authorize(access), ...toArray(route.preHandler)]
    const permission = access === 'user'
      ? 'a signed-in user'
      : access === 'content-reader'
        ? 'read permission on some content (`content:*:read` or one type\'s)'
        : `permission \`${access.subject}:${access.action}\``
    route.schema = {
      ...route.schema,
      'security': [{ bearerAuth: [] }],
      'description': [`**Requires ${permission}.**`, route.schema?.description].filter(Boolean).join('\n\n'),
      'x-gudang-access': access,
      'response': { ...errorResponses(401, 403), ...(route.schema?.response as object | undefined) },
    } as RouteOptions['schema']
  }

  return { protect }
}

async function accessControlPlugin(app: FastifyInstance): Promise<void> {
  app.decorateRequest<Principal | null>('principal', null)
  app.decorateRequest<Grant | null>('grant', null)
  const accessControl = createAccessControl(app)
  app.addHook('onRoute', accessControl.protect)
}

export default fp(accessControlPlugin, {
  name: 'access-control',
  dependencies: ['prisma', 'jwt', 'read-cache'],
})
