import { createHash } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { invalid, NotFoundError } from '../errors.js'
import { Prisma } from '../generated/prisma/client.js'
import type { FieldDefinition } from '../schemas/content-model.js'
import type { DeliveryQuery } from '../schemas/delivery.js'
import { type Principal, type Rule, ruleFor } from './access-control.js'
import { type Data, idsOf, isData, mapData } from './content-data.js'
import { componentFields, type Components } from './content-schema.js'
import {
  afterCursor,
  decodeCursor,
  type DeliveryType,
  encodeCursor,
  entryLevel,
  innerFields,
  readable,
  orderOf,
  type Populate,
  populateOf,
  type QueryContext,
  searchOf,
  selectionOf,
  sortOf,
  type SortTerm,
  whereOf,
} from './delivery-query.js'

type Sql = Prisma.Sql
type RelationField = Extract<FieldDefinition, { type: 'relation' }>
type ReadQuery = Pick<DeliveryQuery, 'status' | 'locale' | 'fallback' | 'fields' | 'populate'>
type Fields = readonly FieldDefinition[]

/** The content model as delivery reads it: one statement, kept for a moment (see read-cache.ts). */
interface Model {
  /** Changes when anything below does. */
  fingerprint: string
  types: Map<string, DeliveryType & { kind: 'collection' | 'single' }>
  components: Components
  locales: string[]
  defaultLocale: string
}

/** An entry variant as a query reads it. */
export interface DeliveredRow {
  id: string
  documentId: string
  locale: string
  data: Data
  createdAt: Date
  updatedAt: Date
  publishedAt: Date | null
  version: number
  publishedVersion: number | null
}

/** While an answer is made: the query's context, and the ids of every document in it (for CDN purges). */
interface Shaping {
  context: QueryContext
  documents: Set<string>
}

/** What a query asked to see of the entries: which fields, what populated. */
interface Asked {
  fields?: string[] | undefined
  populate: Populate
}

const ROW = Prisma.raw('e')

function columns(row: Sql, status: QueryContext['status']): Sql {
  return Prisma.sql`${row}.id, ${row}.document_id AS "documentId", ${row}.locale, ${row}.${Prisma.raw(status)} AS data,
    ${row}.created_at AS "createdAt", ${row}.updated_at AS "updatedAt", ${row}.published_at AS "publishedAt",
    ${row}.version, ${row}.published_version AS "publishedVersion"`
}

/**
 * The delivery API: published content as websites and site generators read it (drafts only for
 * callers who may read them and ask). Private fields never appear; a caller sees the types and
 * fields their permissions let them read, relations only to documents they could read too.
 */
function createDelivery(app: FastifyInstance) {
  const { prisma, config, readCache } = app

  async function model(): Promise<Model> {
    return readCache.get('delivery-model', async () => {
      const [row] = await prisma.$queryRaw<[{ types: Model['types'] extends Map<string, infer T> ? T[] : never, components: { uid: string, fields: Fields }[], locales: { code: string, isDefault: boolean }[] }]>`
        SELECT
          (SELECT coalesce(json_agg(json_build_object('id', id, 'apiId', api_id, 'kind', kind, 'localized', localized, 'fields', fields) ORDER BY api_id), '[]') FROM content_types) AS types,
          (SELECT coalesce(json_agg(json_build_object('uid', uid, 'fields', fields) ORDER BY uid), '[]') FROM components) AS components,
          (SELECT json_agg(json_build_object('code', code, 'isDefault', is_default) ORDER BY code) FROM locales) AS locales`
      return {
        fingerprint: createHash('sha1').update(JSON.stringify(row)).digest('base64url'),
        types: new Map(row.types.map((t) => [t.apiId, t])),
        components: new Map(row.components.map((c) => [c.uid, c.fields])),
        locales: row.locales.map((l) => l.code),
        defaultLocale: (row.locales.find((l) => l.isDefault) as { code: string }).code,
      }
    })
  }

  /** The model, the query's context and the type asked for (404 if there is none). */
  async function contextOf(principal: Principal, apiId: string, query: Pick<DeliveryQuery, 'status' | 'locale' | 'fallback'>) {
    const { types, components, locales, defaultLocale } = await model()
    const type = types.get(apiId)
    if (type === undefined) throw new NotFoundError(`No content type "${apiId}"`)
    const chain = [...new Set([query.locale ?? defaultLocale, ...(query.fallback?.split(',') ?? [])])]
    chain.forEach((code, i) => {
      if (locales.includes(code)) return
      const path = i === 0 && query.locale !== undefined ? '/locale' : '/fallback'
      throw invalid(`No locale "${code}"`, [{ in: 'querystring', path, message: `must name locales among ${locales.join(', ')}`, allowed: locales }])
    })
    // Asked only of types the caller may read: the route's, and those a relation may lead to (`reachable`).
    const readableFields = (name: string) => {
      const rule = ruleFor(principal.rules, `content:${name}`, 'read') as Rule
      const { fields } = types.get(name) as DeliveryType
      const granted = (name: string) => rule.fields.length === 0 || rule.fields.includes(name)
      return new Set(fields.filter((f) => f.private !== true && granted(f.name)).map((f) => f.name))
    }
    const reachable = (name: string) => types.has(name) && ruleFor(principal.rules, `content:${name}`, 'read')?.ownOnly === false
    const context: QueryContext = { types, components, status: query.status, chain, readableFields, reachable }
    return { type, context, locales }
  }

  /** An own-only read permission narrows to the caller's entries. */
  function ownership(principal: Principal, apiId: string): Sql {
    const rule = ruleFor(principal.rules, `content:${apiId}`, 'read')
    return rule?.ownOnly === true && principal.kind === 'user' ? Prisma.sql`${ROW}.created_by_id = ${principal.userId}::uuid` : Prisma.sql`true`
  }

  /** The conditions every entry of an answer meets: its type, status, locale and owner. */
  function base(type: DeliveryType, context: QueryContext, principal: Principal): Sql[] {
    return [readable(ROW, type, context), ownership(principal, type.apiId)]
  }

  /** Data without private fields (at any depth) and without the top-level fields the caller may not read or did not select. */
  function visibleData(data: Data, type: DeliveryType, context: QueryContext, selection: string[] | undefined): Data {
    const readable = context.readableFields(type.apiId)
    const shown = (name: string) => readable.has(name) && (selection?.includes(name) ?? true)
    const kept = Object.fromEntries(Object.entries(data).filter(([name]) => shown(name)))
    const unlessPrivate = (field: FieldDefinition, value: unknown) => (field.private === true ? undefined : value)
    return mapData(kept, type.fields, context.components, unlessPrivate)
  }

  /** Walks the relation values of data (through components and dynamic zones), with the field that holds each. */
  function eachRelation(data: Data, fields: Fields, components: Components, visit: (field: Extract<FieldDefinition, { type: 'relation' }>, holder: Data) => void) {
    for (const field of fields) {
      const value = data[field.name]
      if (value === undefined) continue
      if (field.type === 'relation') visit(field, data)
      const items = Array.isArray(value) ? value : [value]
      if (field.type === 'component') items.filter(isData).forEach((item) => eachRelation(item, componentFields(components, field.component), components, visit))
      if (field.type === 'dynamiczone') {
        const inner = (item: Data) => componentFields(components, String(item.__component))
        items.filter(isData).forEach((item) => eachRelation(item, inner(item), components, visit))
      }
    }
  }

  /**
   * Relations keep only the documents the caller could read (published, in the locales asked
   * for, of a readable type): one statement for all of the data's links.
   */
  async function visibleLinks(objects: Data[], fields: Fields, context: QueryContext): Promise<void> {
    const wanted = new Map<string, Set<string>>()
    for (const data of objects) {
      eachRelation(data, fields, context.components, (field, holder) => {
        if (!context.reachable(field.target)) {
          delete holder[field.name]
          return
        }
        const ids = wanted.get(field.target) ?? new Set()
        idsOf(holder[field.name]).forEach((id) => ids.add(id))
        wanted.set(field.target, ids)
      })
    }
    const groups = [...wanted].filter(([, ids]) => ids.size > 0)
    if (groups.length === 0) return
    const r = Prisma.raw('r')
    const conditions = groups.map(([apiId, ids]) => {
      const target = context.types.get(apiId) as DeliveryType
      return Prisma.sql`(${readable(r, target, context)} AND r.document_id = ANY (${[...ids]}::uuid[]))`
    })
    const found = await prisma.$queryRaw<{ documentId: string }[]>`
      SELECT DISTINCT r.document_id AS "documentId" FROM entries r WHERE ${Prisma.join(conditions, ' OR ')}`
    const seen = new Set(found.map((f) => f.documentId))
    for (const data of objects) {
      eachRelation(data, fields, context.components, (field, holder) => {
        const value = holder[field.name]
        if (Array.isArray(value)) holder[field.name] = value.filter((id) => seen.has(id as string))
        else if (!seen.has(value as string)) delete holder[field.name]
      })
    }
  }

  /** Entries as the delivery API answers them. */
  function present(row: DeliveredRow, data: Data, context: QueryContext) {
    return {
      documentId: row.documentId,
      ...data,
      locale: row.locale,
      createdAt: row.createdAt,
      publishedAt: row.publishedAt,
      ...(context.status === 'draft'
        ? {
            updatedAt: row.updatedAt,
            status: row.publishedVersion === null ? 'draft' : row.publishedVersion === row.version ? 'published' : 'modified',
          }
        : {}),
    }
  }

  /**
   * Rows as answers: visible data, relations filtered, then populated level by level. Each
   * populated field costs one statement for the whole page, at every level.
   */
  async function shape(rows: DeliveredRow[], type: DeliveryType, shaping: Shaping, asked: Asked) {
    const { context, documents } = shaping
    // A populated field comes even when `fields` does not name it.
    const selection = asked.fields && [...asked.fields, ...Object.keys(asked.populate)]
    const objects = rows.map((row) => visibleData(row.data, type, context, selection))
    rows.forEach((row) => documents.add(row.documentId))
    await visibleLinks(objects, type.fields, context)
    await fill(objects, type.fields, asked.populate, shaping)
    return rows.map((row, i) => present(row, objects[i] as Data, context))
  }

  /** Replaces the links named by `populate` with the entries they link to, and descends into components. */
  async function fill(objects: Data[], fields: Fields, populate: Populate, shaping: Shaping): Promise<void> {
    const { context } = shaping
    for (const [name, spec] of Object.entries(populate)) {
      const field = fields.find((f) => f.name === name) as FieldDefinition
      const holders = objects.filter((o) => o[name] !== undefined)
      if (field.type === 'relation') {
        await populateRelation(holders, field, spec, shaping)
      } else if (field.type === 'media') {
        await populateMedia(holders, name)
      } else if (field.type === 'component') {
        const inner = holders.flatMap((o) => [o[name]].flat()).filter(isData)
        await fill(inner, innerFields(field, context), spec.populate, shaping)
      } else if (field.type === 'dynamiczone') {
        const items = holders.flatMap((o) => [o[name]].flat()).filter(isData)
        for (const uid of new Set(items.map((item) => String(item.__component)))) {
          const inner = componentFields(context.components, uid)
          const known = Object.entries(spec.populate).filter(([key]) => inner.some((f) => f.name === key))
          await fill(items.filter((item) => item.__component === uid), inner, Object.fromEntries(known), shaping)
        }
      }
    }
  }

  /** Media ids become what a front end needs to show them; one that went is left out. */
  async function populateMedia(holders: Data[], name: string) {
    const found = await app.media.delivered(holders.flatMap((h) => idsOf(h[name])))
    for (const holder of holders) {
      const value = holder[name]
      holder[name] = Array.isArray(value)
        ? idsOf(value).flatMap((id) => found.get(id) ?? [])
        : found.get(value as string) ?? null
    }
  }

  async function populateRelation(holders: Data[], field: RelationField, spec: Populate[string], shaping: Shaping) {
    const { context } = shaping
    const ids = [...new Set(holders.flatMap((h) => idsOf(h[field.name])))]
    if (ids.length === 0) return
    const target = context.types.get(field.target) as DeliveryType
    const rows = await prisma.$queryRaw<DeliveredRow[]>`
      SELECT ${columns(ROW, context.status)} FROM entries ${ROW}
      WHERE ${readable(ROW, target, context)} AND ${ROW}.document_id = ANY (${ids}::uuid[])`
    const shaped = await shape(rows, target, shaping, spec)
    const byId = new Map(shaped.map((entry) => [entry.documentId, entry]))
    for (const holder of holders) {
      const value = holder[field.name]
      // The links were checked a statement ago: one that went meanwhile (unpublished) is left out.
      /* c8 ignore next 3: a race between two statements */
      holder[field.name] = Array.isArray(value)
        ? idsOf(value).flatMap((id) => byId.get(id) ?? [])
        : byId.get(value as string) ?? null
    }
  }

  /** The query's selection and population, checked. */
  function askedOf(query: ReadQuery, type: DeliveryType, context: QueryContext): Asked {
    const readable = context.readableFields(type.apiId)
    const { fields, populate } = query
    return {
      fields: fields === undefined ? undefined : selectionOf(fields, type.fields, readable, '/fields'),
      populate: populate === undefined
        ? {}
        : populateOf(populate, type.fields, context, config.GUDANG_DELIVERY_MAX_DEPTH, type.apiId),
    }
  }

  /** One document's entry: a collection type's by id, or a single type's one entry. */
  async function one(principal: Principal, apiId: string, documentId: string | undefined, query: ReadQuery) {
    const { type, context } = await contextOf(principal, apiId, query)
    if (documentId !== undefined && type.kind === 'single') throw new NotFoundError(`"${apiId}" is a single type: GET /api/content/${apiId}`)
    const asked = askedOf(query, type, context)
    const conditions = [...base(type, context, principal), ...(documentId === undefined ? [] : [Prisma.sql`${ROW}.document_id = ${documentId}::uuid`])]
    const rows = await prisma.$queryRaw<DeliveredRow[]>`
      SELECT ${columns(ROW, context.status)} FROM entries ${ROW} WHERE ${Prisma.join(conditions, ' AND ')} ORDER BY ${ROW}.created_at LIMIT 1`
    if (rows.length === 0) {
      throw new NotFoundError(`No ${context.status} "${apiId}" entry${documentId === undefined ? '' : ` ${documentId}`} in ${context.chain.join(', ')}`)
    }
    const documents = new Set<string>()
    const [data] = await shape(rows, type, { context, documents }, asked)
    return { data, documents }
  }

  /**
   * Places the committed changes that have no place yet, in the order they are placed, and
   * answers the last place, and the last of a change readers see. Placings take turns, each
   * seeing every change committed before it began: a place once given is never followed by a
   * smaller one.
   */
  async function sequence(): Promise<{ latest: bigint, published: bigint, media: Date | null }> {
    const [{ pending }] = await prisma.$queryRaw<[{ pending: boolean }]>`
      SELECT EXISTS (SELECT 1 FROM content_changes WHERE seq IS NULL) AS pending`
    if (pending) {
      // Read committed: the UPDATE's snapshot is taken after the lock is granted.
      await prisma.$transaction(async (tx) => {
        await tx.$queryRaw`SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtext('gudang.content-changes'))) AS locked`
        await tx.$executeRaw`
          UPDATE content_changes c SET seq = p.seq
          FROM (SELECT id, (SELECT coalesce(max(seq), 0) FROM content_changes) + row_number() OVER (ORDER BY id) AS seq
                FROM content_changes WHERE seq IS NULL) p
          WHERE c.id = p.id`
      }, { isolationLevel: 'ReadCommitted' })
    }
    // And the last change to media: populated media show their current texts and files.
    const [places] = await prisma.$queryRaw<[{ latest: bigint, published: bigint, media: Date | null }]>`
      SELECT coalesce(max(seq), 0)::bigint AS latest,
        coalesce((SELECT max(seq) FROM content_changes WHERE published), 0)::bigint AS published,
        (SELECT max(updated_at) FROM media) AS media
      FROM content_changes`
    return places
  }

  /**
   * The ETag of an answer, known before it is made: it changes whenever the answer may have —
   * an entry changed (the change log's last place; for published answers, the last change
   * readers see: saving drafts keeps them), the model or the locales changed, or the caller's
   * permissions did. Both are read through the read cache: revalidating costs no query.
   */
  async function etag(principal: Principal, url: string, status: QueryContext['status']): Promise<string> {
    const [places, { fingerprint }] = await Promise.all([readCache.get('content-clock', sequence), model()])
    const clock = `${places[status === 'published' ? 'published' : 'latest']} ${places.media?.getTime()}`
    const caller = principal.kind === 'anonymous' ? '' : principal.kind === 'user' ? principal.userId : principal.tokenId
    // The rules in a stable order: read in any order, they are the same rules.
    const rules = principal.rules.map((r) => JSON.stringify([r.subject, r.action, r.ownOnly, r.fields])).sort()
    const hash = createHash('sha1').update(`${clock} ${fingerprint} ${caller} ${rules.join()} ${url}`)
    return `W/"${hash.digest('base64url')}"`
  }

  return {
    etag,
    sequence,

    /** A page of a collection type's entries: filtered, searched, sorted, by page or by cursor. */
    async list(principal: Principal, apiId: string, query: DeliveryQuery) {
      const { type, context } = await contextOf(principal, apiId, query)
      // A single type's one entry is its list.
      if (type.kind === 'single') return one(principal, apiId, undefined, query)
      const asked = askedOf(query, type, context)
      if (query.pageSize > config.GUDANG_DELIVERY_MAX_PAGE_SIZE) {
        throw invalid(`pageSize is at most ${config.GUDANG_DELIVERY_MAX_PAGE_SIZE}`, [
          { in: 'querystring', path: '/pageSize', message: `must be at most ${config.GUDANG_DELIVERY_MAX_PAGE_SIZE}` },
        ])
      }
      if (query.after !== undefined && query.page !== undefined) {
        throw invalid('Page by number or by cursor, not both', [{ in: 'querystring', path: '/page', message: 'must be left out with after' }])
      }
      const search = query.q === undefined ? undefined : searchOf(query.q, ROW, type, context)
      const sort = query.sort ?? (search === undefined ? 'createdAt:desc' : undefined)
      const terms = sort === undefined
        ? [(search as { rank: SortTerm }).rank]
        : sortOf(sort, ROW, type, context, config.GUDANG_DELIVERY_MAX_DEPTH)
      const conditions = [
        ...base(type, context, principal),
        ...(query.filters === undefined ? [] : [whereOf(query.filters, entryLevel(ROW, type, context, '/filters'), context)]),
        ...(search === undefined ? [] : [search.condition]),
      ]
      const sortKey = sort ?? 'rank'
      const cursor = query.after === undefined ? undefined : decodeCursor(query.after, sortKey, terms.length)
      const where = Prisma.join([...conditions, ...(cursor === undefined ? [] : [afterCursor(terms, cursor, ROW)])], ' AND ')
      const page = query.page ?? 1
      const offset = cursor === undefined ? (page - 1) * query.pageSize : 0
      const keys = Prisma.join(terms.map((t, i) => Prisma.sql`(${t.expression})::text AS ${Prisma.raw(`k${i}`)}`), ', ')
      // Paging by number counts the matches in the same pass.
      const count = cursor === undefined ? Prisma.sql`, count(*) OVER ()::int AS total` : Prisma.empty
      const found = await prisma.$queryRaw<(DeliveredRow & Record<string, string | number | null>)[]>`
        SELECT ${columns(ROW, context.status)}, ${keys}${count} FROM entries ${ROW}
        WHERE ${where} ORDER BY ${orderOf(terms, ROW)} LIMIT ${query.pageSize + 1} OFFSET ${offset}`
      const rows = found.slice(0, query.pageSize)
      const last = rows.at(-1)
      const nextCursor = found.length > query.pageSize && last !== undefined
        ? encodeCursor({ sort: sortKey, values: terms.map((_, i) => (last[`k${i}`] ?? null) as string | null), id: last.id })
        : null
      let total = cursor === undefined ? Number(found[0]?.total ?? 0) : undefined
      // A page past the end has no row to tell the count.
      if (cursor === undefined && found.length === 0 && page > 1) {
        const [counted] = await prisma.$queryRaw<[{ total: number }]>`
          SELECT count(*)::int AS total FROM entries ${ROW} WHERE ${Prisma.join(conditions, ' AND ')}`
        total = counted.total
      }
      const documents = new Set<string>()
      const data = await shape(rows, type, { context, documents }, asked)
      const meta = total === undefined
        ? { pageSize: query.pageSize, nextCursor }
        : { page, pageSize: query.pageSize, total, pageCount: Math.ceil(total / query.pageSize), nextCursor }
      return { data, meta, documents }
    },

    one,

    /** Published entries of a type as the caller may see them, as they are (the sync feed's). */
    async present(principal: Principal, apiId: string, rows: DeliveredRow[]) {
      const { type, context, locales } = await contextOf(principal, apiId, { status: 'published' })
      // Links count to documents published in any locale.
      return shape(rows, type, { context: { ...context, chain: locales }, documents: new Set() }, { populate: {} })
    },

    model,
    columns,
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    delivery: ReturnType<typeof createDelivery>
  }
}

async function deliveryPlugin(app: FastifyInstance): Promise<void> {
  app.decorate('delivery', createDelivery(app))
}

export default fp(deliveryPlugin, { name: 'delivery', dependencies: ['prisma', 'read-cache'] })
