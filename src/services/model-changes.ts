import { isDeepStrictEqual } from 'node:util'
import type { FieldDefinition } from '../schemas/content-model.js'
import type { Data } from './content-data.js'
import type { Problem } from './content-schema.js'
import { markdownToBlocks } from './richtext.js'

/**
 * How a change of a field list (a content type's or a component's) reaches existing values.
 * Pure functions: the plan's steps from two definitions and the renames asked for, and the
 * conversion of one object's values along those steps.
 */

/** What the caller says about a change beyond the new definition itself. */
export interface ChangeOptions {
  /** Old name → new name: the values move with the field. */
  rename?: Record<string, string>
  /** Field → `clear`: values that do not convert to the new type are removed. */
  convert?: Record<string, 'clear'>
  /** Fields whose values may go with them (confirmation of removing a field with data). */
  remove?: string[]
}

export type Step
  = | { action: 'add', field: string, type: string }
    | { action: 'rename', field: string, from: string }
    | { action: 'retype', field: string, from: string, to: string }
    | { action: 'change', field: string, options: string[] }
    | { action: 'remove', field: string, type: string }

/** A step with the new field and the old one it takes its values from. */
interface Move {
  field: FieldDefinition
  source: FieldDefinition | undefined
}

/** How values move: each new field from its source, and the old definition's names. */
export interface Migration {
  moves: Move[]
  current: ReadonlySet<string>
}

/** The shape of a field's values: two fields with the same shape hold the same values. */
function shape(field: FieldDefinition): string {
  switch (field.type) {
    case 'media':
      return `media ${field.multiple === true ? 'many' : 'one'}`
    case 'relation':
      return `relation ${field.relation} ${field.target}`
    case 'component':
      return `component ${field.component} ${field.repeatable === true ? 'many' : 'one'}`
    default:
      return field.type
  }
}

/** The options that differ between two definitions of a field (besides its name). */
function changedOptions(before: FieldDefinition, after: FieldDefinition): string[] {
  const a = before as Record<string, unknown>
  const b = after as Record<string, unknown>
  const keys = new Set([...Object.keys(a), ...Object.keys(b)].filter((key) => key !== 'name'))
  return [...keys].filter((key) => !isDeepStrictEqual(a[key], b[key])).sort()
}

/**
 * The steps from one field list to another. A field keeps its values when it keeps its name or
 * is renamed explicitly; a field that is gone is removed (with its values).
 */
export function planSteps(
  current: readonly FieldDefinition[],
  next: readonly FieldDefinition[],
  rename: Record<string, string> = {},
) {
  const problems: Problem[] = []
  const byName = new Map(current.map((f) => [f.name, f]))
  const nextNames = new Set(next.map((f) => f.name))
  const renamedTo = new Map<string, string>()
  for (const [from, to] of Object.entries(rename)) {
    const path = `/changes/rename/${from}`
    if (!byName.has(from)) problems.push({ path, message: `there is no field "${from}" to rename` })
    else if (!nextNames.has(to)) problems.push({ path, message: `the new definition has no field "${to}"` })
    else if (nextNames.has(from)) problems.push({ path, message: `"${from}" is still in the new definition: rename it or keep it` })
    else if (byName.has(to)) problems.push({ path, message: `"${to}" is already a field: remove it first` })
    else if (renamedTo.has(to)) problems.push({ path, message: `"${renamedTo.get(to)}" is renamed to "${to}" too` })
    else renamedTo.set(to, from)
  }
  const moves: Move[] = next.map((field) => ({ field, source: byName.get(renamedTo.get(field.name) ?? field.name) }))
  const kept = new Set(moves.flatMap((m) => (m.source === undefined ? [] : [m.source.name])))
  const steps: Step[] = []
  for (const { field, source } of moves) {
    if (source === undefined) {
      steps.push({ action: 'add', field: field.name, type: field.type })
      continue
    }
    if (source.name !== field.name) steps.push({ action: 'rename', field: field.name, from: source.name })
    if (shape(source) !== shape(field)) steps.push({ action: 'retype', field: field.name, from: shape(source), to: shape(field) })
    const options = changedOptions(source, field).filter((key) => !['type', 'multiple', 'relation', 'target', 'component', 'repeatable'].includes(key))
    if (options.length > 0) steps.push({ action: 'change', field: field.name, options })
  }
  for (const field of current) {
    if (!kept.has(field.name)) steps.push({ action: 'remove', field: field.name, type: field.type })
  }
  return { steps, migration: { moves, current: new Set(current.map((f) => f.name)) } as Migration, problems }
}

const TEXTUAL = new Set(['string', 'text', 'email', 'url', 'uid', 'enumeration', 'date', 'datetime'])
const NUMBER = /^\s*-?\d+(\.\d+)?([eE][+-]?\d+)?\s*$/

type Converted = { ok: true, value: unknown } | { ok: false, message: string }

const fail = (message: string): Converted => ({ ok: false, message })
const ok = (value: unknown): Converted => ({ ok: true, value })

/** One or many of the same thing: a list of at most one becomes a single value and back. */
function cardinality(value: unknown, many: boolean): Converted {
  if (many) return ok(Array.isArray(value) ? value : [value])
  if (!Array.isArray(value)) return ok(value)
  if (value.length > 1) return fail(`holds ${value.length} values; only one fits`)
  return ok(value[0] ?? null)
}

/**
 * A value converted from one field type to another, where that keeps its meaning: text and
 * numbers, whole numbers to decimals (and back when whole), dates to date-times (and back at
 * midnight), text to rich text (as Markdown), one to many (and back when at most one), anything
 * to JSON. Textual values pass as they are: the new type's validator judges them.
 */
export function convert(value: unknown, from: FieldDefinition, to: FieldDefinition): Converted {
  if (shape(from) === shape(to) || to.type === 'json') return ok(value)
  if (TEXTUAL.has(to.type)) {
    if (typeof value === 'string') {
      if (from.type === 'datetime' && to.type === 'date') {
        return /T00:00(:00(\.0+)?)?(Z|[+-]00:00)$/.test(value) ? ok(value.slice(0, 10)) : fail('has a time of day')
      }
      return ok(from.type === 'date' && to.type === 'datetime' ? `${value}T00:00:00.000Z` : value)
    }
    if (typeof value === 'number' || typeof value === 'boolean') return ok(String(value))
    return fail(`a ${from.type} value is no text`)
  }
  if (to.type === 'richtext') return typeof value === 'string' ? ok(markdownToBlocks(value)) : fail(`a ${from.type} value is no text`)
  if (to.type === 'integer' || to.type === 'decimal') {
    const number = typeof value === 'number' ? value : typeof value === 'string' && NUMBER.test(value) ? Number(value) : Number.NaN
    if (!Number.isFinite(number)) return fail('is not a number')
    if (to.type === 'integer' && !Number.isSafeInteger(number)) return fail('is not a whole number')
    return ok(number)
  }
  if (to.type === 'boolean') {
    if (typeof value === 'boolean') return ok(value)
    if (value === 'true' || value === 'false') return ok(value === 'true')
    return fail('is neither true nor false')
  }
  if (to.type === from.type && (to.type === 'media' || to.type === 'relation' || to.type === 'component')) {
    const sameTarget = to.type !== 'relation' || (from.type === 'relation' && from.target === to.target)
    const sameComponent = to.type !== 'component' || (from.type === 'component' && from.component === to.component)
    if (sameTarget && sameComponent) {
      return cardinality(value, to.type === 'media' ? to.multiple === true : to.type === 'relation' ? to.relation === 'toMany' : to.repeatable === true)
    }
  }
  // A JSON field's other values (an id, say) pass as they are: the new type's validator judges them.
  if (from.type === 'json' && typeof value !== 'object') return ok(value)
  return fail(`a ${shape(from)} value does not convert to ${shape(to)}`)
}

/** Where one object's conversion failed: the new field's name and why. */
export interface Failure {
  field: string
  message: string
  value: unknown
}

/**
 * One object's values (an entry's, or one component instance's) after the change: moved to
 * new names, converted to new types, removed fields gone. A value that does not convert is a
 * failure, unless `clear` names the field: then what does not convert or fit is dropped.
 */
export function migrateObject(
  data: Data,
  { moves, current }: Migration,
  clear: ReadonlySet<string>,
  accepts: (field: FieldDefinition, value: unknown) => boolean,
) {
  const failures: Failure[] = []
  const entries: [string, unknown][] = []
  for (const { field, source } of moves) {
    if (source === undefined || !Object.hasOwn(data, source.name)) continue
    const value = data[source.name]
    const converted = convert(value, source, field)
    if (!clear.has(field.name)) {
      if (converted.ok) entries.push([field.name, converted.value])
      else failures.push({ field: field.name, message: converted.message, value })
    } else if (converted.ok && accepts(field, converted.value)) entries.push([field.name, converted.value])
  }
  // Keys that are no field (a zone item's `__component`) stay.
  const others = Object.entries(data).filter(([key]) => !current.has(key))
  return { data: Object.fromEntries([...others, ...entries].filter(([, v]) => v !== null)) as Data, failures }
}
