import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { NotFoundError, ValidationError, withDetails } from '../errors.js'
import type { Prisma } from '../generated/prisma/client.js'
import type { ApiTokenKind } from '../generated/prisma/enums.js'
import type { Grant } from './access-control.js'
import { newOpaqueToken } from './opaque-tokens.js'

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

function invalid(path: string, message: string) {
  return withDetails(new ValidationError(`${path.slice(1)} ${message}`), [{ in: 'body', path, message }])
}

/** API tokens for site builds and websites. Every query is limited by the caller's grant. */
function createApiTokens(app: FastifyInstance) {
  const { prisma } = app

  return {
    async list(grant: Grant, page: number, pageSize: number) {
      const where = grant.where
      const [data, total] = await prisma.$transaction([
        prisma.apiToken.findMany({ where, select: apiTokenSelect, orderBy: { createdAt: 'asc' }, skip: (page - 1) * pageSize, take: pageSize }),
        prisma.apiToken.count({ where }),
      ])
      return { data, total }
    },

    async get(grant: Grant, id: string) {
      const token = await prisma.apiToken.findFirst({ where: { id, ...grant.where }, select: apiTokenSelect })
      if (token === null) throw new NotFoundError('No such API token')
      return token
    },

    async create(createdById: string | undefined, input: NewApiToken) {
      if ((input.kind === 'custom') !== (input.roleId !== undefined)) {
        throw invalid('/roleId', 'is required for a custom token and only for one')
      }
      if (input.expiresAt !== undefined && input.expiresAt <= new Date()) {
        throw invalid('/expiresAt', 'must be in the future')
      }
      const { value, data } = issue()
      return prisma.$transaction(async (tx) => {
        if (input.roleId !== undefined && (await tx.role.count({ where: { id: input.roleId } })) === 0) {
          throw invalid('/roleId', 'names no role')
        }
        const token = await tx.apiToken.create({
          data: { ...input, ...data, createdById },
          select: apiTokenSelect,
        })
        return { ...token, accessKey: value }
      })
    },

    /** A new value for the same token; the old one stops working at once. */
    async regenerate(grant: Grant, id: string) {
      const { value, data } = issue()
      const { count } = await prisma.apiToken.updateMany({ where: { id, ...grant.where }, data })
      if (count === 0) throw new NotFoundError('No such API token')
      return { ...(await this.get(grant, id)), accessKey: value }
    },

    async remove(grant: Grant, id: string): Promise<void> {
      const { count } = await prisma.apiToken.deleteMany({ where: { id, ...grant.where } })
      if (count === 0) throw new NotFoundError('No such API token')
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
