import { type Static, Type } from 'typebox'
import { DateTime, StrictObject } from './common.js'

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
    onDelete: Type.Optional(Type.Enum(['restrict', 'unlink'], {
      description: 'Deleting a related document: refused while this links to it (restrict, the default), or the link goes (unlink)',
    })),
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

const Fields = Type.Array(FieldSchema, { maxItems: 200 })
const Description = Type.Optional(Type.String({ maxLength: 1000 }))
const DisplayName = Type.String({ minLength: 1, maxLength: 100 })

/** A content type's API id: a URL-safe slug, used in `/api/content/:type` and in `content:<api id>`. */
export const ApiIdSchema = Type.String({ pattern: '^[a-z][a-z0-9-]{0,62}$', description: 'Lower-case letters, digits and -' })

/** A component's uid: `category.name`. */
export const ComponentUidSchema = Type.String({ pattern: '^[a-z][a-z0-9-]{0,62}\\.[a-z][a-z0-9-]{0,62}$', examples: ['blocks.hero'] })

const contentTypeProperties = {
  kind: Type.Enum(['collection', 'single'], { description: 'Many entries, or one (a home page, site settings)' }),
  singularName: DisplayName,
  pluralName: DisplayName,
  description: Description,
  draftAndPublish: Type.Optional(Type.Boolean({ default: true })),
  localized: Type.Optional(Type.Boolean({ default: false })),
  fields: Fields,
}

export const NewContentTypeSchema = StrictObject({ apiId: ApiIdSchema, ...contentTypeProperties })

/** A content type's whole new definition; its API id stays. */
export const ContentTypeDefinitionSchema = StrictObject(contentTypeProperties)

export type NewContentType = Static<typeof NewContentTypeSchema>
export type ContentTypeDefinition = Static<typeof ContentTypeDefinitionSchema>

/** What a change means for existing values, beyond the new definition. */
export const ChangesSchema = StrictObject({
  rename: Type.Optional(Type.Record(Name, Name, { description: 'Old field name → new name: the values move with the field' })),
  convert: Type.Optional(Type.Record(Name, Type.Literal('clear'), {
    description: 'Field → `clear`: values that do not convert to its new type (or fit its new rules) are removed',
  })),
  remove: Type.Optional(Type.Array(Name, { description: 'Fields whose data may be deleted with them (confirmation)' })),
}, { description: 'Renames, conversions and confirmed removals' })

export const ContentTypeChangeSchema = StrictObject({ ...contentTypeProperties, changes: Type.Optional(ChangesSchema) })
export type ContentTypeChange = Static<typeof ContentTypeChangeSchema>

const Affected = Type.Object({
  documentId: Type.String(),
  locale: Type.String(),
  status: Type.Enum(['draft', 'published']),
  path: Type.String(),
  message: Type.String(),
})

export const PlanSchema = Type.Object({
  steps: Type.Array(Type.Object({
    action: Type.Enum(['add', 'rename', 'retype', 'change', 'remove']),
    field: Type.String(),
    entries: Type.Integer({ description: 'Entries (per locale) that hold a value for the field' }),
  }, { additionalProperties: true }), { description: 'Fields added, renamed, retyped, changed and removed' }),
  blocked: Type.Array(Type.Object({
    reason: Type.String(),
    count: Type.Integer(),
    entries: Type.Array(Affected, { description: 'The first 50 of them' }),
  }), { description: 'Why the change cannot be applied as it is' }),
  invalid: Type.Object({ count: Type.Integer(), entries: Type.Array(Affected) }, {
    description: 'Published entries the new rules would not let be published again unchanged (they stay published)',
  }),
  applicable: Type.Boolean(),
}, { $id: 'Plan', title: 'Plan' })

const StoredFields = Type.Array(Type.Object({}, { additionalProperties: true }), { description: 'The field definitions' })

export const ContentTypeSchema = Type.Object(
  {
    id: Type.String(),
    apiId: Type.String(),
    kind: Type.String(),
    singularName: Type.String(),
    pluralName: Type.String(),
    description: Type.String(),
    draftAndPublish: Type.Boolean(),
    localized: Type.Boolean(),
    fields: StoredFields,
    version: Type.Integer({ description: 'Goes up with every change of the definition' }),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { $id: 'ContentType', title: 'ContentType' },
)

export const ContentTypeVersionSchema = Type.Object({
  version: Type.Integer(),
  definition: Type.Object({}, { additionalProperties: true }),
  changes: Type.Array(Type.Object({}, { additionalProperties: true }), { description: 'The steps from the previous version' }),
  createdById: Type.Union([Type.String(), Type.Null()]),
  createdAt: DateTime,
})

const componentProperties = { displayName: DisplayName, description: Description, fields: Fields }

export const NewComponentSchema = StrictObject({ uid: ComponentUidSchema, ...componentProperties })

export const ComponentDefinitionSchema = StrictObject(componentProperties)

export const ComponentChangeSchema = StrictObject({ ...componentProperties, changes: Type.Optional(ChangesSchema) })
export type ComponentChange = Static<typeof ComponentChangeSchema>

export type NewComponent = Static<typeof NewComponentSchema>
export type ComponentDefinition = Static<typeof ComponentDefinitionSchema>

export const ComponentSchema = Type.Object(
  {
    id: Type.String(),
    uid: Type.String(),
    displayName: Type.String(),
    description: Type.String(),
    fields: StoredFields,
    version: Type.Integer(),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { $id: 'Component', title: 'Component' },
)

export const ValidationQuerySchema = StrictObject({
  mode: Type.Enum(['draft', 'publish'], { default: 'publish', description: 'draft: types and shapes only; publish: every rule' }),
})

export const ValidationResultSchema = Type.Object({
  valid: Type.Boolean(),
  problems: Type.Array(Type.Object({ path: Type.String(), message: Type.String() })),
})

/** A model file (`gudang model apply`): what `model export` writes, each item may add `changes`. */
export const ModelFileSchema = StrictObject({
  components: Type.Array(StrictObject({
    uid: ComponentUidSchema,
    ...componentProperties,
    description: Type.String({ maxLength: 1000 }),
    changes: Type.Optional(ChangesSchema),
  })),
  contentTypes: Type.Array(StrictObject({
    apiId: ApiIdSchema,
    ...contentTypeProperties,
    description: Type.String({ maxLength: 1000 }),
    draftAndPublish: Type.Boolean(),
    localized: Type.Boolean(),
    changes: Type.Optional(ChangesSchema),
  })),
})
export type ModelFile = Static<typeof ModelFileSchema>
