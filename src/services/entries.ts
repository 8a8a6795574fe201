import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ConflictError, invalid, listed, MediaInUseError, NotFoundError, PreconditionFailedError, type RequestProblem, withDetails } from '../errors.js'
import { type Entry, Prisma } from '../generated/prisma/client.js'
import type { FieldDefinition } from '../schemas/content-model.js'
import type { ListQuery } from '../schemas/entries.js'
import { assertWritableFields, type Grant, type Principal, readableFields, ruleFor } from './access-control.js'
import { changedFields, type Data, idsOf, mapData } from './content-data.js'
import { type Actor, audit } from './audit.js'
import { lockEntries } from './content-model.js'
import type { Components, Problem, ValidationMode } from './content-schema.js'
import { inverses, type Links, mediaFields, type ModelTypes, type Reference, referencing, relationTo, unlink } from './relations.js'
import { MAX_MARKDOWN, markdownToBlocks } from './richtext.js'

type Transaction = Prisma.TransactionClient
type TypeRow = Awaited<ReturnType<FastifyInstance['contentModel']['getType']>>
export type EntryState = 'draft' | 'published' | 'modified'
export type EntryStatus = 'draft' | 'published'
type Fields = readonly FieldDefinition[]
type CodedError = { statusCode?: number, code: string, message: string, details?: unknown }
type Json = Prisma.InputJsonValue

/** An entry variant: its document and locale. */
interface Where {
  locale: string
  documentId: string
}

/** What a request may do with a content type's entries. */
export interface Scope {
  apiId: string
  grant: Grant
  actor: Actor
  rules: Principal['rules']
}

/** An entry variant is named by its document id and, in a localized type, its locale. */
export interface Target {
  documentId: string
  locale?: string
  /** The version the caller last saw (`If-Match` or the body's `version`): a stale one is refused. */
  expected?: number
}

export function stateOf(entry: Pick<Entry, 'version' | 'publishedVersion'>): EntryState {
  if (entry.publishedVersion === null) return 'draft'
  return entry.publishedVersion === entry.version ? 'published' : 'modified'
}

/** A URL-safe slug of a text: `Héllo, World!` → `hello-world`. */
export function slugify(text: string, maxLength = 200): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, maxLength)
    .replace(/^-+|-+$/g, '')
}

/** The entry states as SQL conditions. */
const STATES = {
  draft: Prisma.sql`published_version IS NULL`,
  published: Prisma.sql`published_version = version`,
  modified: Prisma.sql`published_version <> version`,
}

/** Columns of an entry that lists sort on, beside its fields. */
const TIMESTAMPS = new Map([['createdAt', 'created_at'], ['updatedAt', 'updated_at'], ['publishedAt', 'published_at']])
const TEXT_TYPES = new Set(['string', 'text', 'email', 'url', 'uid', 'enumeration'])
const SORTABLE_TYPES = new Set([...TEXT_TYPES, 'integer', 'decimal', 'boolean', 'date', 'datetime'])

/** `title:asc,updatedAt:desc` as ORDER BY terms; an unknown or unsortable field is a 400 naming the choices. */
function sortOf(type: { fields: Prisma.JsonValue }, column: Prisma.Sql, sort = 'updatedAt:desc'): Prisma.Sql[] {
  const fields = type.fields as unknown as FieldDefinition[]
  return sort.split(',').map((term) => {
    const [name = '', direction = 'asc'] = term.split(':')
    const order = Prisma.raw(direction === 'desc' ? 'DESC NULLS LAST' : 'ASC NULLS LAST')
    const timestamp = TIMESTAMPS.get(name)
    if (timestamp !== undefined) return Prisma.sql`${Prisma.raw(timestamp)} ${order}`
    const field = fields.find((f) => f.name === name && SORTABLE_TYPES.has(f.type))
    if (field === undefined) {
      const sortable = fields.filter((f) => SORTABLE_TYPES.has(f.type)).map((f) => f.name)
      const allowed = [...TIMESTAMPS.keys(), ...sortable]
      throw invalid(`Cannot sort by "${name}"`, [
        { in: 'querystring', path: '/sort', message: `must name one of ${allowed.join(', ')}`, allowed },
      ])
    }
    const numeric = field.type === 'integer' || field.type === 'decimal'
    const cast = numeric ? '::numeric' : field.type === 'boolean' ? '::boolean' : ''
    return Prisma.sql`(${column} ->> ${field.name})${Prisma.raw(cast)} ${order}`
  })
}

/** Entries whose text fields contain `q`, in any case (LIKE's wildcards in `q` are plain characters). */
function search(type: { fields: Prisma.JsonValue }, column: Prisma.Sql, q: string): Prisma.Sql {
  const texts = (type.fields as unknown as FieldDefinition[]).filter((f) => TEXT_TYPES.has(f.type))
  if (texts.length === 0) return Prisma.sql`false`
  const pattern = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
  return Prisma.sql`concat_ws(' ', ${Prisma.join(texts.map((f) => Prisma.sql`${column} ->> ${f.name}`), ', ')}) ILIKE ${pattern}`
}

function refuse(problems: Problem[], what: string): void {
  if (problems.length === 0) return
  // The body's `data` is an object (its schema says so): every problem is at a field in it.
  throw invalid(`${what}: ${listed(problems)}`, problems.map((p) => ({ in: 'body', path: `/data${p.path}`, message: p.message })))
}

/** What a link is, for a client: where it is, without the internals. */
function usesOf(references: Reference[]) {
  return references.map(({ apiId, documentId, locale, status, path }) => ({ apiId, documentId, locale, status, path }))
}

function withoutUndefined(data: Data): Data {
  return Object.fromEntries(Object.entries(data).filter(([, value]) => value !== undefined))
}

function json(data: Data): Prisma.InputJsonValue {
  return data as Prisma.InputJsonValue
}

/**
 * Entries of the content types, as the management API serves them to editors. One row per
 * document and locale holds the draft and, once published, the published data; every change
 * is checked against the content type, raises the version, is recorded as an entry version and
 * in the audit log, all in one transaction.
 */
function createEntries(app: FastifyInstance) {
  const { prisma, config, contentModel } = app

  async function componentsOf(tx: Transaction): Promise<Components> {
    const rows = await tx.component.findMany({ select: { uid: true, fields: true } })
    return new Map(rows.map((c) => [c.uid, c.fields as unknown as FieldDefinition[]]))
  }

  function fieldsOf(type: TypeRow): FieldDefinition[] {
    return type.fields as unknown as FieldDefinition[]
  }

  /** The locale of a request: the default unless the type is localized and one is asked for. */
  async function localeOf(tx: Transaction, type: TypeRow, requested: string | undefined): Promise<string> {
    if (type.localized && requested !== undefined) {
      const locale = await tx.locale.findUnique({ where: { code: requested } })
      if (locale !== null) return locale.code
      const known = await tx.locale.findMany({ orderBy: { code: 'asc' }, select: { code: true } })
      const allowed = known.map((l) => l.code)
      throw invalid(`No locale "${requested}"`, [
        { in: 'querystring', path: '/locale', message: `must be one of ${allowed.join(', ')}`, allowed },
      ])
    }
    const fallback = await tx.locale.findFirstOrThrow({ where: { isDefault: true } })
    return fallback.code
  }

  /**
   * Writes of a type's entries take turns (so two saves cannot both pass a unique check), also
   * with changes of its definition: read again under the lock, the definition is the one that
   * holds until the write commits.
   */
  async function locked(tx: Transaction, type: TypeRow): Promise<TypeRow> {
    await lockEntries(tx, type.id)
    // Deleted meanwhile: 404 (the error handler's answer to a missing row).
    return tx.contentType.findUniqueOrThrow({ where: { id: type.id } })
  }

  /** Markdown given for a rich-text field becomes blocks; null clears a top-level field. */
  function normalise(data: Data, fields: readonly FieldDefinition[], components: Components): Data {
    const tooLong: Problem[] = []
    const converted = mapData(data, fields, components, (field, value, path) => {
      if (field.type !== 'richtext' || typeof value !== 'string') return value
      if (value.length <= MAX_MARKDOWN) return markdownToBlocks(value)
      tooLong.push({ path, message: `Markdown must be at most ${MAX_MARKDOWN} characters: send longer text as blocks` })
      return value
    })
    refuse(tooLong, 'Invalid data')
    return Object.fromEntries(Object.entries(converted).filter(([, value]) => value !== null))
  }

  /** The fields compared for uniqueness: unique ones and UIDs, at the top level. */
  function uniqueFields(type: TypeRow): FieldDefinition[] {
    return fieldsOf(type).filter((f) => f.unique === true || f.type === 'uid')
  }

  /** Whether another entry of the type (in the locale) holds the value in its draft or published data. */
  async function taken(tx: Transaction, type: TypeRow, where: Where, status: EntryStatus, field: string, value: Json) {
    const other = await tx.entry.findFirst({
      where: {
        contentTypeId: type.id,
        ...(type.localized ? { locale: where.locale } : {}),
        documentId: { not: where.documentId },
        [status]: { path: [field], equals: value },
      },
      select: { documentId: true },
    })
    return other?.documentId
  }

  /** An empty UID field is made from its target field, numbered until it is free. */
  async function generateUids(tx: Transaction, type: TypeRow, where: Where, data: Data): Promise<Data> {
    const result = { ...data }
    for (const field of fieldsOf(type)) {
      if (field.type !== 'uid' || field.targetField === undefined || result[field.name] !== undefined) continue
      const source = result[field.targetField]
      const maxLength = field.maxLength ?? 200
      const base = typeof source === 'string' ? slugify(source, maxLength) : ''
      if (base === '') continue
      let candidate = base
      for (let n = 2; await taken(tx, type, where, 'draft', field.name, candidate) !== undefined; n++) {
        // The number fits within the maximum length: a UID made here must also pass publishing.
        const suffix = `-${n}`
        candidate = `${base.slice(0, Math.max(maxLength - suffix.length, 1)).replace(/-+$/, '')}${suffix}`
      }
      result[field.name] = candidate
    }
    return result
  }

  async function uniqueProblems(tx: Transaction, type: TypeRow, where: Where, status: EntryStatus, data: Data) {
    const problems: Problem[] = []
    for (const field of uniqueFields(type)) {
      // Null is never stored: normalise() drops it.
      const value = data[field.name] as Json | undefined
      if (value === undefined) continue
      const holder = await taken(tx, type, where, status, field.name, value)
      if (holder !== undefined) {
        problems.push({ path: `/${field.name}`, message: `must be unique: ${status === 'draft' ? 'a draft' : 'a published entry'} (${holder}) has this value` })
      }
    }
    return problems
  }

  /**
   * Media fields must hold existing media items of the kinds they allow. The items stay until
   * this commits (a deletion waits, then sees the new use).
   */
  async function mediaProblems(tx: Transaction, data: Data, fields: Fields, components: Components) {
    const wanted: { kinds: readonly string[] | undefined, id: string, path: string }[] = []
    mapData(data, fields, components, (field, value, path) => {
      if (field.type === 'media') idsOf(value).forEach((id) => wanted.push({ kinds: field.allowedKinds, id, path }))
      return value
    })
    if (wanted.length === 0) return []
    const found = await tx.$queryRaw<{ id: string, kind: string }[]>`
      SELECT id, kind::text FROM media WHERE id = ANY (${[...new Set(wanted.map((w) => w.id))]}::uuid[]) FOR KEY SHARE`
    const kinds = new Map(found.map((m) => [m.id, m.kind]))
    return wanted.flatMap(({ kinds: allowed, id, path }) => {
      const kind = kinds.get(id)
      if (kind === undefined) return [{ path, message: `there is no media item ${id}` }]
      return allowed === undefined || allowed.includes(kind) ? [] : [{ path, message: `must be ${allowed.join(' or ')}: media item ${id} is ${kind}` }]
    })
  }

  /** Relations must point at existing documents of their target type (published or not). */
  async function relationProblems(tx: Transaction, data: Data, fields: Fields, components: Components) {
    const wanted: { target: string, id: string, path: string }[] = []
    mapData(data, fields, components, (field, value, path) => {
      if (field.type === 'relation') idsOf(value).forEach((id) => wanted.push({ target: field.target, id, path }))
      return value
    })
    if (wanted.length === 0) return []
    // The targets stay until this commits (a deletion of one waits, then sees the new link).
    const ids = [...new Set(wanted.map((w) => w.id))]
    const found = await tx.$queryRaw<{ documentId: string, apiId: string }[]>`
      SELECT e.document_id AS "documentId", t.api_id AS "apiId"
      FROM entries e JOIN content_types t ON t.id = e.content_type_id
      WHERE e.document_id = ANY (${ids}::uuid[])
      FOR KEY SHARE OF e`
    const existing = new Set(found.map((e) => `${e.apiId} ${e.documentId}`))
    return wanted
      .filter((w) => !existing.has(`${w.target} ${w.id}`))
      .map((w) => ({ path: w.path, message: `there is no "${w.target}" entry ${w.id}` }))
  }

  /**
   * Checks data for saving (draft mode, or publish mode where saving publishes) or publishing:
   * the content type's validator, then relations and unique values.
   */
  async function check(
    tx: Transaction,
    type: TypeRow,
    components: Components,
    mode: ValidationMode,
    data: Data,
    at: Where,
  ) {
    const fields = fieldsOf(type)
    const { problems } = contentModel.check(fields, components, mode, data)
    // Without draft & publish a save is checked like a publish, but it is still a save.
    const what = mode === 'publish' && type.draftAndPublish ? 'Cannot publish' : 'Invalid data'
    refuse(problems, what)
    const status: EntryStatus = mode === 'draft' && type.draftAndPublish ? 'draft' : 'published'
    const unique = await uniqueProblems(tx, type, at, status, data)
    // Saving without draft & publish publishes: unique among both, each field told once.
    const amongDrafts = status === 'published' && !type.draftAndPublish
      ? await uniqueProblems(tx, type, at, 'draft', data)
      : []
    refuse([
      ...await relationProblems(tx, data, fields, components),
      ...await mediaProblems(tx, data, fields, components),
      ...unique,
      ...amongDrafts.filter((p) => !unique.some((u) => u.path === p.path)),
    ], what)
  }

  async function record(tx: Transaction, entry: Entry, action: Prisma.EntryVersionCreateInput['action'], data: Data, changed: string[], actor: Actor, apiId: string) {
    await tx.entryVersion.create({
      data: { entryId: entry.id, version: entry.version, action, data: json(data), changed, createdById: actor.userId },
    })
    const oldest = entry.version - config.GUDANG_ENTRY_VERSIONS
    await tx.entryVersion.deleteMany({ where: { entryId: entry.id, version: { lte: oldest } } })
    await audit(tx, {
      action: `entry.${action}`,
      subject: `content:${apiId}`,
      actor,
      details: { documentId: entry.documentId, locale: entry.locale, version: entry.version, changed },
      content: json(data),
    })
  }

  /** The variant a request names, locked for the change; a stale expected version is refused. */
  async function findForChange(tx: Transaction, type: TypeRow, scope: Scope, target: Target) {
    const entry = await find(tx, type, scope, target)
    await tx.$queryRaw`SELECT 1 FROM entries WHERE id = ${entry.id}::uuid FOR UPDATE`
    const current = await tx.entry.findUniqueOrThrow({ where: { id: entry.id } })
    if (target.expected !== undefined && target.expected !== current.version) {
      throw withDetails(
        new PreconditionFailedError(`The entry has changed: version ${current.version}, not ${target.expected}`),
        { version: current.version },
      )
    }
    return current
  }

  async function find(tx: Transaction, type: TypeRow, scope: Scope, target: Target) {
    const locale = await localeOf(tx, type, target.locale)
    const entry = await tx.entry.findFirst({
      where: {
        contentTypeId: type.id,
        documentId: target.documentId,
        ...(type.localized ? { locale } : {}),
        ...scope.grant.where,
      },
    })
    if (entry === null) throw new NotFoundError(`No "${type.apiId}" entry ${target.documentId}${type.localized ? ` in ${locale}` : ''}`)
    return entry
  }

  function needsDraftAndPublish(type: TypeRow): void {
    if (!type.draftAndPublish) throw new ConflictError(`"${type.apiId}" has no draft & publish: saving publishes`)
  }

  function defaultsOf(type: TypeRow): Data {
    return Object.fromEntries(fieldsOf(type).flatMap((f) => ('default' in f && f.default !== undefined ? [[f.name, f.default]] : [])))
  }

  /** Shared (not localized) fields of a localized type. */
  function sharedFields(type: TypeRow): string[] {
    return type.localized ? fieldsOf(type).filter((f) => f.localized === false).map((f) => f.name) : []
  }

  /** Writes new draft data (and published, without draft & publish), records the version and shares shared fields. */
  async function save(tx: Transaction, type: TypeRow, scope: Scope, current: Entry, next: Data, action: 'update' | 'restore') {
    const components = await componentsOf(tx)
    let data = normalise(next, fieldsOf(type), components)
    data = await generateUids(tx, type, current, data)
    await check(tx, type, components, type.draftAndPublish ? 'draft' : 'publish', data, current)
    const changed = changedFields(current.draft as Data, data)
    if (changed.length === 0) return current
    const entry = await write(tx, type, current, data, scope.actor)
    await record(tx, entry, action, data, changed, scope.actor, type.apiId)
    await share(tx, type, scope, entry, changed)
    return entry
  }

  /** The shared fields among `changed` take the entry's values in the document's other locales. */
  async function share(tx: Transaction, type: TypeRow, scope: Scope, entry: Entry, changed: string[]) {
    const shared = changed.filter((name) => sharedFields(type).includes(name))
    if (shared.length === 0) return
    const data = entry.draft as Data
    const siblings = await tx.entry.findMany({ where: { documentId: entry.documentId, id: { not: entry.id } } })
    for (const sibling of siblings) {
      const values = Object.fromEntries(shared.map((name) => [name, data[name]]))
      const merged = withoutUndefined({ ...(sibling.draft as Data), ...values })
      const updated = await write(tx, type, sibling, merged, scope.actor)
      await record(tx, updated, 'update', merged, shared, scope.actor, type.apiId)
    }
  }

  async function write(tx: Transaction, type: TypeRow, current: Entry, data: Data, actor: Actor) {
    const version = current.version + 1
    return tx.entry.update({
      where: { id: current.id },
      data: {
        draft: json(data),
        version,
        updatedById: actor.userId ?? null,
        ...(type.draftAndPublish ? {} : { published: json(data), publishedVersion: version, publishedAt: new Date() }),
      },
    })
  }

  /** A locale a document does not have yet, when the request names one it may create. */
  async function newVariant(tx: Transaction, type: TypeRow, scope: Scope, target: Target & { from?: string }) {
    const locale = await localeOf(tx, type, target.locale)
    const { documentId } = target
    const variants = await tx.entry.findMany({ where: { contentTypeId: type.id, documentId, ...scope.grant.where } })
    if (variants.length === 0 || variants.some((v) => v.locale === locale)) return undefined
    const from = target.from === undefined ? undefined : variants.find((v) => v.locale === target.from)
    if (target.from !== undefined && from === undefined) {
      throw new NotFoundError(`No "${type.apiId}" entry ${target.documentId} in ${target.from} to start from`)
    }
    return { locale, documentId: target.documentId, sibling: variants[0] as Entry, from }
  }

  async function createVariant(
    tx: Transaction,
    type: TypeRow,
    scope: Scope,
    variant: { locale: string, documentId: string, sibling: Entry, from: Entry | undefined },
    input: Data,
  ) {
    const { locale, documentId, sibling, from } = variant
    const siblingData = sibling.draft as Data
    const shared = withoutUndefined(Object.fromEntries(sharedFields(type).map((name) => [name, siblingData[name]])))
    // What comes from another locale is only what the caller may write.
    const copied = readableFields(scope.grant, (from?.draft ?? {}) as Data)
    const start = { ...copied, ...shared, ...input }
    // A UID is unique per locale: one copied from another locale is made anew.
    const uids = fieldsOf(type).filter((f) => f.type === 'uid' && !(f.name in input)).map((f) => f.name)
    const data = Object.fromEntries(Object.entries(start).filter(([name]) => !uids.includes(name)))
    const entry = await insert(tx, type, scope, { locale, documentId }, data)
    // Shared fields given for the new locale are the document's: the other locales take them too.
    await share(tx, type, scope, entry, changedFields(siblingData, entry.draft as Data))
    return entry
  }

  /** A new entry variant, checked, with its first version. */
  async function insert(tx: Transaction, type: TypeRow, scope: Scope, where: Where, start: Data) {
    const components = await componentsOf(tx)
    let data = normalise(start, fieldsOf(type), components)
    data = await generateUids(tx, type, where, data)
    await check(tx, type, components, type.draftAndPublish ? 'draft' : 'publish', data, where)
    const entry = await tx.entry.create({
      data: {
        ...where,
        contentTypeId: type.id,
        draft: json(data),
        ...(type.draftAndPublish ? {} : { published: json(data), publishedVersion: 1, publishedAt: new Date() }),
        createdById: scope.actor.userId,
        updatedById: scope.actor.userId,
      },
    })
    await record(tx, entry, 'create', data, Object.keys(data).sort(), scope.actor, type.apiId)
    return entry
  }

  async function versionOf(tx: Transaction, entry: Entry, version: number) {
    const found = await tx.entryVersion.findUnique({ where: { entryId_version: { entryId: entry.id, version } } })
    if (found === null) throw new NotFoundError(`Entry ${entry.documentId} has no version ${version}`)
    return { ...found, data: found.data as Data }
  }

  /** Runs work on a type's entries in one transaction, holding the type's entry lock. */
  async function inTransaction<T>(scope: Scope, work: (tx: Transaction, type: TypeRow) => Promise<T>): Promise<T> {
    const known = await contentModel.getType(scope.apiId, scope.rules)
    return prisma.$transaction(async (tx) => work(tx, await locked(tx, known)))
  }

  async function publishIn(tx: Transaction, type: TypeRow, scope: Scope, target: Target): Promise<Entry> {
    needsDraftAndPublish(type)
    const current = await findForChange(tx, type, scope, target)
    if (stateOf(current) === 'published') return current
    const components = await componentsOf(tx)
    const data = current.draft as Data
    await check(tx, type, components, 'publish', data, current)
    const version = current.version + 1
    const entry = await tx.entry.update({
      where: { id: current.id },
      data: {
        published: json(data),
        version,
        publishedVersion: version,
        publishedAt: new Date(),
        updatedById: scope.actor.userId ?? null,
      },
    })
    await record(tx, entry, 'publish', data, changedFields((current.published ?? {}) as Data, data), scope.actor, type.apiId)
    return entry
  }

  async function unpublishIn(tx: Transaction, type: TypeRow, scope: Scope, target: Target): Promise<Entry> {
    needsDraftAndPublish(type)
    const current = await findForChange(tx, type, scope, target)
    if (current.published === null) return current
    const entry = await tx.entry.update({
      where: { id: current.id },
      data: {
        published: Prisma.DbNull,
        version: current.version + 1,
        publishedVersion: null,
        publishedAt: null,
        updatedById: scope.actor.userId ?? null,
      },
    })
    await record(tx, entry, 'unpublish', current.draft as Data, [], scope.actor, type.apiId)
    return entry
  }

  async function discardIn(tx: Transaction, type: TypeRow, scope: Scope, target: Target): Promise<Entry> {
    needsDraftAndPublish(type)
    const current = await findForChange(tx, type, scope, target)
    if (current.published === null) throw new ConflictError('The entry was never published: there is nothing to go back to')
    if (stateOf(current) === 'published') return current
    const data = current.published as Data
    const changed = changedFields(current.draft as Data, data)
    // Going back writes every field that changed since.
    assertWritableFields(scope.grant, Object.fromEntries(changed.map((f) => [f, true])))
    const version = current.version + 1
    const entry = await tx.entry.update({
      where: { id: current.id },
      data: { draft: json(data), version, publishedVersion: version, updatedById: scope.actor.userId ?? null },
    })
    await record(tx, entry, 'discard', data, changed, scope.actor, type.apiId)
    await share(tx, type, scope, entry, changed)
    return entry
  }

  /** Every type's id, API id and fields. */
  async function typesOf(tx: Transaction): Promise<ModelTypes['types']> {
    const types = await tx.contentType.findMany({ select: { id: true, apiId: true, fields: true }, orderBy: { apiId: 'asc' } })
    return types.map((t) => ({ ...t, fields: t.fields as unknown as FieldDefinition[] }))
  }

  /** The whole model, as relations need it. */
  async function modelOf(tx: Transaction): Promise<ModelTypes> {
    return { types: await typesOf(tx), components: await componentsOf(tx) }
  }

  /**
   * Before a document goes: links to it whose field says `restrict` refuse the deletion (409,
   * listing them); those that say `unlink` are removed from the entries holding them.
   */
  async function detach(tx: Transaction, type: TypeRow, scope: Scope, documentId: string): Promise<void> {
    const model = await modelOf(tx)
    const links = relationTo(type.apiId)
    const references = await referencing(tx, model, links, [documentId], [documentId])
    const restricting = references.filter((r) => r.onDelete === 'restrict')
    if (restricting.length > 0) {
      throw withDetails(new ConflictError(`${restricting.length} links point at ${documentId}: remove them first`), { referencedBy: usesOf(restricting) })
    }
    await unlinkAll(tx, model, references, links, [documentId], scope.actor)
  }

  /** Removes the links to `ids` from the entries that hold them, each change a new version. */
  async function unlinkAll(
    tx: Transaction, model: ModelTypes, references: Reference[], links: Links, ids: string[], actor: Actor,
  ) {
    const targets = new Set(ids)
    // Their types' writes and definition changes wait, and each entry is read again under its lock.
    const holders = new Set(references.map((r) => r.apiId))
    for (const typeId of model.types.filter((t) => holders.has(t.apiId)).map((t) => t.id).sort()) {
      // Taken again for a document's own type: a lock the transaction holds is granted at once.
      await lockEntries(tx, typeId)
    }
    for (const entryId of new Set(references.map((r) => r.entryId))) {
      await tx.$queryRaw`SELECT 1 FROM entries WHERE id = ${entryId}::uuid FOR UPDATE`
      const entry = await tx.entry.findUniqueOrThrow({ where: { id: entryId } })
      const holder = model.types.find((t) => t.id === entry.contentTypeId) as ModelTypes['types'][number]
      const strip = (data: Prisma.JsonValue) => unlink(data as Data, holder.fields, model.components, links, targets)
      const draft = strip(entry.draft)
      const version = entry.version + 1
      const updated = await tx.entry.update({
        where: { id: entry.id },
        data: {
          draft: json(draft),
          ...(entry.published === null ? {} : { published: json(strip(entry.published)) }),
          version,
          ...(entry.publishedVersion === entry.version ? { publishedVersion: version } : {}),
        },
      })
      await record(tx, updated, 'update', draft, changedFields(entry.draft as Data, draft), actor, holder.apiId)
    }
  }

  async function removeIn(tx: Transaction, type: TypeRow, scope: Scope, target: Target): Promise<void> {
    const locale = target.locale === undefined ? undefined : await localeOf(tx, type, target.locale)
    const { documentId } = target
    const inLocale = locale !== undefined && type.localized ? { locale } : {}
    const where = { contentTypeId: type.id, documentId, ...inLocale, ...scope.grant.where }
    const rows = await tx.entry.findMany({ where })
    if (rows.length === 0) throw new NotFoundError(`No "${type.apiId}" entry ${target.documentId}`)
    if (target.expected !== undefined && rows.length > 1) {
      throw invalid('A version names one locale\'s variant: add ?locale= to delete with If-Match', [
        { in: 'querystring', path: '/locale', message: 'is required with If-Match on a document with several locales' },
      ])
    }
    for (const row of target.expected === undefined ? [] : rows) {
      await findForChange(tx, type, scope, { ...target, locale: row.locale })
    }
    // Locked, so that a save linking to them either commits first (and is seen) or waits.
    await tx.$queryRaw`SELECT 1 FROM entries WHERE id = ANY (${rows.map((r) => r.id)}::uuid[]) FOR UPDATE`
    // The document goes when its last locale goes: then what links to it is refused or unlinked.
    const others = await tx.entry.count({ where: { documentId, id: { notIn: rows.map((r) => r.id) } } })
    if (others === 0) await detach(tx, type, scope, documentId)
    await tx.entry.deleteMany({ where: { id: { in: rows.map((r) => r.id) } } })
    // What was scheduled for them will not happen.
    await tx.scheduledJob.updateMany({
      where: { status: 'pending', OR: rows.map((r) => ({ documentId: r.documentId, locale: r.locale })) },
      data: { status: 'cancelled', finishedAt: new Date() },
    })
    for (const row of rows) {
      await audit(tx, {
        action: 'entry.delete',
        subject: `content:${type.apiId}`,
        actor: scope.actor,
        details: { documentId: row.documentId, locale: row.locale, version: row.version },
      })
    }
  }

  /**
   * An entry as an editor sees it: the draft, or the published data, with its inverse relations;
   * only the fields the grant lets them read.
   */
  function present(entry: Entry, status: EntryStatus, grant: Grant, inverse: Record<string, string[]>) {
    // A never-published entry has no published data: none of its fields are shown.
    // Only a published entry is shown as published (lists filter, reads answer 404 otherwise).
    const data = (status === 'published' ? entry.published : entry.draft) as Data
    return {
      ...readableFields(grant, { ...data, ...inverse }),
      documentId: entry.documentId,
      locale: entry.locale,
      status: stateOf(entry),
      version: entry.version,
      createdAt: entry.createdAt,
      updatedAt: entry.updatedAt,
      publishedAt: entry.publishedAt,
      createdBy: entry.createdById,
      updatedBy: entry.updatedById,
    }
  }

  return {
    /** Where entries (drafts or published data) use the media items. */
    async mediaUses(ids: string[]) {
      return usesOf(await referencing(prisma, await modelOf(prisma), mediaFields, ids))
    },

    /**
     * Before media items go, in their deletion's transaction: uses refuse it (409, listing
     * them) unless `force`, which removes them from the entries.
     */
    async detachMedia(tx: Transaction, ids: string[], actor: Actor, force: boolean) {
      const model = await modelOf(tx)
      const references = await referencing(tx, model, mediaFields, ids)
      if (references.length > 0 && !force) {
        throw withDetails(new MediaInUseError(references.length), { usedBy: usesOf(references) })
      }
      await unlinkAll(tx, model, references, mediaFields, ids, actor)
    },

    /** Entries as editors see them (see `present`): inverse relations cost one query per inverse field. */
    async view(scope: Scope, entries: Entry[], status: EntryStatus) {
      // The type was read (and its readability checked) by the call that found the entries.
      const readable = (apiId: string) => ruleFor(scope.rules, `content:${apiId}`, 'read') !== undefined
      const ids = entries.map((e) => e.documentId)
      const back = await inverses(prisma, await typesOf(prisma), scope.apiId, ids, status, readable)
      // `inverses` answers every document asked for.
      const inverse = (entry: Entry) => back.get(entry.documentId) as Record<string, string[]>
      return entries.map((entry) => present(entry, status, scope.grant, inverse(entry)))
    },

    async create(scope: Scope, input: { locale?: string, data: Data }) {
      assertWritableFields(scope.grant, input.data)
      return inTransaction(scope, async (tx, type) => {
        if (type.kind === 'single') throw new ConflictError(`"${type.apiId}" is a single type: save its entry with PUT …/entry`)
        const locale = await localeOf(tx, type, input.locale)
        const where = { locale, documentId: crypto.randomUUID() }
        return insert(tx, type, scope, where, { ...defaultsOf(type), ...input.data })
      })
    },

    async get(scope: Scope, target: Target) {
      const type = await contentModel.getType(scope.apiId, scope.rules)
      return find(prisma, type, scope, target)
    },

    /** The single type's one entry, in a locale. */
    async single(scope: Scope, locale: string | undefined) {
      const type = await contentModel.getType(scope.apiId, scope.rules)
      if (type.kind !== 'single') throw new ConflictError(`"${type.apiId}" is a collection type`)
      const code = await localeOf(prisma, type, locale)
      const entry = await prisma.entry.findFirst({
        where: { contentTypeId: type.id, ...(type.localized ? { locale: code } : {}), ...scope.grant.where },
      })
      if (entry === null) throw new NotFoundError(`"${type.apiId}" has no entry yet${type.localized ? ` in ${code}` : ''}`)
      return entry
    },

    /** A page of entries: filtered by state and text, sorted by fields or timestamps. */
    async list(scope: Scope, query: ListQuery) {
      const type = await contentModel.getType(scope.apiId, scope.rules)
      const locale = await localeOf(prisma, type, query.locale)
      const column = Prisma.raw(query.status)
      // Searched and sorted by only the fields the caller may read: the answer would tell what the others hold.
      const fields = fieldsOf(type).filter((f) => scope.grant.fields?.includes(f.name) ?? true)
      const readable = { fields: fields as unknown as Prisma.JsonValue }
      const conditions = [
        Prisma.sql`content_type_id = ${type.id}::uuid`,
        ...(type.localized ? [Prisma.sql`locale = ${locale}`] : []),
        ...(scope.grant.where.createdById === undefined ? [] : [Prisma.sql`created_by_id = ${scope.grant.where.createdById}::uuid`]),
        ...(query.status === 'published' ? [Prisma.sql`published IS NOT NULL`] : []),
        ...(query.state === undefined ? [] : [STATES[query.state]]),
        ...(query.q === undefined ? [] : [search(readable, column, query.q)]),
      ]
      const where = Prisma.join(conditions, ' AND ')
      const order = Prisma.join([...sortOf(readable, column, query.sort), Prisma.sql`id`], ', ')
      const found = await prisma.$queryRaw<{ id: string }[]>`
        SELECT id FROM entries WHERE ${where} ORDER BY ${order}
        LIMIT ${query.pageSize} OFFSET ${(query.page - 1) * query.pageSize}`
      const [{ total }] = await prisma.$queryRaw<[{ total: number }]>`SELECT count(*)::int AS total FROM entries WHERE ${where}`
      const rows = await prisma.entry.findMany({ where: { id: { in: found.map((f) => f.id) } } })
      const byId = new Map(rows.map((row) => [row.id, row]))
      return { rows: found.map((f) => byId.get(f.id) as Entry), total }
    },

    /**
     * Saves fields into the draft (with draft & publish; otherwise into what readers see): the
     * fields given replace theirs, null clears one, the others stay. In a localized type, a
     * locale the document does not have yet is created, from `from`'s content if asked, and
     * shared fields (not localized) are saved into every locale.
     */
    async update(scope: Scope, target: Target & { from?: string }, input: Data) {
      assertWritableFields(scope.grant, input)
      return inTransaction(scope, async (tx, type) => {
        const variant = type.localized ? await newVariant(tx, type, scope, target) : undefined
        if (variant !== undefined) return createVariant(tx, type, scope, variant, input)
        const current = await findForChange(tx, type, scope, target)
        return save(tx, type, scope, current, { ...(current.draft as Data), ...input }, 'update')
      })
    },

    /** Saves the one entry of a single type: the first save creates it (or its locale). */
    async saveSingle(scope: Scope, target: { locale?: string, expected?: number }, input: Data) {
      assertWritableFields(scope.grant, input)
      return inTransaction(scope, async (tx, type) => {
        if (type.kind !== 'single') throw new ConflictError(`"${type.apiId}" is a collection type`)
        const locale = await localeOf(tx, type, target.locale)
        const first = await tx.entry.findFirst({ where: { contentTypeId: type.id, ...scope.grant.where }, orderBy: { createdAt: 'asc' } })
        if (first === null) {
          if (await tx.entry.count({ where: { contentTypeId: type.id } }) > 0) throw new ConflictError(`"${type.apiId}" has its entry: you may not change it`)
          return insert(tx, type, scope, { locale, documentId: crypto.randomUUID() }, { ...defaultsOf(type), ...input })
        }
        const { documentId } = first
        const current = await tx.entry.findFirst({ where: { documentId, ...(type.localized ? { locale } : {}) } })
        const variant = { locale, documentId, sibling: first, from: undefined }
        if (current === null) return createVariant(tx, type, scope, variant, input)
        const entry = await findForChange(tx, type, scope, { documentId, locale, expected: target.expected })
        return save(tx, type, scope, entry, { ...(entry.draft as Data), ...input }, 'update')
      })
    },

    async remove(scope: Scope, target: Target) {
      return inTransaction(scope, (tx, type) => removeIn(tx, type, scope, target))
    },

    /**
     * Publishes, unpublishes or deletes many entries in one transaction: all of them, or, if
     * any cannot be (missing, invalid, not allowed), none, with every failure listed.
     */
    async bulk(scope: Scope, action: 'publish' | 'unpublish' | 'remove', input: { documentIds: string[], locale?: string }) {
      const operation = { publish: publishIn, unpublish: unpublishIn, remove: removeIn }[action]
      return inTransaction(scope, async (tx, type) => {
        const failures: RequestProblem[] = []
        for (const documentId of new Set(input.documentIds)) {
          try {
            await operation(tx, type, scope, { documentId, locale: input.locale })
          } catch (error) {
            const { statusCode, code, message, details } = error as CodedError
            if (statusCode === undefined || statusCode >= 500) throw error
            // Where in the request, as for any validation problem, and why.
            const path = `/documentIds/${input.documentIds.indexOf(documentId)}`
            failures.push({ in: 'body', path, message, documentId, code, ...(details === undefined ? {} : { details }) })
          }
        }
        if (failures.length > 0) {
          const total = new Set(input.documentIds).size
          throw invalid(`${failures.length} of ${total} entries could not be changed: nothing was`, failures)
        }
        return new Set(input.documentIds).size
      })
    },

    /** The versions of an entry variant, newest first, without their data. */
    async versions(scope: Scope, target: Target) {
      const type = await contentModel.getType(scope.apiId, scope.rules)
      const entry = await find(prisma, type, scope, target)
      const versions = await prisma.entryVersion.findMany({
        where: { entryId: entry.id },
        orderBy: { version: 'desc' },
        select: { version: true, action: true, changed: true, createdById: true, createdAt: true },
      })
      // Only the names of fields the caller may read.
      const { fields } = scope.grant
      const readable = (name: string) => fields === undefined || fields.includes(name)
      return versions.map((v) => ({ ...v, changed: v.changed.filter(readable) }))
    },

    async version(scope: Scope, target: Target, version: number) {
      const type = await contentModel.getType(scope.apiId, scope.rules)
      const entry = await find(prisma, type, scope, target)
      const found = await versionOf(prisma, entry, version)
      return { ...found, data: readableFields(scope.grant, found.data) }
    },

    /** A field-level diff of two versions. */
    async compare(scope: Scope, target: Target, from: number, to: number) {
      const type = await contentModel.getType(scope.apiId, scope.rules)
      const entry = await find(prisma, type, scope, target)
      const before = readableFields(scope.grant, (await versionOf(prisma, entry, from)).data)
      const after = readableFields(scope.grant, (await versionOf(prisma, entry, to)).data)
      const changes = changedFields(before, after).map((field) => ({
        field, from: before[field] ?? null, to: after[field] ?? null,
      }))
      return { from, to, changes }
    },

    /** A version's data becomes the draft again, exactly (checked against the model as it is now). */
    async restore(scope: Scope, target: Target, version: number) {
      return inTransaction(scope, async (tx, type) => {
        const current = await findForChange(tx, type, scope, target)
        const { data } = await versionOf(tx, current, version)
        const changed = changedFields(current.draft as Data, data)
        assertWritableFields(scope.grant, Object.fromEntries(changed.map((f) => [f, true])))
        return save(tx, type, scope, current, data, 'restore')
      })
    },

    /** Publishes the draft; `alongside` runs in the same transaction (the scheduler marks its job done). */
    async publish(scope: Scope, target: Target, alongside?: (tx: Transaction) => Promise<void>) {
      return inTransaction(scope, async (tx, type) => {
        const entry = await publishIn(tx, type, scope, target)
        await alongside?.(tx)
        return entry
      })
    },

    async unpublish(scope: Scope, target: Target, alongside?: (tx: Transaction) => Promise<void>) {
      return inTransaction(scope, async (tx, type) => {
        const entry = await unpublishIn(tx, type, scope, target)
        await alongside?.(tx)
        return entry
      })
    },

    /** The draft goes back to what is published. */
    async discard(scope: Scope, target: Target) {
      return inTransaction(scope, (tx, type) => discardIn(tx, type, scope, target))
    },
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    entries: ReturnType<typeof createEntries>
  }
}

async function entriesPlugin(app: FastifyInstance): Promise<void> {
  app.decorate('entries', createEntries(app))
}

export default fp(entriesPlugin, { name: 'entries', dependencies: ['prisma', 'content-model'] })
