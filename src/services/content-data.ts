import { isDeepStrictEqual } from 'node:util'
import type { FieldDefinition } from '../schemas/content-model.js'
import { componentFields, type Components } from './content-schema.js'

/** An entry's data, or a component's within it: field names to values. */
export type Data = Record<string, unknown>

/** Called for each field that has a value; answers the new value (undefined: remove the field). */
export type Visit = (field: FieldDefinition, value: unknown, path: string) => unknown

export function isData(value: unknown): value is Data {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Rewrites data field by field, at any depth: the values inside a component or a dynamic zone
 * are visited before the field that holds them. Properties that are no field (an unknown key,
 * a zone item's `__component`) are kept as they are, for validation to judge. Built with
 * `Object.fromEntries`, so a key such as `__proto__` stays a plain property.
 */
export function mapData(data: Data, fields: readonly FieldDefinition[], components: Components, visit: Visit, path = ''): Data {
  const descend = (value: unknown, uid: string, at: string): unknown =>
    isData(value) ? mapData(value, componentFields(components, uid), components, visit, at) : value
  return Object.fromEntries(
    Object.entries(data).flatMap(([key, value]) => {
      const field = fields.find((f) => f.name === key)
      if (field === undefined) return [[key, value]]
      const at = `${path}/${key}`
      let inner = value
      if (field.type === 'component') {
        inner = Array.isArray(value) ? value.map((item, i) => descend(item, field.component, `${at}/${i}`)) : descend(value, field.component, at)
      } else if (field.type === 'dynamiczone' && Array.isArray(value)) {
        inner = value.map((item, i) => (isData(item) && typeof item.__component === 'string' ? descend(item, item.__component, `${at}/${i}`) : item))
      }
      const result = visit(field, inner, at)
      return result === undefined ? [] : [[key, result]]
    }),
  )
}

/** The document ids a field's value holds (a relation's or a media field's). */
export function idsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []
}

/** The top-level fields whose values differ between two versions of data. */
export function changedFields(before: Data, after: Data): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)])
  return [...names].filter((name) => !isDeepStrictEqual(before[name], after[name])).sort()
}
