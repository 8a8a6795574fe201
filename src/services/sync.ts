import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { invalid } from '../errors.js'
import { Prisma } from '../generated/prisma/client.js'
import { UUID_PATTERN } from '../schemas/common.js'
import { type Principal, ruleFor } from './access-control.js'
import type { DeliveredRow } from './delivery.js'

/**
 * The delta-sync feed for site builds. The first request walks every published entry, page by
 * page, and ends with a sync token; a request with that token answers what changed since:
 * entries published or changed (`upsert`) and entries unpublished or deleted (`delete`), then a
 * new token.
 *
 * Changes are logged by a trigger on entries (migration `delivery`) in the transaction that
 * makes them. A change gets its place in the feed (`seq`) only once it has committed (see
 * `sequence` in delivery.ts): so a token never passes over a change that commits later.
 */

/** What a token remembers: where the feed was, what it is about, and how far a walk got. */
interface Token {
  /** The feed's place when the walk began (initial) or the delta's start. */
  seq: string
  types: string[]
  locale?: string
  /** Initial walk: the last entry id given. Delta: the delta's end and the last change given. */
  initial?: { after: string }
  delta?: { to: string, after: string }
}

function encode(token: Token): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url')
}

/** A place in the feed (a bigint, well within its range). */
const DIGITS = /^\d{1,18}$/
const UUID = new RegExp(UUID_PATTERN)

function decode(text: string): Token {
  let token: Partial<Token> | undefined
  try {
    token = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<Token>
  } catch {
    token = undefined
  }
  const valid = typeof token === 'object' && token !== null
    && typeof token.seq === 'string' && DIGITS.test(token.seq)
    && Array.isArray(token.types) && token.types.every((t) => typeof t === 'string')
    && (token.locale === undefined || typeof token.locale === 'string')
    // `?.`: JSON may say null where an object belongs.
    && (token.initial === undefined || UUID.test(String(token.initial?.after)))
    && (token.delta === undefined || (DIGITS.test(String(token.delta?.to)) && DIGITS.test(String(token.delta?.after))))
  if (!valid) {
    throw invalid('Not a sync token of this API: pass meta.nextPageToken or meta.syncToken as it came', [
      { in: 'querystring', path: '/token', message: 'is not a sync token' },
    ])
  }
  return token as Token
}

type ChangedRow = DeliveredRow & { apiId: string }

function createSync(app: FastifyInstance) {
  const { prisma, config } = app

  /**
   * The types a request is about: those asked for (all if none), which the caller must be able
   * to read, wholly: the feed cannot tell an own-only reader of whose entry a deletion was.
   */
  async function typesOf(principal: Principal, asked: string | undefined) {
    const { types } = await app.delivery.model()
    const reads = (apiId: string) => ruleFor(principal.rules, `content:${apiId}`, 'read')?.ownOnly === false
    const readable = [...types.keys()].filter(reads).sort()
    if (asked === undefined) return readable
    const names = [...new Set(asked.split(','))]
    const unknown = names.filter((name) => !readable.includes(name))
    if (unknown.length > 0) {
      throw invalid(`No content type you may read: ${unknown.join(', ')}`, [
        { in: 'querystring', path: '/type', message: `must name types among ${readable.join(', ')}`, allowed: readable },
      ])
    }
    return names.sort()
  }

  /** Entries in the types (and locale, for localized types) of the token. */
  async function scope(token: Token, row: Prisma.Sql): Promise<Prisma.Sql> {
    const { types } = await app.delivery.model()
    const ids = token.types.map((apiId) => types.get(apiId)?.id).filter((id) => id !== undefined)
    const localized = token.types.flatMap((apiId) => {
      const type = types.get(apiId)
      return type?.localized === true ? [type.id] : []
    })
    const inTypes = Prisma.sql`${row}.content_type_id = ANY (${ids}::uuid[])`
    if (token.locale === undefined) return inTypes
    return Prisma.sql`${inTypes} AND (${row}.locale = ${token.locale} OR NOT (${row}.content_type_id = ANY (${localized}::uuid[])))`
  }

  /** Published entries as the delivery API shows them to the caller. */
  async function upserts(principal: Principal, rows: ChangedRow[]) {
    const items = []
    for (const apiId of new Set(rows.map((r) => r.apiId))) {
      const of = rows.filter((r) => r.apiId === apiId)
      const entries = await app.delivery.present(principal, apiId, of)
      items.push(...of.map((row, i) => ({ action: 'upsert' as const, contentType: apiId, documentId: row.documentId, locale: row.locale, entry: entries[i] })))
    }
    return items
  }

  const columns = Prisma.sql`t.api_id AS "apiId", ${app.delivery.columns(Prisma.raw('e'), 'published')}`

  async function initialPage(principal: Principal, token: Token) {
    const after = token.initial?.after
    const size = config.GUDANG_DELIVERY_MAX_PAGE_SIZE
    const rows = await prisma.$queryRaw<ChangedRow[]>`
      SELECT ${columns} FROM entries e JOIN content_types t ON t.id = e.content_type_id
      WHERE e.published IS NOT NULL AND ${await scope(token, Prisma.raw('e'))}
        ${after === undefined ? Prisma.empty : Prisma.sql`AND e.id > ${after}::uuid`}
      ORDER BY e.id LIMIT ${size + 1}`
    const page = rows.slice(0, size)
    const data = await upserts(principal, page)
    const { initial, delta, ...rest } = token
    const meta = rows.length > size
      ? { nextPageToken: encode({ ...rest, initial: { after: (page.at(-1) as ChangedRow).id } }) }
      : { syncToken: encode(rest) }
    return { data, meta }
  }

  async function deltaPage(principal: Principal, token: Token) {
    const to = token.delta?.to ?? String((await app.delivery.sequence()).latest)
    const after = token.delta?.after ?? token.seq
    const size = config.GUDANG_DELIVERY_MAX_PAGE_SIZE
    const { types } = await app.delivery.model()
    const localized = token.types.filter((apiId) => types.get(apiId)?.localized === true)
    const locale = token.locale === undefined
      ? Prisma.empty
      : Prisma.sql`AND (c.locale = ${token.locale} OR NOT (c.api_id = ANY (${localized}::text[])))`
    // Each document and locale once, at its last change in the delta: the log walked in order
    // from where the last page ended, each page as cheap as the first.
    const changed = await prisma.$queryRaw<{ apiId: string, documentId: string, locale: string, last: bigint }[]>`
      SELECT c.api_id AS "apiId", c.document_id AS "documentId", c.locale, c.seq AS last FROM content_changes c
      WHERE c.published AND c.seq > ${BigInt(after)} AND c.seq <= ${BigInt(to)} AND c.api_id = ANY (${token.types}::text[]) ${locale}
        AND NOT EXISTS (SELECT 1 FROM content_changes d WHERE d.published AND d.document_id = c.document_id
          AND d.locale = c.locale AND d.seq > c.seq AND d.seq <= ${BigInt(to)})
      ORDER BY c.seq LIMIT ${size + 1}`
    const page = changed.slice(0, size)
    const current = page.length === 0
      ? []
      : await prisma.$queryRaw<ChangedRow[]>`
      SELECT ${columns} FROM entries e JOIN content_types t ON t.id = e.content_type_id
      WHERE e.published IS NOT NULL
        AND (e.document_id, e.locale) IN (${Prisma.join(page.map((c) => Prisma.sql`(${c.documentId}::uuid, ${c.locale})`))})`
    const published = new Map(current.map((row) => [`${row.documentId} ${row.locale}`, row]))
    const live = page.flatMap((c) => published.get(`${c.documentId} ${c.locale}`) ?? [])
    const entries = new Map((await upserts(principal, live)).map((item) => [`${item.documentId} ${item.locale}`, item]))
    const data = page.map((c) => entries.get(`${c.documentId} ${c.locale}`)
      ?? { action: 'delete' as const, contentType: c.apiId, documentId: c.documentId, locale: c.locale })
    const { initial, delta, ...rest } = token
    const meta = changed.length > size
      ? { nextPageToken: encode({ ...rest, delta: { to, after: String((page.at(-1) as { last: bigint }).last) } }) }
      : { syncToken: encode({ ...rest, seq: to }) }
    return { data, meta }
  }

  return {
    /** One page of the feed: the first request's, or the one a token names. */
    async page(principal: Principal, query: { token?: string, type?: string, locale?: string }) {
      if (query.token === undefined) {
        const seq = String((await app.delivery.sequence()).latest)
        const types = await typesOf(principal, query.type)
        const { locales } = await app.delivery.model()
        if (query.locale !== undefined && !locales.includes(query.locale)) {
          throw invalid(`No locale "${query.locale}"`, [
            { in: 'querystring', path: '/locale', message: `must be one of ${locales.join(', ')}`, allowed: locales },
          ])
        }
        return initialPage(principal, { seq, types, ...(query.locale === undefined ? {} : { locale: query.locale }) })
      }
      if (query.type !== undefined || query.locale !== undefined) {
        throw invalid('A token keeps the first request\'s type and locale: leave them out', [
          { in: 'querystring', path: query.type === undefined ? '/locale' : '/type', message: 'must be left out with a token' },
        ])
      }
      const token = decode(query.token)
      // The caller's permissions may have narrowed since: only types they may still read.
      const readable = await typesOf(principal, undefined)
      const narrowed = { ...token, types: token.types.filter((t) => readable.includes(t)) }
      return narrowed.initial !== undefined ? initialPage(principal, narrowed) : deltaPage(principal, narrowed)
    },
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    sync: ReturnType<typeof createSync>
  }
}

async function syncPlugin(app: FastifyInstance): Promise<void> {
  app.decorate('sync', createSync(app))
}

export default fp(syncPlugin, { name: 'sync', dependencies: ['prisma', 'delivery'] })
