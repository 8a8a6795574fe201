import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import formats from 'ajv-formats'
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
 * Names an entry's own columns use, and names JavaScript objects treat specially: no field
 * may take them.
 */
export const RESERVED_NAMES = new Set([
  'id', 'documentId', 'createdAt', 'updatedAt', 'publishedAt', 'createdBy', 'updatedBy', 'locale',
  'status', 'version', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty',
])

/** What may go in a UID field: a URL-safe slug. */
const UID_PATTERN = '^[A-Za-z0-9_~.-]+$'

const uuid = { type: 'string', format: 'uuid' }

/** A component's fields; one that does not exist (definitions refuse that) has none. */
function componentFields(components: Components, uid: string): readonly FieldDefinition[] {
  return components.get(uid) ?? []
}

/** The schema of one field's value, without null. */
function valueSchema(field: FieldDefinition, components: Components, mode: ValidationMode): JsonSchema {
  const strict = mode === 'publish'
  // The rules of publish mode, without the ones the field does not set.
  const rules = (schema: JsonSchema) =>
    strict ? Object.fromEntries(Object.entries(schema).filter(([, value]) => value !== undefined)) : {}
  // A required text in publish mode needs something in it.
  const minLength = (given: number | undefined) => given ?? (strict && field.required ? 1 : undefined)
  switch (field.type) {
    case 'string':
    case 'text':
      return {
        type: 'string',
        ...rules({ minLength: minLength(field.minLength), maxLength: field.maxLength, pattern: field.pattern }),
      }
    case 'richtext':
      return {
        type: 'array',
        items: { type: 'object', required: ['type'], properties: { type: { type: 'string', minLength: 1 } } },
      }
    case 'integer':
    case 'decimal':
      return { type: field.type === 'integer' ? 'integer' : 'number', ...rules({ minimum: field.min, maximum: field.max }) }
    case 'boolean':
      return { type: 'boolean' }
    case 'date':
      return { type: 'string', format: 'date' }
    case 'datetime':
      return { type: 'string', format: 'date-time' }
    case 'enumeration':
      return { type: 'string', enum: field.values }
    case 'json':
      return {}
    case 'email':
    case 'url':
      return { type: 'string', ...rules({ minLength: minLength(undefined), format: field.type === 'email' ? 'email' : 'uri' }) }
    case 'uid':
      return {
        type: 'string',
        ...rules({ minLength: minLength(field.minLength), maxLength: field.maxLength, pattern: UID_PATTERN }),
      }
    case 'media':
      return field.multiple ? { type: 'array', items: uuid, uniqueItems: true } : uuid
    case 'relation':
      return field.relation === 'toMany' ? { type: 'array', items: uuid, uniqueItems: true } : uuid
    case 'component': {
      const item = objectSchema(componentFields(components, field.component), components, mode)
      if (!field.repeatable) return item
      return { type: 'array', items: item, ...rules({ minItems: field.min, maxItems: field.max }) }
    }
    case 'dynamiczone':
      return {
        type: 'array',
        items: {
          type: 'object',
          required: ['__component'],
          properties: { __component: { type: 'string', enum: field.components } },
          allOf: field.components.map((uid) => ({
            if: { properties: { __component: { const: uid } } },
            then: objectSchema(componentFields(components, uid), components, mode, { __component: {} }),
          })),
        },
        ...rules({ minItems: field.min, maxItems: field.max }),
      }
  }
}

/** The schema of one field: its value, or null unless publishing requires it. */
function fieldSchema(field: FieldDefinition, components: Components, mode: ValidationMode): JsonSchema {
  const schema = valueSchema(field, components, mode)
  if (mode === 'publish' && field.required) return schema
  return { anyOf: [{ type: 'null' }, schema] }
}

/**
 * The JSON Schema of an object with these fields (an entry's data, or a component's). Unknown
 * properties are refused, not dropped.
 */
export function objectSchema(
  fields: readonly FieldDefinition[],
  components: Components,
  mode: ValidationMode,
  extra: Record<string, JsonSchema> = {},
): JsonSchema {
  const required = mode === 'publish' ? fields.filter((f) => f.required).map((f) => f.name) : []
  return {
    type: 'object',
    additionalProperties: false,
    properties: { ...extra, ...Object.fromEntries(fields.map((f) => [f.name, fieldSchema(f, components, mode)])) },
    ...(required.length > 0 ? { required } : {}),
  }
}

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true })
// ajv-formats is CommonJS: its function is the module's default export's `default`.
formats.default(ajv)

/** Ajv's errors as problems: the failing field's path and a readable message. */
export function problemsOf(errors: readonly ErrorObject[]): Problem[] {
  // An anyOf that allows null reports the null branch too, and a dynamic zone's if/then its
  // branch: the error inside says more.
  const meaningful = errors.filter((e) => !['anyOf', 'if'].includes(e.keyword) && e.params.type !== 'null')
  return meaningful.map((error) => {
    const child = error.params.missingProperty ?? error.params.additionalProperty
    const path = typeof child === 'string' ? `${error.instancePath}/${child}` : error.instancePath
    const allowed = error.keyword === 'enum' ? `: ${(error.params.allowedValues as string[]).join(', ')}` : ''
    return { path: path || '/', message: `${error.message}${allowed}` }
  })
}

/**
 * Compiled validators, cached by a key that names the content type's version and the mode:
 * a new version of a type compiles anew, an old one is never used again.
 */
export function createValidators() {
  const cache = new Map<string, ValidateFunction>()
  return {
    validate(key: string, schema: () => JsonSchema, data: unknown): Problem[] {
      let validate = cache.get(key)
      if (validate === undefined) {
        validate = ajv.compile(schema())
        cache.set(key, validate)
      }
      // Ajv sets `errors` whenever the data fails.
      return validate(data) ? [] : problemsOf(validate.errors as ErrorObject[])
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

/** The components a component contains, at any depth. */
function contained(uid: string, components: Components, seen = new Set<string>()): Set<string> {
  for (const field of componentFields(components, uid)) {
    const inner = field.type === 'component' ? [field.component] : field.type === 'dynamiczone' ? field.components : []
    for (const child of inner) {
      if (seen.has(child)) continue
      seen.add(child)
      contained(child, components, seen)
    }
  }
  return seen
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
    if (RESERVED_NAMES.has(field.name)) problem('name', `"${field.name}" is reserved`)

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
    if (field.type === 'relation' && !context.contentTypes.has(field.target)) {
      problem('target', `there is no content type "${field.target}"`)
    }
    if (field.type === 'uid' && field.targetField !== undefined) {
      const target = fields.find((f) => f.name === field.targetField)
      if (target === undefined || (target.type !== 'string' && target.type !== 'text')) {
        problem('targetField', `"${field.targetField}" is no text field of this type`)
      }
    }
    const used = field.type === 'component' ? [field.component] : field.type === 'dynamiczone' ? field.components : []
    for (const uid of used) {
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
      const schema = valueSchema(field, context.components, 'publish')
      if (!ajv.validate(schema, field.default)) {
        problems.push({ path: `/fields/${index}/default`, message: `is not a valid value: ${ajv.errorsText(ajv.errors, { dataVar: 'default' })}` })
      }
    })
  }
  return problems
}
