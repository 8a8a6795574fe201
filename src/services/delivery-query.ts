import { invalid, type RequestProblem } from '../errors.js'
import { Prisma } from '../generated/prisma/client.js'
import type { FieldDefinition } from '../schemas/content-model.js'
import { UUID_PATTERN } from '../schemas/common.js'
import { componentFields, type Components } from './content-schema.js'

/**
 * The delivery API's query language, compiled to SQL over the entries' JSON: filters with
 * operators (also through relations and inside components), sorting (also by a related
 * entry's field), keyset cursors, and ranked full-text search. Everything a query names is
 * checked against the content model and what the caller may read; a mistake is a 400 that
 * names the valid choices.
 */

type Sql = Prisma.Sql
type Fields = readonly FieldDefinition[]
/** The fields that hold other fields: relations, components, dynamic zones. */
type Holding = Extract<FieldDefinition, { type: 'relation' | 'component' | 'dynamiczone' }>
type MediaField = Extract<FieldDefinition, { type: 'media' }>

/** A content type as the delivery API needs it. */
export interface DeliveryType {
  id: string
  apiId: string
  localized: boolean
  fields: Fields
}

/** What a query may see: the model, the data it reads, the locales, and what the caller may read. */
export interface QueryContext {
  types: ReadonlyMap<string, DeliveryType>
  components: Components
  status: 'draft' | 'published'
  /** The locales tried in order (the requested one, then its fallbacks). */
  chain: string[]
  /** The top-level fields of a type the caller may read: all but private ones, narrowed by their grant. */
  readableFields: (apiId: string) => ReadonlySet<string>
  /**
   * Whether a relation may lead to a type: the caller may read all of its entries (an own-only
   * reader may read theirs, through the type's own route, never through another's relations).
   */
  reachable: (apiId: string) => boolean
}

/** The operators of filters, by the kind of value they compare. */
const EQUALITY = ['$eq', '$ne', '$in', '$notIn', '$null', '$notNull'] as const
const ORDER = ['$lt', '$lte', '$gt', '$gte', '$between'] as const
const TEXT = ['$eqi', '$nei', '$contains', '$notContains', '$containsi', '$notContainsi', '$startsWith', '$startsWithi', '$endsWith', '$endsWithi'] as const
const EMPTINESS = ['$null', '$notNull'] as const
const LOGICAL = ['$and', '$or', '$not'] as const

type ScalarKind = 'text' | 'number' | 'boolean' | 'date' | 'datetime' | 'uuid'

const SCALAR_KINDS: Partial<Record<FieldDefinition['type'], ScalarKind>> = {
  string: 'text',
  text: 'text',
  email: 'text',
  url: 'text',
  uid: 'text',
  enumeration: 'text',
  integer: 'number',
  decimal: 'number',
  boolean: 'boolean',
  date: 'date',
  datetime: 'datetime',
}

function operatorsOf(kind: ScalarKind): readonly string[] {
  if (kind === 'boolean' || kind === 'uuid') return EQUALITY
  if (kind === 'text') return [...EQUALITY, ...ORDER, ...TEXT]
  return [...EQUALITY, ...ORDER]
}

/** The SQL type a value of the kind is compared as. */
const CASTS: Record<ScalarKind, string> = {
  text: 'text',
  number: 'numeric',
  boolean: 'boolean',
  date: 'date',
  datetime: 'timestamptz',
  uuid: 'uuid',
}

/** An entry's own columns, which filters and sorts may name like fields. */
const ATTRIBUTES: Record<string, { column: string, kind: ScalarKind, status?: 'draft' }> = {
  documentId: { column: 'document_id', kind: 'uuid' },
  locale: { column: 'locale', kind: 'text' },
  createdAt: { column: 'created_at', kind: 'datetime' },
  updatedAt: { column: 'updated_at', kind: 'datetime', status: 'draft' },
  publishedAt: { column: 'published_at', kind: 'datetime' },
}

function attributesOf(context: QueryContext): string[] {
  return Object.entries(ATTRIBUTES)
    .filter(([, a]) => a.status === undefined || a.status === context.status)
    .map(([name]) => name)
}

/** A place in the entries' data a filter or sort is about. */
interface Level {
  /** The JSON object holding the fields. */
  data: Sql
  fields: Fields
  /** The entry row (alias) when the level is an entry's top level: attributes and readable fields apply there. */
  row?: { alias: Sql, apiId: string }
  /** JSON pointer of the level in the query, for error messages. */
  path: string
}

/** Fields a level's filter or sort may name (relations only to types the caller may read). */
function namesAt(level: Level, context: QueryContext): string[] {
  const readable = level.row === undefined ? undefined : context.readableFields(level.row.apiId)
  const fields = level.fields
    .filter((f) => f.private !== true && (readable?.has(f.name) ?? true) && (f.type !== 'relation' || context.reachable(f.target)))
    .map((f) => f.name)
  return level.row === undefined ? fields : [...attributesOf(context), ...fields]
}

let aliases = 0
function alias(prefix: string): Sql {
  aliases = (aliases + 1) % 1_000_000
  return Prisma.raw(`${prefix}${aliases}`)
}

/** An entry's top level as a place of a filter or sort. */
export function entryLevel(row: Sql, type: DeliveryType, context: QueryContext, path: string): Level {
  return { data: dataColumn(row, context), fields: type.fields, row: { alias: row, apiId: type.apiId }, path }
}

/** The column of the data the query reads: drafts or published. */
function dataColumn(row: Sql, context: QueryContext): Sql {
  return Prisma.sql`${row}.${Prisma.raw(context.status)}`
}

/** Only entries readers of this status see: published data exists, or a draft always does. */
function visible(row: Sql, context: QueryContext): Sql {
  return context.status === 'published' ? Prisma.sql`${row}.published IS NOT NULL` : Prisma.sql`true`
}

/**
 * Which variant of a document answers: in a localized type, the first locale of the chain the
 * document has (in this status); a type that is not localized has one variant.
 */
export function localeChoice(row: Sql, type: DeliveryType, context: QueryContext): Sql {
  if (!type.localized) return Prisma.sql`true`
  const [first] = context.chain
  if (context.chain.length === 1) return Prisma.sql`${row}.locale = ${first}`
  const other = alias('v')
  return Prisma.sql`${row}.id = (
    SELECT ${other}.id FROM entries ${other}
    WHERE ${other}.document_id = ${row}.document_id AND ${visible(other, context)} AND ${other}.locale = ANY (${context.chain}::text[])
    ORDER BY array_position(${context.chain}::text[], ${other}.locale) LIMIT 1)`
}

/** The related entries a relation field links to, as a row alias and its conditions. */
function related(level: Level, field: Extract<FieldDefinition, { type: 'relation' }>, context: QueryContext) {
  const target = context.types.get(field.target) as DeliveryType
  const row = alias('r')
  const conditions = Prisma.sql`${linked(level, field, Prisma.sql`${row}.document_id`)} AND ${readable(row, target, context)}`
  return { target, row, conditions }
}

/** Whether a relation field's value links to the document id `id`. */
function linked(level: Level, field: Extract<FieldDefinition, { type: 'relation' }>, id: Sql): Sql {
  const value = Prisma.sql`${level.data} -> ${field.name}`
  return field.relation === 'toOne'
    ? Prisma.sql`${id} = (${level.data} ->> ${field.name})::uuid`
    : Prisma.sql`${id} IN (SELECT jsonb_array_elements_text(CASE jsonb_typeof(${value}) WHEN 'array' THEN ${value} END)::uuid)`
}

/** The entry variants of a type the query may show: of the type, visible, in the locale chosen. */
export function readable(row: Sql, type: DeliveryType, context: QueryContext): Sql {
  return Prisma.join([
    Prisma.sql`${row}.content_type_id = ${type.id}::uuid`,
    visible(row, context),
    localeChoice(row, type, context),
  ], ' AND ')
}

function problem(path: string, message: string, allowed?: readonly string[]): RequestProblem {
  return { in: 'querystring', path, message, ...(allowed === undefined ? {} : { allowed: [...allowed] }) }
}

function refuse(path: string, message: string, allowed?: readonly string[]): never {
  throw invalid(`${path.slice(1).replaceAll('/', '.')} ${message}`, [problem(path, message, allowed)])
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A list from the query string: an array, or an object of indexes (qs's answer past its array limit). */
function listOf(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value
  if (isObject(value) && Object.keys(value).every((key) => /^\d+$/.test(key))) return Object.values(value)
  return undefined
}

const DATE = /^\d{4}-\d{2}-\d{2}$/
const UUID = new RegExp(UUID_PATTERN)

/** A value of the query string as a value of the kind, or a 400. */
function scalar(kind: ScalarKind, value: unknown, path: string): string | number | boolean {
  if (typeof value !== 'string') refuse(path, 'must be a single value')
  switch (kind) {
    case 'number': {
      const number = Number(value)
      if (value.trim() === '' || !Number.isFinite(number)) refuse(path, 'must be a number')
      return number
    }
    case 'boolean':
      if (value !== 'true' && value !== 'false') refuse(path, 'must be true or false', ['true', 'false'])
      return value === 'true'
    case 'date': {
      // Date.parse takes 2024-02-30 for March 1st; PostgreSQL refuses it.
      const day = DATE.test(value) ? new Date(value) : undefined
      if (day === undefined || Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== value) refuse(path, 'must be a date (YYYY-MM-DD)')
      return value
    }
    case 'datetime':
      if (Number.isNaN(Date.parse(value))) refuse(path, 'must be a date and time (ISO 8601)')
      return new Date(value).toISOString()
    case 'uuid':
      if (!UUID.test(value)) refuse(path, 'must be a document id (uuid)')
      return value
    default:
      return value
  }
}

function typed(kind: ScalarKind, value: string | number | boolean): Sql {
  return Prisma.sql`${value}::${Prisma.raw(CASTS[kind])}`
}

/** LIKE's wildcards in a value are plain characters. */
function likePattern(value: string, before: string, after: string): string {
  return `${before}${value.replace(/[\\%_]/g, (c) => `\\${c}`)}${after}`
}

/** One operator on a scalar expression. */
function comparison(expression: Sql, kind: ScalarKind, operator: string, raw: unknown, path: string): Sql {
  const one = () => typed(kind, scalar(kind, raw, path))
  const many = (exactly?: number) => {
    const list = listOf(raw)
    if (list === undefined || list.length === 0 || (exactly !== undefined && list.length !== exactly)) {
      refuse(path, exactly === undefined ? 'must be a list of values (name[0]=a&name[1]=b)' : `must be a list of ${exactly} values`)
    }
    return list.map((item, i) => scalar(kind, item, `${path}/${i}`))
  }
  const text = () => String(scalar(kind, raw, path))
  switch (operator) {
    case '$eq': return Prisma.sql`${expression} = ${one()}`
    case '$ne': return Prisma.sql`${expression} IS DISTINCT FROM ${one()}`
    case '$lt': return Prisma.sql`${expression} < ${one()}`
    case '$lte': return Prisma.sql`${expression} <= ${one()}`
    case '$gt': return Prisma.sql`${expression} > ${one()}`
    case '$gte': return Prisma.sql`${expression} >= ${one()}`
    case '$in': return Prisma.sql`${expression} = ANY (${many()}::${Prisma.raw(CASTS[kind])}[])`
    case '$notIn': return Prisma.sql`(${expression} IS NULL OR ${expression} <> ALL (${many()}::${Prisma.raw(CASTS[kind])}[]))`
    case '$between': {
      const [low, high] = many(2)
      return Prisma.sql`${expression} BETWEEN ${typed(kind, low as string)} AND ${typed(kind, high as string)}`
    }
    case '$null': return emptiness(Prisma.sql`${expression} IS NULL`, raw, path)
    case '$notNull': return emptiness(Prisma.sql`${expression} IS NOT NULL`, raw, path)
    case '$eqi': return Prisma.sql`lower(${expression}) = lower(${text()})`
    case '$nei': return Prisma.sql`lower(${expression}) IS DISTINCT FROM lower(${text()})`
    case '$contains': return Prisma.sql`${expression} LIKE ${likePattern(text(), '%', '%')}`
    case '$notContains': return Prisma.sql`(${expression} IS NULL OR ${expression} NOT LIKE ${likePattern(text(), '%', '%')})`
    case '$containsi': return Prisma.sql`${expression} ILIKE ${likePattern(text(), '%', '%')}`
    case '$notContainsi': return Prisma.sql`(${expression} IS NULL OR ${expression} NOT ILIKE ${likePattern(text(), '%', '%')})`
    case '$startsWith': return Prisma.sql`${expression} LIKE ${likePattern(text(), '', '%')}`
    case '$startsWithi': return Prisma.sql`${expression} ILIKE ${likePattern(text(), '', '%')}`
    case '$endsWith': return Prisma.sql`${expression} LIKE ${likePattern(text(), '%', '')}`
    default: return Prisma.sql`${expression} ILIKE ${likePattern(text(), '%', '')}`
  }
}

/** `$null=true` is the condition, `$null=false` its opposite. */
function emptiness(condition: Sql, raw: unknown, path: string): Sql {
  return scalar('boolean', raw, path) === true ? condition : Prisma.sql`NOT (${condition})`
}

/** A field's value as SQL of its kind. */
function valueOf(data: Sql, name: string, kind: ScalarKind): Sql {
  const text = Prisma.sql`(${data} ->> ${name})`
  return kind === 'text' ? text : Prisma.sql`${text}::${Prisma.raw(CASTS[kind])}`
}

/** The conditions on one scalar value: `{ $gt: 1, $lt: 5 }`, or a bare value meaning `$eq`. */
type Equals = (value: string | number | boolean) => Sql

function scalarFilter(expression: Sql, kind: ScalarKind, filter: unknown, path: string, equals?: Equals): Sql {
  const allowed = operatorsOf(kind)
  if (!isObject(filter)) {
    return equals === undefined ? comparison(expression, kind, '$eq', filter, path) : equals(scalar(kind, filter, path))
  }
  const entries = Object.entries(filter)
  return Prisma.join(entries.map(([operator, value]) => {
    if (!allowed.includes(operator)) refuse(`${path}/${operator}`, 'is not an operator for this field', allowed)
    if (operator === '$eq' && equals !== undefined) return equals(scalar(kind, value, `${path}/${operator}`))
    return comparison(expression, kind, operator, value, `${path}/${operator}`)
  }), ' AND ')
}

/** Whether a field that holds a list or an object is empty (no value, null or []). */
function isEmpty(data: Sql, name: string): Sql {
  return Prisma.sql`coalesce(${data} -> ${name}, 'null'::jsonb) IN ('null'::jsonb, '[]'::jsonb)`
}

/** `$null` / `$notNull` on a field holding a list, an object, a link or JSON. */
function emptinessFilter(
  level: Level, field: FieldDefinition, filter: Record<string, unknown>, path: string, context: QueryContext,
): Sql {
  return Prisma.join(Object.entries(filter).map(([operator, value]) => {
    const at = `${path}/${operator}`
    if (!(EMPTINESS as readonly string[]).includes(operator)) refuse(at, `is not an operator for a ${field.type} field`, EMPTINESS)
    const empty = field.type === 'relation' ? linkless(level, field, context) : isEmpty(level.data, field.name)
    return operator === '$null' ? emptiness(empty, value, at) : emptiness(Prisma.sql`NOT ${empty}`, value, at)
  }), ' AND ')
}

/** A relation links to no document the reader could see (as answers leave such links out). */
function linkless(level: Level, field: Extract<FieldDefinition, { type: 'relation' }>, context: QueryContext): Sql {
  const { row, conditions } = related(level, field, context)
  return Prisma.sql`NOT EXISTS (SELECT 1 FROM entries ${row} WHERE ${conditions})`
}

function hasEmptiness(filter: Record<string, unknown>): boolean {
  return Object.keys(filter).some((key) => (EMPTINESS as readonly string[]).includes(key))
}

/** The condition of a filter object at a level: its keys are fields, attributes and `$and`/`$or`/`$not`. */
export function whereOf(filter: unknown, level: Level, context: QueryContext): Sql {
  if (!isObject(filter)) refuse(level.path, 'must name fields: filters[field][$operator]=value', namesAt(level, context))
  const conditions = Object.entries(filter).map(([key, value]) => {
    const path = `${level.path}/${key}`
    if ((LOGICAL as readonly string[]).includes(key)) return logical(key, value, { ...level, path }, context)
    const attribute = level.row === undefined ? undefined : ATTRIBUTES[key]
    if (attribute !== undefined && attributesOf(context).includes(key)) {
      const column = Prisma.sql`${(level.row as { alias: Sql }).alias}.${Prisma.raw(attribute.column)}`
      return scalarFilter(column, attribute.kind, value, path)
    }
    const field = namesAt(level, context).includes(key) ? level.fields.find((f) => f.name === key) : undefined
    if (field === undefined) refuse(path, 'is not a field you can filter on', [...namesAt(level, context), ...LOGICAL])
    return fieldFilter(level, field, value, path, context)
  })
  return Prisma.sql`(${Prisma.join(conditions, ' AND ')})`
}

function logical(operator: string, value: unknown, level: Level, context: QueryContext): Sql {
  // The complement: a condition that is unknown (a missing value compared) is not true either.
  if (operator === '$not') return Prisma.sql`${whereOf(value, level, context)} IS NOT TRUE`
  const list = listOf(value)
  if (list === undefined || list.length === 0) refuse(level.path, 'must be a list of filters ($or[0][field]=…)')
  const parts = list.map((item, i) => whereOf(item, { ...level, path: `${level.path}/${i}` }, context))
  return Prisma.sql`(${Prisma.join(parts, operator === '$and' ? ' AND ' : ' OR ')})`
}

function fieldFilter(level: Level, field: FieldDefinition, value: unknown, path: string, context: QueryContext): Sql {
  const kind = SCALAR_KINDS[field.type]
  if (kind !== undefined) {
    // At an entry's top level, equality is JSON containment, which the entries' GIN index serves.
    const contains = level.row !== undefined && kind !== 'date' && kind !== 'datetime'
      ? (v: string | number | boolean) => Prisma.sql`${level.data} @> ${JSON.stringify({ [field.name]: v })}::jsonb`
      : undefined
    return scalarFilter(valueOf(level.data, field.name, kind), kind, value, path, contains)
  }
  if (isObject(value) && hasEmptiness(value)) return emptinessFilter(level, field, value, path, context)
  switch (field.type) {
    case 'relation': {
      // The matching documents, found once (the subquery does not depend on the row), then looked up.
      const target = context.types.get(field.target) as DeliveryType
      const row = alias('r')
      const inner = whereOf(value, entryLevel(row, target, context, path), context)
      const matching = Prisma.sql`SELECT ${row}.document_id FROM entries ${row} WHERE ${readable(row, target, context)} AND ${inner}`
      if (field.relation === 'toOne') return Prisma.sql`(${level.data} ->> ${field.name})::uuid IN (${matching})`
      const links = Prisma.sql`${level.data} -> ${field.name}`
      const link = alias('l')
      return Prisma.sql`EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE jsonb_typeof(${links}) WHEN 'array' THEN ${links} END) ${link}(id)
        WHERE ${link}.id::uuid IN (${matching}))`
    }
    case 'component': {
      const fields = componentFields(context.components, field.component)
      if (field.repeatable !== true) return whereOf(value, { data: Prisma.sql`(${level.data} -> ${field.name})`, fields, path }, context)
      const item = alias('c')
      const items = Prisma.sql`${level.data} -> ${field.name}`
      const inner = whereOf(value, { data: Prisma.sql`${item}.value`, fields, path }, context)
      return Prisma.sql`EXISTS (SELECT 1 FROM jsonb_array_elements(CASE jsonb_typeof(${items}) WHEN 'array' THEN ${items} END) ${item} WHERE ${inner})`
    }
    default:
      return refuse(path, `is a ${field.type} field: only $null and $notNull apply`, EMPTINESS)
  }
}

/** One term of an ORDER BY: the expression, how it compares, which way, and whether it may be null (then it sorts last). */
export interface SortTerm {
  expression: Sql
  cast: string
  descending: boolean
  nullable: boolean
}

/** A field of the level a sort may name: a scalar, or a to-one relation or single component to walk through. */
function sortExpression(level: Level, names: string[], context: QueryContext, path: string): Omit<SortTerm, 'descending'> {
  const [name = '', ...rest] = names
  const attribute = level.row === undefined ? undefined : ATTRIBUTES[name]
  if (attribute !== undefined && rest.length === 0 && attributesOf(context).includes(name)) {
    const column = Prisma.sql`${(level.row as { alias: Sql }).alias}.${Prisma.raw(attribute.column)}`
    // Only a draft has no publishedAt.
    return { expression: column, cast: CASTS[attribute.kind], nullable: attribute.column === 'published_at' && context.status === 'draft' }
  }
  const sortable = level.fields.filter((f) => namesAt(level, context).includes(f.name)
    && (SCALAR_KINDS[f.type] !== undefined || (f.type === 'relation' && f.relation === 'toOne' && context.reachable(f.target))
      || (f.type === 'component' && f.repeatable !== true)))
  const field = sortable.find((f) => f.name === name)
  const allowed = [...(level.row === undefined ? [] : attributesOf(context)), ...sortable.map((f) => f.type === 'relation' || f.type === 'component' ? `${f.name}.…` : f.name)]
  if (field === undefined) refuse(path, `cannot sort by "${names.join('.')}"`, allowed)
  const kind = SCALAR_KINDS[field.type]
  if (kind !== undefined) {
    if (rest.length > 0) refuse(path, `cannot sort by "${names.join('.')}": ${name} has no fields`, allowed)
    return { expression: valueOf(level.data, field.name, kind), cast: CASTS[kind], nullable: true }
  }
  if (rest.length === 0) refuse(path, `cannot sort by "${name}": name one of its fields (${name}.field)`, allowed)
  if (field.type === 'component') {
    const fields = componentFields(context.components, field.component)
    return sortExpression({ data: Prisma.sql`(${level.data} -> ${field.name})`, fields, path }, rest, context, path)
  }
  const relation = field as Extract<FieldDefinition, { type: 'relation' }>
  const { target, row, conditions } = related(level, relation, context)
  const inner = sortExpression(entryLevel(row, target, context, path), rest, context, path)
  const expression = Prisma.sql`(SELECT ${inner.expression} FROM entries ${row} WHERE ${conditions} LIMIT 1)`
  return { expression, cast: inner.cast, nullable: true }
}

/** `title:asc,author.name:desc` as sort terms (`asc` if not said), at most `maxDepth` relations or components deep. */
export function sortOf(sort: string, row: Sql, type: DeliveryType, context: QueryContext, maxDepth: number) {
  const level = entryLevel(row, type, context, '/sort')
  return sort.split(',').map((term) => {
    const [name = '', direction = 'asc'] = term.trim().split(':')
    const names = name.split('.')
    if (names.length - 1 > maxDepth) refuse('/sort', `"${name}" is deeper than the ${maxDepth} levels a sort may go`)
    // The route's schema lets only asc and desc through.
    return { ...sortExpression(level, names, context, '/sort'), descending: direction === 'desc' }
  })
}

/** ORDER BY the terms, then the id. A term that is never null sorts as an index on it does. */
export function orderOf(terms: SortTerm[], row: Sql): Sql {
  return Prisma.join([
    ...terms.map((t) => Prisma.sql`${t.expression} ${Prisma.raw(t.descending ? 'DESC' : 'ASC')}${Prisma.raw(t.nullable ? ' NULLS LAST' : '')}`),
    Prisma.sql`${row}.id ASC`,
  ], ', ')
}

/** Where a page ended: the sort it was made for, the sort values of its last entry (as text) and its id. */
export interface Cursor {
  sort: string
  values: (string | null)[]
  id: string
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.sort, cursor.values, cursor.id])).toString('base64url')
}

export function decodeCursor(text: string, sort: string, terms: number): Cursor {
  let decoded: unknown
  try {
    decoded = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
  } catch {
    decoded = undefined
  }
  const [made, values, id] = Array.isArray(decoded) ? decoded : []
  const valid = typeof made === 'string' && typeof id === 'string' && UUID.test(id) && Array.isArray(values)
    && values.length === terms && values.every((v) => v === null || typeof v === 'string')
  if (!valid) refuse('/after', 'is not a cursor of this API: pass meta.nextCursor as it came')
  if (made !== sort) refuse('/after', `was made for sort=${made}: keep the sort while walking with a cursor`)
  return { sort, values: values as (string | null)[], id }
}

/**
 * The entries after a cursor in the order of the terms (then the id): the first term greater
 * (or lesser, descending), or equal and the next one after, and so on. Nulls sort last. When
 * the first term is never null, it also bounds the range, which an index on it serves.
 */
export function afterCursor(terms: SortTerm[], cursor: Cursor, row: Sql): Sql {
  const keys = [...terms.map((t, i) => ({ ...t, value: cursor.values[i] ?? null })), {
    expression: Prisma.sql`${row}.id`, cast: 'uuid', descending: false, nullable: false, value: cursor.id,
  }]
  type Key = typeof keys[number]
  const value = (k: Key) => Prisma.sql`${k.value}::${Prisma.raw(k.cast)}`
  const same = (k: Key) => k.value === null ? Prisma.sql`${k.expression} IS NULL` : Prisma.sql`${k.expression} = ${value(k)}`
  const beyond = (k: Key) => {
    if (k.value === null) return Prisma.sql`false`
    const after = Prisma.sql`${k.expression} ${Prisma.raw(k.descending ? '<' : '>')} ${value(k)}`
    return k.nullable ? Prisma.sql`(${after} OR ${k.expression} IS NULL)` : after
  }
  const alternatives = keys.map((key, i) => Prisma.join([...keys.slice(0, i).map(same), beyond(key)], ' AND '))
  const [first] = keys as [Key]
  const bound = first.nullable ? Prisma.empty : Prisma.sql`${first.expression} ${Prisma.raw(first.descending ? '<=' : '>=')} ${value(first)} AND `
  return Prisma.sql`(${bound}(${Prisma.join(alternatives.map((a) => Prisma.sql`(${a})`), ' OR ')}))`
}

/** PostgreSQL's text search configurations for the languages of locales; others use `simple`. */
const SEARCH_CONFIGS: Record<string, string> = {
  ar: 'arabic', da: 'danish', de: 'german', el: 'greek', en: 'english', es: 'spanish', fi: 'finnish',
  fr: 'french', hu: 'hungarian', id: 'indonesian', it: 'italian', lt: 'lithuanian', nl: 'dutch',
  no: 'norwegian', nb: 'norwegian', pt: 'portuguese', ro: 'romanian', ru: 'russian', sv: 'swedish', tr: 'turkish',
}

export function searchConfig(locale: string): string {
  const [language] = locale.toLowerCase().split('-') as [string]
  return SEARCH_CONFIGS[language] ?? 'simple'
}

/** Text field types by their weight in the ranking: short texts (titles) weigh most. */
const WEIGHTS: Record<string, 'A' | 'B' | 'C'> = { string: 'A', uid: 'A', enumeration: 'B', email: 'B', url: 'B', text: 'B', richtext: 'C' }

/**
 * Full-text search over a type's readable text fields (rich text's words too), in the language
 * of the locale: the condition and the rank (PostgreSQL's ts_rank).
 */
export function searchOf(q: string, row: Sql, type: DeliveryType, context: QueryContext) {
  const readable = context.readableFields(type.apiId)
  const data = dataColumn(row, context)
  const config = Prisma.sql`${searchConfig(context.chain[0] as string)}::regconfig`
  const parts = type.fields
    .filter((f) => WEIGHTS[f.type] !== undefined && readable.has(f.name))
    .map((f) => {
      const text = f.type === 'richtext'
        ? Prisma.sql`jsonb_to_tsvector(${config}, jsonb_path_query_array(coalesce(${data} -> ${f.name}, '[]'), 'strict $.**.text'), '["string"]')`
        : Prisma.sql`to_tsvector(${config}, coalesce(${data} ->> ${f.name}, ''))`
      return Prisma.sql`setweight(${text}, ${WEIGHTS[f.type]}::"char")`
    })
  const document = parts.length === 0 ? Prisma.sql`''::tsvector` : Prisma.join(parts, ' || ')
  const query = Prisma.sql`websearch_to_tsquery(${config}, ${q})`
  return {
    condition: Prisma.sql`(${document}) @@ ${query}`,
    rank: { expression: Prisma.sql`ts_rank(${document}, ${query})`, cast: 'real', descending: true, nullable: false } satisfies SortTerm,
  }
}

/** What to populate at a level: relation (or media) fields, and fields inside components, each with its own selection. */
export interface Populate {
  [name: string]: { fields?: string[], populate: Populate }
}

/** `a,b` or a list: names; a name may not be repeated, nor empty. */
function namesOf(value: unknown, path: string): string[] {
  const list = typeof value === 'string' ? value.split(',').map((n) => n.trim()) : listOf(value)
  if (list === undefined || list.some((n) => typeof n !== 'string' || n === '')) refuse(path, 'must be field names: a,b or [0]=a&[1]=b')
  return list as string[]
}

/** Readable, non-private fields of a level selectable with `fields=`. */
export function selectionOf(value: unknown, fields: Fields, readable: ReadonlySet<string>, path: string): string[] {
  const allowed = fields.filter((f) => readable.has(f.name)).map((f) => f.name)
  const names = namesOf(value, path)
  names.forEach((name, i) => {
    if (!allowed.includes(name)) refuse(`${path}/${i}`, `"${name}" is not a field you can select`, allowed)
  })
  return names
}

/**
 * `populate=*`, `populate=author,tags`, or `populate[author][fields]=name&populate[author][populate]=avatar`:
 * what to populate at a level of fields, checked against the model (at most `maxDepth` relations deep).
 */
export function populateOf(value: unknown, fields: Fields, context: QueryContext, maxDepth: number, apiId?: string, path = '/populate', depth = 1): Populate {
  const readable = apiId === undefined ? undefined : context.readableFields(apiId)
  const holds = (f: FieldDefinition): f is Holding | MediaField => (f.type === 'relation' && context.reachable(f.target))
    || f.type === 'component' || f.type === 'dynamiczone' || f.type === 'media'
  const candidates = fields.filter(holds).filter((f) => f.private !== true && (readable?.has(f.name) ?? true))
  const allowed = candidates.map((f) => f.name)
  let named: Record<string, unknown>
  if (value === '*') named = Object.fromEntries(candidates.filter((f) => f.type === 'relation' || f.type === 'media').map((f) => [f.name, true]))
  else if (isObject(value) && listOf(value) === undefined) named = value
  else named = Object.fromEntries(namesOf(value, path).map((name) => [name, true]))
  const result: Populate = {}
  for (const [name, options] of Object.entries(named)) {
    const at = `${path}/${name}`
    const field = candidates.find((f) => f.name === name)
    if (field === undefined) refuse(at, 'is not a field you can populate', allowed)
    // In a dynamic zone, components may each have a field of the name: it must be the same field.
    const same = (f: FieldDefinition) => f.type === field.type && (f.type !== 'relation' || f.target === (field as { target?: string }).target)
    if (!fields.filter((f) => f.name === name).every(same)) refuse(at, 'differs between the components of the zone: it cannot be populated')
    const hop = field.type === 'relation' ? 1 : 0
    if (depth + hop - 1 > maxDepth) refuse(at, `is deeper than the ${maxDepth} levels of relations a query may populate`)
    if (options === true || options === 'true' || options === '*') {
      result[name] = { populate: {} }
      continue
    }
    if (field.type === 'media') refuse(at, 'is a media field: populated whole, with populate[name]=true')
    if (!isObject(options)) refuse(at, 'must be true or say fields and populate: populate[name][fields]=a')
    const unknown = Object.keys(options).filter((key) => key !== 'fields' && key !== 'populate')
    if (unknown.length > 0) refuse(`${at}/${unknown[0]}`, 'is not a populate option', ['fields', 'populate'])
    const inner = innerFields(field, context)
    const target = field.type === 'relation' ? field.target : undefined
    result[name] = {
      ...(options.fields === undefined || field.type !== 'relation'
        ? {}
        : {
            fields: selectionOf(options.fields, inner, context.readableFields(field.target), `${at}/fields`),
          }),
      populate: options.populate === undefined ? {} : populateOf(options.populate, inner, context, maxDepth, target, `${at}/populate`, depth + hop),
    }
  }
  return result
}

/** The fields inside a field: a related type's, a component's, or every component's of a dynamic zone. */
export function innerFields(field: Holding, context: QueryContext): Fields {
  if (field.type === 'relation') return (context.types.get(field.target) as DeliveryType).fields
  if (field.type === 'component') return componentFields(context.components, field.component)
  return field.components.flatMap((uid) => componentFields(context.components, uid))
}
