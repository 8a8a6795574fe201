import type { FieldDefinition } from '../schemas/content-model.js'
import type { ModelExport } from './content-declarations.js'
import { entrySchema } from './content-schema.js'

/**
 * The content model as OpenAPI 3.1 schemas (JSON Schema 2020-12), for the API documentation:
 * what a published entry's data looks like, per content type. The schemas are entrySchema's in
 * publish mode; each component it puts in `$defs` is listed once on its own instead.
 */

type JsonSchema = Record<string, unknown>
type ObjectSchema = JsonSchema & { properties: Record<string, JsonSchema>, required?: string[] }

/** Where an OpenAPI document keeps its named schemas. */
const SCHEMAS = '#/components/schemas/'

/** The data of a content type's entries. Route schemas have no dot in their names: these cannot clash. */
export function entryDataName(apiId: string): string {
  return `EntryData.${apiId}`
}

/** A component's data, as a component field holds it. */
export function componentDataName(uid: string): string {
  return `ComponentData.${uid}`
}

/** A component's data in a dynamic zone: with `__component`, which says which component it is. */
export function zoneItemName(uid: string): string {
  return `ZoneItem.${uid}`
}

/**
 * entrySchema's `#/$defs/<uid>`, as the document's schema. (Its `#/$defs/zone:<uid>` are only
 * in dynamic zones' items, which are replaced whole.)
 */
function reference(ref: string): string {
  return SCHEMAS + componentDataName(ref.slice('#/$defs/'.length))
}

function isObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * A copy of an entry schema for the OpenAPI document: references point at the document's
 * schemas, and a dynamic zone's item (entrySchema: `__component` from an enum, then the
 * component's schema by if/then) becomes a `oneOf` with a discriminator, which documentation
 * and client generators understand. Both accept the same data. The components that appear in a
 * dynamic zone are added to `inZones`.
 */
function toOpenApi(node: unknown, inZones: Set<string>): unknown {
  if (Array.isArray(node)) return node.map((item) => toOpenApi(item, inZones))
  if (!isObject(node)) return node
  if (typeof node.$ref === 'string') return { $ref: reference(node.$ref) }
  const uids = (node as { properties?: { __component?: { enum?: string[] } } }).properties?.__component?.enum
  if (uids !== undefined) {
    for (const uid of uids) inZones.add(uid)
    const mapping = Object.fromEntries(uids.map((uid) => [uid, SCHEMAS + zoneItemName(uid)]))
    return {
      oneOf: Object.values(mapping).map(($ref) => ({ $ref })),
      discriminator: { propertyName: '__component', mapping },
    }
  }
  return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, toOpenApi(value, inZones)]))
}

function annotations(title: string, description: string): JsonSchema {
  return description === '' ? { title } : { title, description }
}

/**
 * One schema per content type (`EntryData.<apiId>`), per component a type uses at any depth
 * (`ComponentData.<uid>`) and per component in a dynamic zone (`ZoneItem.<uid>`), to go under
 * the OpenAPI document's `components.schemas`. Every `$ref` among them points at another of them.
 */
export function contentSchemas(model: ModelExport): Record<string, JsonSchema> {
  const components = new Map(model.components.map((c) => [c.uid, c.fields]))
  const used = new Set<string>()
  const inZones = new Set<string>()

  function dataSchema(fields: readonly FieldDefinition[]): ObjectSchema {
    const { $defs, ...data } = entrySchema(fields, components, 'publish')
    for (const key of Object.keys($defs ?? {})) if (!key.startsWith('zone:')) used.add(key)
    // entrySchema describes an object, and so does the copy.
    return toOpenApi(data, inZones) as ObjectSchema
  }

  const schemas: Record<string, JsonSchema> = {}
  for (const type of model.contentTypes) {
    const data = dataSchema(type.fields)
    schemas[entryDataName(type.apiId)] = { ...annotations(type.singularName, type.description), ...data }
  }
  // The types' `$defs` hold every component they use, however deep.
  const componentData = new Map<string, ObjectSchema>()
  for (const component of model.components.filter((c) => used.has(c.uid))) {
    const data = dataSchema(component.fields)
    componentData.set(component.uid, data)
    const { displayName, description } = component
    schemas[componentDataName(component.uid)] = { ...annotations(displayName, description), ...data }
  }
  // Once every component's zones are known.
  for (const component of model.components.filter((c) => inZones.has(c.uid))) {
    const data = componentData.get(component.uid) as ObjectSchema
    schemas[zoneItemName(component.uid)] = {
      ...annotations(`${component.displayName} (in a dynamic zone)`, component.description),
      ...data,
      properties: { __component: { type: 'string', const: component.uid }, ...data.properties },
      required: ['__component', ...(data.required ?? [])],
    }
  }
  return schemas
}
