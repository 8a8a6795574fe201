import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import formats from 'ajv-formats'
import { createHash } from 'node:crypto'
import { UUID_PATTERN } from '../schemas/common.js'
import type { FieldDefinition } from '../schemas/content-model.js'

/**
 * Content types are data: their fields become a JSON Schema (a pure function, below) that one
 * shared Ajv instance compiles. Two modes:
 * - `draft`: types and shapes only, so that an editor can save half-written work;
 * - `publish`: every rule, required fields included.
 */
export type ValidationMode = 'draft' | 'publish'

/** Components by uid: the field lists that component and dynamic-zone fields refer to. */
export type Components = ReadonlyMap<string, readonly FieldDefinition[]>

/** A problem with a definition or a value, at a JSON pointer (`/blocks/2/title`). */
export interface Problem {
  path: string
  message: string
}

type JsonSchema = Record<string, unknown>

/**
 * Names an entry's own columns use, and names every JavaScript object has: no field may take
 * them, in any case.
 */
export const RESERVED_NAMES = new Set(
  [
    'id', 'documentId', 'createdAt', 'updatedAt', 'publishedAt', 'createdBy', 'updatedBy', 'locale',
    'status', 'version', 'prototype', ...Object.getOwnPropertyNames(Object.prototype),
  ].map((name) => name.toLowerCase()),
)

/** The field types whose values can be compared for uniqueness. */
const UNIQUE_TYPES = new Set(['string', 'text', 'integer', 'decimal', 'date', 'datetime', 'enumeration', 'email', 'url', 'uid'])

/** What may go in a UID field: a URL-safe slug. */
const UID_PATTERN = '^[A-Za-z0-9_~.-]+$'

const uuid = { type: 'string', format: 'uuid' }

/** A component's fields; one that does not exist (definitions refuse that) has none. */
export function componentFields(components: Components, uid: string): readonly FieldDefinition[] {
  return components.get(uid) ?? []
}

/** Where a component's schema is, once in the entry schema's `$defs`; in a dynamic zone it also has `__component`. */
function ref(uid: string, inZone = false): JsonSchema {
  return { $ref: `#/$defs/${inZone ? 'zone:' : ''}${uid}` }
}

/** The schema of one field's value, without null. */
function valueSchema(field: FieldDefinition, mode: ValidationMode): JsonSchema {
  const strict = mode === 'publish'
  // The rules of publish mode, without the ones the field does not set.
  const rules = (schema: JsonSchema) =>
    strict ? Object.fromEntries(Object.entries(schema).filter(([, value]) => value !== undefined)) : {}
  // A required text or list in publish mode needs something in it.
  const least = (given: number | undefined) => given ?? (strict && field.required ? 1 : undefined)
  const list = (items: JsonSchema, min?: number, max?: number) =>
    ({ type: 'array', items, ...rules({ minItems: least(min), maxItems: max }) })
  switch (field.type) {
    case 'string':
    case 'text':
      return {
        type: 'string',
        ...rules({ minLength: least(field.minLength), maxLength: field.maxLength, pattern: field.pattern }),
      }
    case 'richtext':
      return list({ type: 'object', required: ['type'], properties: { type: { type: 'string', minLength: 1 } } })
    case 'integer':
      // Beyond 2^53 a JSON number is not stored exactly.
      return {
        type: 'integer',
        minimum: Number.MIN_SAFE_INTEGER,
        maximum: Number.MAX_SAFE_INTEGER,
        ...rules({ minimum: field.min, maximum: field.max }),
      }
    case 'decimal':
      return { type: 'number', ...rules({ minimum: field.min, maximum: field.max }) }
    case 'boolean':
      return { type: 'boolean' }
    case 'date':
      return { type: 'string', format: 'date' }
    case 'datetime':
      return { type: 'string', format: 'date-time' }
    case 'enumeration':
      return { type: 'string', enum: field.values }
    case 'json':
      return strict && field.required ? { not: { type: 'null' } } : {}
    case 'email':
      return { type: 'string', ...rules({ minLength: least(undefined), format: 'email' }) }
    case 'url':
      // Web addresses only: `javascript:` is a URI too.
      return { type: 'string', ...rules({ minLength: least(undefined), format: 'uri', pattern: '^https?://' }) }
    case 'uid':
      return {
        type: 'string',
        ...rules({ minLength: least(field.minLength), maxLength: field.maxLength, pattern: UID_PATTERN }),
      }
    case 'media':
      return field.multiple ? { ...list(uuid), uniqueItems: true } : uuid
    case 'relation':
      return field.relation === 'toMany' ? { ...list(uuid), uniqueItems: true } : uuid
    case 'component':
      return field.repeatable ? list(ref(field.component), field.min, field.max) : ref(field.component)
    case 'dynamiczone':
      return list(
        {
          type: 'object',
          required: ['__component'],
          properties: { __component: { type: 'string', enum: field.components } },
          // The `if` holds only for an object of that component, so others get no `then`'s errors.
          allOf: field.components.map((uid) => ({
            if: { type: 'object', required: ['__component'], properties: { __component: { const: uid } } },
            then: ref(uid, true),
          })),
        },
        field.min,
        field.max,
      )
  }
}

/** The schema of one field: its value, or null unless publishing requires it. */
function fieldSchema(field: FieldDefinition, mode: ValidationMode): JsonSchema {
  const schema = valueSchema(field, mode)
  if (mode === 'publish' && field.required) return schema
  return { anyOf: [{ type: 'null' }, schema] }
}

/** The schema of an object with these fields; unknown properties are refused, not dropped. */
function objectSchema(
  fields: readonly FieldDefinition[],
  mode: ValidationMode,
  extra: Record<string, JsonSchema> = {},
): JsonSchema {
  const required = mode === 'publish' ? fields.filter((f) => f.required).map((f) => f.name) : []
  return {
    type: 'object',
    additionalProperties: false,
    properties: { ...extra, ...Object.fromEntries(fields.map((f) => [f.name, fieldSchema(f, mode)])) },
    ...(required.length > 0 ? { required } : {}),
  }
}

/** The components fields use directly. */
function usedComponents(fields: readonly FieldDefinition[]): string[] {
  return fields.flatMap((f) => (f.type === 'component' ? [f.component] : f.type === 'dynamiczone' ? f.components : []))
}

/** The components a component contains, at any depth. */
function contained(uid: string, components: Components, seen = new Set<string>()): Set<string> {
  for (const child of usedComponents(componentFields(components, uid))) {
    if (seen.has(child)) continue
    seen.add(child)
    contained(child, components, seen)
  }
  return seen
}

/**
 * The JSON Schema of an entry's data (a pure function of the fields). Each component used, at
 * any depth, is defined once in `$defs` and referred to, so the schema grows with the model,
 * not with how often components nest.
 */
export function entrySchema(
  fields: readonly FieldDefinition[],
  components: Components,
  mode: ValidationMode,
): JsonSchema {
  const reachable = new Set<string>()
  for (const uid of usedComponents(fields)) {
    reachable.add(uid)
    for (const inner of contained(uid, components)) reachable.add(inner)
  }
  const $defs: Record<string, JsonSchema> = {}
  for (const uid of reachable) {
    $defs[uid] = objectSchema(componentFields(components, uid), mode)
    $defs[`zone:${uid}`] = objectSchema(componentFields(components, uid), mode, { __component: {} })
  }
  return { ...objectSchema(fields, mode), ...(reachable.size > 0 ? { $defs } : {}) }
}

// `ownProperties`: a property inherited from Object.prototype (toString …) is no value.
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, ownProperties: true })
// ajv-formats is CommonJS: its function is the module's default export's `default`.
formats.default(ajv)
// Plain uuids only: ajv-formats also takes `urn:uuid:…`, which PostgreSQL does not.
ajv.addFormat('uuid', new RegExp(UUID_PATTERN))

/** Ajv's errors as problems: the failing field's path and a readable message. */
export function problemsOf(errors: readonly ErrorObject[]): Problem[] {
  // An anyOf that allows null reports the null branch too, and a dynamic zone's if/then its
  // branch: the error inside says more.
  const meaningful = errors.filter((e) => !['anyOf', 'if'].includes(e.keyword) && e.params.type !== 'null')
  const problems = meaningful.map((error) => {
    const child = error.params.missingProperty ?? error.params.additionalProperty
    const path = typeof child === 'string' ? `${error.instancePath}/${child}` : error.instancePath
    const allowed = error.keyword === 'enum' ? `: ${(error.params.allowedValues as string[]).join(', ')}` : ''
    // `not: null` is how a required JSON field is required.
    const message = error.keyword === 'not' ? 'must not be null' : `${error.message}${allowed}`
    return { path: path || '/', message }
  })
  // The same problem reached by two branches is told once.
  return problems.filter((p, i) => problems.findIndex((q) => q.path === p.path && q.message === p.message) === i)
}

/**
 * Compiled validators, cached by the schema itself (its hash): whatever changed in a type or
 * in a component it uses, a new schema compiles anew and an unchanged one never does. The
 * least recently used give way beyond `limit`.
 */
export function createValidators(limit = 500) {
  const cache = new Map<string, { schema: JsonSchema, validate: ValidateFunction }>()
  const hashes = new WeakMap<JsonSchema, string>()
  return {
    validate(schema: JsonSchema, data: unknown): { valid: boolean, problems: Problem[] } {
      // The same schema object again (a migration's, entry after entry) is not hashed again.
      const key = hashes.get(schema) ?? createHash('sha256').update(JSON.stringify(schema)).digest('base64url')
      hashes.set(schema, key)
      let entry = cache.get(key)
      if (entry === undefined) {
        entry = { schema, validate: ajv.compile(schema) }
        const oldest = cache.size >= limit ? cache.keys().next().value : undefined
        if (oldest !== undefined) {
          ajv.removeSchema(cache.get(oldest)?.schema)
          cache.delete(oldest)
        }
      }
      // Most recently used last.
      cache.delete(key)
      cache.set(key, entry)
      const valid = entry.validate(data)
      // Ajv sets `errors` whenever the data fails.
      return { valid, problems: valid ? [] : problemsOf(entry.validate.errors as ErrorObject[]) }
    },
    get size() {
      return cache.size
    },
  }
}

/** Where the fields of a definition may point: the content types and the components there are. */
export interface ModelContext {
  contentTypes: ReadonlySet<string>
  components: Components
}

/**
 * What is wrong with a list of field definitions that their shape cannot say. `self` is the
 * uid of the component being defined, which may not contain itself.
 */
export function definitionProblems(
  fields: readonly FieldDefinition[],
  context: ModelContext,
  self?: string,
): Problem[] {
  const problems: Problem[] = []
  const names = new Map<string, number>()
  fields.forEach((field, index) => {
    const problem = (key: string, message: string) => problems.push({ path: `/fields/${index}/${key}`, message })
    const folded = field.name.toLowerCase()
    if (names.has(folded)) problem('name', `"${field.name}" is taken by field ${names.get(folded)}`)
    names.set(folded, index)
    if (RESERVED_NAMES.has(folded)) problem('name', `"${field.name}" is reserved`)
    if (field.unique && !UNIQUE_TYPES.has(field.type)) problem('unique', `a ${field.type} field cannot be unique`)

    if ('pattern' in field && field.pattern !== undefined) {
      try {
        new RegExp(field.pattern, 'u')
      } catch (error) {
        problem('pattern', `is not a valid regular expression: ${(error as Error).message}`)
      }
    }
    const bounds: [string, string][] = [['min', 'max'], ['minLength', 'maxLength']]
    for (const [low, high] of bounds) {
      const values = field as Record<string, unknown>
      if (typeof values[low] === 'number' && typeof values[high] === 'number' && values[low] > values[high]) {
        problem(low, `${low} (${values[low]}) is greater than ${high} (${values[high]})`)
      }
    }
    if (field.type === 'enumeration' && new Set(field.values).size !== field.values.length) {
      problem('values', 'lists a value twice')
    }
    if (field.type === 'dynamiczone' && new Set(field.components).size !== field.components.length) {
      problem('components', 'lists a component twice')
    }
    if (field.type === 'component' && field.repeatable !== true && (field.min !== undefined || field.max !== undefined)) {
      problem(field.min === undefined ? 'max' : 'min', 'applies to a repeatable component only')
    }
    if (field.type === 'relation' && !context.contentTypes.has(field.target)) {
      problem('target', `there is no content type "${field.target}"`)
    }
    if (field.type === 'relation' && field.inverse !== undefined && self !== undefined) {
      problem('inverse', 'only a content type\'s own relation fields have an inverse')
    }
    if (field.type === 'uid' && field.targetField !== undefined) {
      const target = fields.find((f) => f.name === field.targetField)
      if (target === undefined || (target.type !== 'string' && target.type !== 'text')) {
        problem('targetField', `"${field.targetField}" is no text field of this type`)
      }
    }
    for (const uid of usedComponents([field])) {
      const key = field.type === 'component' ? 'component' : 'components'
      if (!context.components.has(uid)) problem(key, `there is no component "${uid}"`)
      else if (self !== undefined && (uid === self || contained(uid, context.components).has(self))) {
        problem(key, `"${uid}" contains "${self}": a component cannot contain itself`)
      }
    }
  })
  // A default must be a value the field accepts; checked once the field itself is sound.
  if (problems.length === 0) {
    fields.forEach((field, index) => {
      if (!('default' in field) || field.default === undefined) return
      const schema = valueSchema(field, 'publish')
      if (!ajv.validate(schema, field.default)) {
        const reason = ajv.errorsText(ajv.errors, { dataVar: 'default' })
        problems.push({ path: `/fields/${index}/default`, message: `is not a valid value: ${reason}` })
      }
      // Ajv keeps what it compiled for a schema object; this one is not seen again.
      ajv.removeSchema(schema)
    })
  }
  return problems
}

/** A content type's API id and fields. */
interface TypeDefinition {
  apiId: string
  fields: readonly FieldDefinition[]
}

/**
 * Inverse names are read like fields of the target type: in the model `types` (the type
 * `apiId` as it is to be saved), none may clash with a field of its target, another inverse
 * to it, or a reserved name. Answers the problems at `apiId`'s fields.
 */
export function inverseProblems(types: readonly TypeDefinition[], apiId: string): Problem[] {
  const problems: Problem[] = []
  const namesOf = (target: string) => [
    ...(types.find((t) => t.apiId === target)?.fields ?? []).map((f) => ({ name: f.name, owner: `field "${f.name}"` })),
    ...types.flatMap((t) => t.fields.flatMap((f) => (f.type === 'relation' && f.target === target && f.inverse !== undefined
      ? [{ name: f.inverse, owner: `the inverse of ${t.apiId}.${f.name}` }]
      : []))),
  ]
  const self = types.find((t) => t.apiId === apiId)?.fields ?? []
  self.forEach((field, index) => {
    if (field.type === 'relation' && field.inverse !== undefined) {
      const inverse = field.inverse.toLowerCase()
      const owner = `the inverse of ${apiId}.${field.name}`
      const clash = namesOf(field.target).find((n) => n.name.toLowerCase() === inverse && n.owner !== owner)
      if (RESERVED_NAMES.has(inverse)) problems.push({ path: `/fields/${index}/inverse`, message: `"${field.inverse}" is reserved` })
      else if (clash !== undefined) {
        problems.push({ path: `/fields/${index}/inverse`, message: `"${field.inverse}" is taken on "${field.target}" by ${clash.owner}` })
      }
    }
  })
  // A field of this type named like an inverse that points here.
  for (const [index, field] of self.entries()) {
    const inverse = namesOf(apiId).find((n) => !n.owner.startsWith('field') && n.name.toLowerCase() === field.name.toLowerCase())
    if (inverse !== undefined) problems.push({ path: `/fields/${index}/name`, message: `"${field.name}" is taken by ${inverse.owner}` })
  }
  return problems
}
