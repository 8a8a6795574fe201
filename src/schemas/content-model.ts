import { type Static, Type } from 'typebox'
import { StrictObject } from './common.js'

/**
 * How content types and components are defined: the shape an admin UI's content-type
 * builder sends. What a shape cannot say (duplicate names, a relation to a missing type,
 * min > max …) is checked by `definitionProblems` (src/services/content-schema.ts).
 */

const Name = Type.String({ pattern: '^[a-zA-Z][a-zA-Z0-9_]{0,63}$', description: 'A field name: letters, digits and _' })
const Count = Type.Integer({ minimum: 0 })

const common = {
  name: Name,
  required: Type.Optional(Type.Boolean()),
  unique: Type.Optional(Type.Boolean()),
  private: Type.Optional(Type.Boolean({ description: 'Never in delivery responses' })),
  localized: Type.Optional(Type.Boolean({ description: 'One value per locale (default), or shared by all locales' })),
}

function field<T extends string, P extends Parameters<typeof Type.Object>[0]>(type: T, properties: P) {
  return StrictObject({ ...common, type: Type.Literal(type), ...properties })
}

const textLimits = {
  minLength: Type.Optional(Count),
  maxLength: Type.Optional(Count),
  pattern: Type.Optional(Type.String({ description: 'A regular expression (Unicode) the value must match' })),
}

export const FieldSchema = Type.Union([
  field('string', { ...textLimits, default: Type.Optional(Type.String()) }),
  field('text', { ...textLimits, default: Type.Optional(Type.String()) }),
  field('richtext', {}),
  field('integer', { min: Type.Optional(Type.Integer()), max: Type.Optional(Type.Integer()), default: Type.Optional(Type.Integer()) }),
  field('decimal', { min: Type.Optional(Type.Number()), max: Type.Optional(Type.Number()), default: Type.Optional(Type.Number()) }),
  field('boolean', { default: Type.Optional(Type.Boolean()) }),
  field('date', { default: Type.Optional(Type.String()) }),
  field('datetime', { default: Type.Optional(Type.String()) }),
  field('enumeration', {
    values: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    default: Type.Optional(Type.String()),
  }),
  field('json', {}),
  field('email', { default: Type.Optional(Type.String()) }),
  field('url', { default: Type.Optional(Type.String()) }),
  field('uid', {
    targetField: Type.Optional(Name),
    minLength: Type.Optional(Count),
    maxLength: Type.Optional(Count),
  }),
  field('media', {
    multiple: Type.Optional(Type.Boolean()),
    allowedKinds: Type.Optional(Type.Array(Type.Enum(['image', 'video', 'audio', 'file']), { minItems: 1 })),
  }),
  field('relation', {
    target: Type.String({ description: 'The API id of the related content type' }),
    relation: Type.Enum(['toOne', 'toMany']),
    inverse: Type.Optional(Name),
  }),
  field('component', {
    component: Type.String({ description: 'The uid of a component' }),
    repeatable: Type.Optional(Type.Boolean()),
    min: Type.Optional(Count),
    max: Type.Optional(Count),
  }),
  field('dynamiczone', {
    components: Type.Array(Type.String(), { minItems: 1 }),
    min: Type.Optional(Count),
    max: Type.Optional(Count),
  }),
])

export type FieldDefinition = Static<typeof FieldSchema>
