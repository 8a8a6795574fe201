import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { BuiltInRoleError, invalid, NotFoundError, type RequestProblem, RoleInUseError } from '../errors.js'
import type { Prisma } from '../generated/prisma/client.js'
import { type Action, assertHeld, type Rule, SYSTEM_SUBJECTS } from './access-control.js'

export interface PermissionInput {
  subject: string
  action: Action
  ownOnly?: boolean
  fields?: string[] | null
}

export interface RoleInput {
  name: string
  description?: string
  permissions: PermissionInput[]
}

export const roleSelect = {
  id: true,
  key: true,
  name: true,
  description: true,
  createdAt: true,
  updatedAt: true,
  permissions: {
    select: { subject: true, action: true, ownOnly: true, fields: true },
    orderBy: [{ subject: 'asc' }, { action: 'asc' }],
  },
  _count: { select: { users: true, tokens: true } },
} as const satisfies Prisma.RoleSelect

/** Subjects whose rows record who created them (`createdById`), so "own only" means something. */
const OWNED_SUBJECTS = new Set(['media', 'tokens'])

const CONTENT_SUBJECT = /^content:(\*|[a-z][a-z0-9-]*)$/

/**
 * Checks what the schema cannot: a known subject, publishing only of content, own-only only
 * where rows have an owner, field lists only for content, no rule given twice.
 */
export function permissionProblems(permissions: PermissionInput[]): RequestProblem[] {
  const problems: RequestProblem[] = []
  const seen = new Set<string>()
  permissions.forEach(({ subject, action, ownOnly, fields }, index) => {
    const problem = (field: string, message: string) =>
      problems.push({ in: 'body', path: `/permissions/${index}/${field}`, message })
    const content = CONTENT_SUBJECT.test(subject)
    if (!content && subject !== '*' && !(SYSTEM_SUBJECTS as readonly string[]).includes(subject)) {
      problem('subject', `must be *, content:*, content:<api id> or one of ${SYSTEM_SUBJECTS.join(', ')}`)
    }
    if (action === 'publish' && !content && subject !== '*') problem('action', 'only content is published')
    if (ownOnly === true && !content && !OWNED_SUBJECTS.has(subject)) {
      problem('ownOnly', `applies to content, ${[...OWNED_SUBJECTS].join(' and ')} only`)
    }
    if (fields && !content) problem('fields', 'field lists apply to content only')
    const key = `${subject} ${action}`
    if (seen.has(key)) problem('action', `${subject}:${action} is given twice`)
    seen.add(key)
  })
  return problems
}

function permissionRows(permissions: PermissionInput[]) {
  const problems = permissionProblems(permissions)
  if (problems.length > 0) throw invalid('Invalid permissions', problems)
  return permissions.map(({ subject, action, ownOnly = false, fields }) => ({
    subject,
    action,
    ownOnly,
    fields: fields ?? [],
  }))
}

/** Anonymous callers may be given content and media, never users, roles, tokens or settings. */
function assertAnonymousPermissions(rows: { subject: string }[]): void {
  const problems = rows.flatMap(({ subject }, index): RequestProblem[] =>
    /^(content:|media$)/.test(subject)
      ? []
      : [{ in: 'body', path: `/permissions/${index}/subject`, message: 'the Public role is for content and media only' }])
  if (problems.length > 0) throw invalid('Invalid permissions for the Public role', problems)
}

/**
 * Holds a role while a user or token is given it, so that it cannot be deleted in between
 * (deleting takes the row FOR UPDATE first).
 */
export async function lockRole(tx: Prisma.TransactionClient, id: string): Promise<void> {
  await tx.$queryRaw`SELECT id FROM roles WHERE id = ${id}::uuid FOR SHARE`
}

type RoleRow = Prisma.RoleGetPayload<{ select: typeof roleSelect }>

/** The API shows an unlimited field list as null, not as the empty array it is stored as. */
function presentRole({ _count, permissions, ...role }: RoleRow) {
  return {
    ...role,
    permissions: permissions.map((p) => ({ ...p, fields: p.fields.length > 0 ? p.fields : null })),
    holders: _count,
  }
}

function createRoles(app: FastifyInstance) {
  const { prisma } = app

  /** A role the caller may change: not the Administrator's, and none holding more than they do. */
  async function editable(tx: Prisma.TransactionClient, id: string, held: Rule[]) {
    // Locked: a user or token being given this role meanwhile waits (see lockRole).
    await tx.$queryRaw`SELECT id FROM roles WHERE id = ${id}::uuid FOR UPDATE`
    const role = await tx.role.findUnique({ where: { id }, select: { key: true, permissions: true } })
    if (role === null) throw new NotFoundError('No such role')
    if (role.key === 'administrator') throw new BuiltInRoleError('The Administrator role can do everything and cannot be changed')
    assertHeld(held, role.permissions)
    return role
  }

  return {
    async list() {
      const roles = await prisma.role.findMany({ select: roleSelect, orderBy: [{ createdAt: 'asc' }, { name: 'asc' }] })
      return roles.map(presentRole)
    },

    async get(id: string) {
      const role = await prisma.role.findUnique({ where: { id }, select: roleSelect })
      if (role === null) throw new NotFoundError('No such role')
      return presentRole(role)
    },

    /** `held`: the caller's permissions; nobody grants more than they hold. */
    async create(input: RoleInput, held: Rule[]) {
      const rows = permissionRows(input.permissions)
      assertHeld(held, rows)
      const role = await prisma.role.create({
        data: {
          name: input.name,
          description: input.description,
          permissions: { create: rows },
        },
        select: roleSelect,
      })
      return presentRole(role)
    },

    /** `permissions`, when given, replaces the whole set; the change applies from the next request. */
    async update(id: string, changes: Partial<RoleInput>, held: Rule[]) {
      const rows = changes.permissions === undefined ? undefined : permissionRows(changes.permissions)
      if (rows !== undefined) assertHeld(held, rows)
      const role = await prisma.$transaction(async (tx) => {
        const role = await editable(tx, id, held)
        if (role.key === 'public' && rows !== undefined) assertAnonymousPermissions(rows)
        return tx.role.update({
          where: { id },
          data: {
            name: changes.name,
            description: changes.description,
            permissions: rows === undefined ? undefined : { deleteMany: {}, create: rows },
          },
          select: roleSelect,
        })
      })
      return presentRole(role)
    },

    async remove(id: string, held: Rule[]): Promise<void> {
      await prisma.$transaction(async (tx) => {
        const role = await editable(tx, id, held)
        if (role.key !== null) throw new BuiltInRoleError('Built-in roles cannot be deleted')
        const users = await tx.user.count({ where: { roleId: id } })
        const tokens = await tx.apiToken.count({ where: { roleId: id } })
        if (users + tokens > 0) throw new RoleInUseError(users, tokens)
        await tx.role.delete({ where: { id } })
      })
    },
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    roles: ReturnType<typeof createRoles>
  }
}

async function rolesPlugin(app: FastifyInstance): Promise<void> {
  app.decorate('roles', createRoles(app))
}

export default fp(rolesPlugin, { name: 'roles', dependencies: ['prisma'] })
