import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { invalid, LastAdministratorError, NotFoundError, withDetails, WrongPasswordError } from '../errors.js'
import type { Prisma } from '../generated/prisma/client.js'
import { assertHeld, type Rule } from './access-control.js'
import { hashPassword, verifyPassword } from './passwords.js'
import { lockRole } from './roles.js'

/** The columns of a user that leave the server: never the password hash. */
export const userSelect = {
  id: true,
  email: true,
  displayName: true,
  isActive: true,
  createdAt: true,
  updatedAt: true,
  role: { select: { id: true, key: true, name: true } },
} as const satisfies Prisma.UserSelect

export interface NewUser {
  email: string
  displayName: string
  password: string
  roleId: string
  isActive?: boolean
}

export interface UserChanges {
  email?: string
  displayName?: string
  password?: string
  roleId?: string
  isActive?: boolean
}

type Transaction = Prisma.TransactionClient

/** Emails compare case-insensitively: they are stored trimmed and in lower case. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase()
}

function createUsers(app: FastifyInstance) {
  const { prisma } = app

  /** The permissions of a role a user may be given. */
  async function assignable(tx: Transaction, roleId: string): Promise<Rule[]> {
    await lockRole(tx, roleId)
    const role = await tx.role.findUnique({ where: { id: roleId }, select: { key: true, permissions: true } })
    if (role === null || role.key === 'public') {
      throw invalid('roleId names no role a user can have', [
        { in: 'body', path: '/roleId', message: 'no such role (Public is for anonymous requests only)' },
      ])
    }
    return role.permissions
  }

  /** Nobody manages a user who holds more than they do (an Administrator's password, say). */
  async function assertManageable(tx: Transaction, id: string, held: Rule[]): Promise<void> {
    const user = await tx.user.findUnique({ where: { id }, select: { role: { select: { permissions: true } } } })
    if (user === null) throw new NotFoundError('No such user')
    assertHeld(held, user.role.permissions)
  }

  async function insert(tx: Transaction, input: NewUser, passwordHash: string) {
    return tx.user.create({
      data: {
        email: normalizeEmail(input.email),
        displayName: input.displayName,
        passwordHash,
        roleId: input.roleId,
        isActive: input.isActive,
      },
      select: userSelect,
    })
  }

  /**
   * Runs a change to users, then refuses it if no active administrator would remain. The
   * Administrator role's row is locked first, so two concurrent changes cannot each remove
   * one of the last two administrators.
   */
  function keepingAnAdministrator<T>(change: (tx: Transaction) => Promise<T>): Promise<T> {
    return prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT id FROM roles WHERE key = 'administrator' FOR UPDATE`
      const result = await change(tx)
      const administrators = await tx.user.count({ where: { isActive: true, role: { key: 'administrator' } } })
      if (administrators === 0) throw new LastAdministratorError()
      return result
    })
  }

  async function revokeSessions(tx: Transaction, userId: string, except?: string): Promise<void> {
    await tx.session.updateMany({
      where: { userId, revokedAt: null, ...(except === undefined ? {} : { id: { not: except } }) },
      data: { revokedAt: new Date() },
    })
  }

  return {
    async list(page: number, pageSize: number) {
      const [data, total] = await prisma.$transaction([
        prisma.user.findMany({
          select: userSelect,
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
          skip: (page - 1) * pageSize,
          take: pageSize,
        }),
        prisma.user.count(),
      ])
      return { data, total }
    },

    async get(id: string) {
      const user = await prisma.user.findUnique({ where: { id }, select: userSelect })
      if (user === null) throw new NotFoundError('No such user')
      return user
    },

    /** `held`: the caller's permissions; the new user's role must be within them. */
    async create(input: NewUser, held: Rule[]) {
      const passwordHash = await hashPassword(input.password)
      return prisma.$transaction(async (tx) => {
        assertHeld(held, await assignable(tx, input.roleId))
        return insert(tx, input, passwordHash)
      })
    },

    /** A new password or disabling the account ends the user's sessions. */
    async update(id: string, changes: UserChanges, held: Rule[]) {
      const passwordHash = changes.password === undefined ? undefined : await hashPassword(changes.password)
      return keepingAnAdministrator(async (tx) => {
        await assertManageable(tx, id, held)
        if (changes.roleId !== undefined) assertHeld(held, await assignable(tx, changes.roleId))
        const user = await tx.user.update({
          where: { id },
          data: {
            email: changes.email === undefined ? undefined : normalizeEmail(changes.email),
            displayName: changes.displayName,
            roleId: changes.roleId,
            isActive: changes.isActive,
            passwordHash,
          },
          select: userSelect,
        })
        if (passwordHash !== undefined || changes.isActive === false) await revokeSessions(tx, id)
        return user
      })
    },

    async remove(id: string, held: Rule[]): Promise<void> {
      await keepingAnAdministrator(async (tx) => {
        await assertManageable(tx, id, held)
        await tx.user.delete({ where: { id } })
      })
    },

    /** The signed-in user's own profile, with what their role lets them do. */
    async me(id: string) {
      const user = await prisma.user.findUniqueOrThrow({
        where: { id },
        select: {
          ...userSelect,
          role: {
            select: {
              ...userSelect.role.select,
              permissions: {
                select: { subject: true, action: true, ownOnly: true, fields: true },
                orderBy: [{ subject: 'asc' }, { action: 'asc' }],
              },
            },
          },
        },
      })
      const permissions = user.role.permissions.map((p) => ({ ...p, fields: p.fields.length > 0 ? p.fields : null }))
      return { ...user, role: { ...user.role, permissions } }
    },

    /** A user changing their own password; their other sessions end. */
    async changePassword(id: string, sessionId: string, currentPassword: string, newPassword: string) {
      const { passwordHash } = await prisma.user.findUniqueOrThrow({ where: { id }, select: { passwordHash: true } })
      if (passwordHash === null || !(await verifyPassword(currentPassword, passwordHash))) {
        throw withDetails(new WrongPasswordError(), [{ in: 'body', path: '/currentPassword', message: 'is wrong' }])
      }
      const newHash = await hashPassword(newPassword)
      await prisma.$transaction(async (tx) => {
        await tx.user.update({ where: { id }, data: { passwordHash: newHash } })
        await revokeSessions(tx, id, sessionId)
      })
    },

    /** An administrator (the CLI's `admin create`, or GUDANG_ADMIN_EMAIL on first start). */
    async createAdministrator(email: string, password: string, displayName = 'Administrator') {
      const role = await prisma.role.findUniqueOrThrow({ where: { key: 'administrator' }, select: { id: true } })
      const passwordHash = await hashPassword(password)
      return prisma.$transaction((tx) => insert(tx, { email, password, displayName, roleId: role.id }, passwordHash))
    },

    /** The first administrator (GUDANG_ADMIN_EMAIL/PASSWORD), unless there is a user already. */
    async bootstrap(email: string, password: string): Promise<void> {
      if ((await prisma.user.count()) > 0) return
      const passwordHash = await hashPassword(password)
      // Instances starting together take turns (the Administrator role's row is the lock):
      // only the first finds no user.
      const created = await keepingAnAdministrator(async (tx) => {
        if ((await tx.user.count()) > 0) return false
        const role = await tx.role.findUniqueOrThrow({ where: { key: 'administrator' }, select: { id: true } })
        await insert(tx, { email, password, displayName: 'Administrator', roleId: role.id }, passwordHash)
        return true
      })
      if (created) app.log.info({ email }, 'created the first administrator from GUDANG_ADMIN_EMAIL')
    },
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    users: ReturnType<typeof createUsers>
  }
}

async function usersPlugin(app: FastifyInstance): Promise<void> {
  const users = createUsers(app)
  app.decorate('users', users)
  const { GUDANG_ADMIN_EMAIL: email, GUDANG_ADMIN_PASSWORD: password } = app.config
  if (email !== undefined && password !== undefined) app.addHook('onReady', () => users.bootstrap(email, password))
}

export default fp(usersPlugin, { name: 'users', dependencies: ['prisma'] })
