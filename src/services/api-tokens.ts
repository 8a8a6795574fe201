import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { invalid, NotFoundError } from '../errors.js'
import type { Prisma } from '../generated/prisma/client.js'
import type { ApiTokenKind } from '../generated/prisma/enums.js'
import type { Rule } from './access-control.js'
import { assertHeld, type Grant, type Principal, tokenAccess } from './access-control.js'
import { newOpaqueToken } from './opaque-tokens.js'
import { lockRole } from './roles.js'

export interface NewApiToken {
  name: string
  description?: string
  kind: ApiTokenKind
  roleId?: string
  expiresAt?: Date
}

/** What is shown of a token: never its hash; its value only once, when made. */
export const apiTokenSelect = {
  id: true,
  name: true,
  description: true,
  kind: true,
  hint: true,
  expiresAt: true,
  lastUsedAt: true,
  createdAt: true,
  updatedAt: true,
  role: { select: { id: true, name: true } },
  createdBy: { select: { id: true, displayName: true } },
} as const satisfies Prisma.ApiTokenSelect

/** A new value and what is kept of it: the hash, and a hint to recognise it by. */
function issue() {
  const { value, hash } = newOpaqueToken('gdt_')
  return { value, data: { tokenHash: hash, hint: `${value.slice(0, 8)}…${value.slice(-4)}` } }
}

function invalidField(path: string, message: string) {
  return invalid(`${path.slice(1)} ${message}`, [{ in: 'body', path, message }])
}

/** Refuses a caller a token that can do more than they can: to make it, see its value, or revoke it. */
function assertWithin(caller: Principal, token: { kind: ApiTokenKind, role: { permissions: Rule[] } | null }): void {
  const { rules, drafts } = tokenAccess(token.kind, token.role)
  assertHeld(caller.rules, rules, { held: caller.drafts, requested: drafts })
}

const power = { kind: true, role: { select: { permissions: true } } } as const

/**
 * API tokens for site builds and websites. Every query is limited by the caller's grant, and
 * nobody handles a token more powerful than themselves.
 */
function createApiTokens(app: FastifyInstance) {
  const { prisma } = app

  async function find(tx: Prisma.TransactionClient, grant: Grant, id: string) {
    const token = await tx.apiToken.findFirst({ where: { id, ...grant.where }, select: power })
    if (token === null) throw new NotFoundError('No such API token')
    return token
  }

  return {
    async list(grant: Grant, page: number, pageSize: number) {
      const where = grant.where
      const [data, total] = await prisma.$transaction([
        prisma.apiToken.findMany({
          where,
          select: apiTokenSelect,
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
          skip: (page - 1) * pageSize,
          take: pageSize,
        }),
        prisma.apiToken.count({ where }),
      ])
      return { data, total }
    },

    async get(grant: Grant, id: string) {
      const token = await prisma.apiToken.findFirst({ where: { id, ...grant.where }, select: apiTokenSelect })
      if (token === null) throw new NotFoundError('No such API token')
      return token
    },

    async create(caller: Principal, input: NewApiToken) {
      if ((input.kind === 'custom') !== (input.roleId !== undefined)) {
        throw invalidField('/roleId', 'is required for a custom token and only for one')
      }
      // Also false for an invalid date (a leap second passes the format but not Date).
      if (input.expiresAt !== undefined && !(input.expiresAt > new Date())) {
        throw invalidField('/expiresAt', 'must be a time in the future')
      }
      const { value, data } = issue()
      const createdById = caller.kind === 'user' ? caller.userId : undefined
      return prisma.$transaction(async (tx) => {
        let role = null
        if (input.roleId !== undefined) {
          await lockRole(tx, input.roleId)
          role = await tx.role.findUnique({ where: { id: input.roleId }, select: { permissions: true } })
          if (role === null) throw invalidField('/roleId', 'names no role')
        }
        assertWithin(caller, { kind: input.kind, role })
        const token = await tx.apiToken.create({
          data: { ...input, ...data, createdById },
          select: apiTokenSelect,
        })
        return { ...token, accessKey: value }
      })
    },

    /** A new value for the same token; the old one stops working at once. */
    async regenerate(caller: Principal, grant: Grant, id: string) {
      const { value, data } = issue()
      return prisma.$transaction(async (tx) => {
        assertWithin(caller, await find(tx, grant, id))
        const token = await tx.apiToken.update({ where: { id }, data, select: apiTokenSelect })
        return { ...token, accessKey: value }
      })
    },

    async remove(caller: Principal, grant: Grant, id: string): Promise<void> {
      await prisma.$transaction(async (tx) => {
        assertWithin(caller, await find(tx, grant, id))
        await tx.apiToken.delete({ where: { id } })
      })
    },
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    apiTokens: ReturnType<typeof createApiTokens>
  }
}

async function apiTokensPlugin(app: FastifyInstance): Promise<void> {
  app.decorate('apiTokens', createApiTokens(app))
}

export default fp(apiTokensPlugin, { name: 'api-tokens', dependencies: ['prisma'] })
