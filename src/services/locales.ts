import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ConflictError, NotFoundError, withDetails } from '../errors.js'
import type { Prisma } from '../generated/prisma/client.js'
import type { LocaleChanges, NewLocale } from '../schemas/locales.js'

/**
 * The locales content is written in; one is the default (where a request names none). Codes
 * are kept as given (`fr-CA`); a locale in use by entries, or the default, cannot be deleted.
 */
function createLocales(app: FastifyInstance) {
  const { prisma } = app

  /** One default at a time: setting one unsets the other, in the same transaction. */
  async function makeDefault(tx: Prisma.TransactionClient, code: string): Promise<void> {
    await tx.locale.updateMany({ where: { isDefault: true, code: { not: code } }, data: { isDefault: false } })
    await tx.locale.update({ where: { code }, data: { isDefault: true } })
  }

  async function find(tx: Prisma.TransactionClient, code: string) {
    const locale = await tx.locale.findUnique({ where: { code } })
    if (locale === null) throw new NotFoundError(`No locale "${code}"`)
    return locale
  }

  return {
    list() {
      return prisma.locale.findMany({ orderBy: [{ isDefault: 'desc' }, { code: 'asc' }] })
    },

    async create({ isDefault, ...input }: NewLocale) {
      return prisma.$transaction(async (tx) => {
        const existing = await tx.locale.findFirst({ where: { code: { equals: input.code, mode: 'insensitive' } } })
        if (existing !== null) throw new ConflictError(`Locale "${existing.code}" exists`)
        await tx.locale.create({ data: input })
        if (isDefault === true) await makeDefault(tx, input.code)
        return find(tx, input.code)
      })
    },

    async update(code: string, { isDefault, ...changes }: LocaleChanges) {
      return prisma.$transaction(async (tx) => {
        await find(tx, code)
        if (isDefault === true) await makeDefault(tx, code)
        return tx.locale.update({ where: { code }, data: changes })
      })
    },

    async remove(code: string): Promise<void> {
      await prisma.$transaction(async (tx) => {
        const locale = await find(tx, code)
        if (locale.isDefault) throw new ConflictError(`"${code}" is the default locale: make another the default first`)
        const entries = await tx.entry.count({ where: { locale: code } })
        if (entries > 0) throw withDetails(new ConflictError(`${entries} entries are written in "${code}": delete them first`), { entries })
        await tx.locale.delete({ where: { code } })
      })
    },
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    locales: ReturnType<typeof createLocales>
  }
}

async function localesPlugin(app: FastifyInstance): Promise<void> {
  app.decorate('locales', createLocales(app))
}

export default fp(localesPlugin, { name: 'locales', dependencies: ['prisma'] })
