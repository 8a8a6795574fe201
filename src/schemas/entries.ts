import { type Static, Type } from 'typebox'
import { DateTime, StrictObject, Uuid } from './common.js'
import { ApiIdSchema } from './content-model.js'

/** How the management API names entries and answers with them. */

export const LocaleCode = Type.String({ pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$', examples: ['en', 'fr-CA'] })

export const TypeParamsSchema = Type.Object({ apiId: ApiIdSchema })
export const EntryParamsSchema = Type.Object({ apiId: ApiIdSchema, documentId: Uuid })
const Version = Type.Integer({ minimum: 1 })
export const VersionParamsSchema = Type.Object({ apiId: ApiIdSchema, documentId: Uuid, version: Version })

const locale = Type.Optional(Type.Unsafe<string>({ ...LocaleCode, description: 'A localized type\'s locale; the default locale if omitted' }))
const status = Type.Enum(['draft', 'published'], { default: 'draft', description: 'The draft (default) or the published data' })

export const LocaleQuerySchema = StrictObject({ locale })
export const ReadQuerySchema = StrictObject({ locale, status })
export const ListQuerySchema = StrictObject({
  locale,
  status: Type.Enum(['draft', 'published'], {
    default: 'draft',
    description: 'The drafts (default), or the published entries with their published data',
  }),
  state: Type.Optional(Type.Enum(['draft', 'published', 'modified'], { description: 'Only entries in this state' })),
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Text the entry\'s text fields contain (any case)' })),
  sort: Type.Optional(Type.String({
    pattern: '^[A-Za-z][A-Za-z0-9_]*(:(asc|desc))?(,[A-Za-z][A-Za-z0-9_]*(:(asc|desc))?)*$',
    description: '`field:asc` or `field:desc`, comma-separated: createdAt, updatedAt, publishedAt or a field of '
      + 'text, number, boolean, date or enumeration type (default `updatedAt:desc`)',
    examples: ['title:asc,updatedAt:desc'],
  })),
  page: Type.Integer({ minimum: 1, default: 1 }),
  pageSize: Type.Integer({ minimum: 1, maximum: 100, default: 25 }),
})
export type ListQuery = Static<typeof ListQuerySchema>
export const UpdateQuerySchema = StrictObject({
  locale,
  from: Type.Optional(Type.Unsafe<string>({ ...LocaleCode, description: 'Creating a locale: start from this locale\'s content' })),
})
export const CompareQuerySchema = StrictObject({ locale, from: Version, to: Version })

const EntryData = Type.Record(Type.String(), Type.Unknown(), {
  description: 'The entry\'s fields, as its content type defines them (see the `EntryData.<apiId>` schemas)',
})

export const EntryBodySchema = StrictObject({
  data: EntryData,
  version: Type.Optional(Type.Integer({ minimum: 1, description: 'The version you last read (or send If-Match): a stale one answers 412' })),
})

export const EntrySchema = Type.Object(
  {
    documentId: Type.String(),
    locale: Type.String(),
    status: Type.Enum(['draft', 'published', 'modified'], { description: 'modified: published, with newer draft changes' }),
    version: Type.Integer({ description: 'Goes up with every change; also the ETag' }),
    createdAt: DateTime,
    updatedAt: DateTime,
    publishedAt: Type.Union([DateTime, Type.Null()]),
    createdBy: Type.Union([Type.String(), Type.Null()]),
    updatedBy: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'Entry', title: 'Entry', additionalProperties: true, description: 'An entry: its fields and these' },
)

export const EntryVersionSchema = Type.Object({
  version: Type.Integer(),
  action: Type.Enum(['create', 'update', 'publish', 'unpublish', 'discard', 'restore', 'migrate'], {
    description: 'migrate: a change of the content model rewrote the data',
  }),
  changed: Type.Array(Type.String(), { description: 'The fields this change changed' }),
  createdById: Type.Union([Type.String(), Type.Null()]),
  createdAt: DateTime,
})

export const EntryVersionWithDataSchema = Type.Object({
  ...EntryVersionSchema.properties,
  data: Type.Object({}, { additionalProperties: true }),
})

export const ComparisonSchema = Type.Object({
  from: Type.Integer(),
  to: Type.Integer(),
  changes: Type.Array(Type.Object({ field: Type.String(), from: Type.Unknown(), to: Type.Unknown() })),
})

export const JobParamsSchema = Type.Object({ apiId: ApiIdSchema, documentId: Uuid, jobId: Uuid })

export const ScheduleBodySchema = StrictObject({
  action: Type.Enum(['publish', 'unpublish']),
  at: Type.Unsafe<string>({ type: 'string', format: 'date-time', description: 'When, in the future (ISO 8601)' }),
})

export const ScheduledJobSchema = Type.Object({
  id: Type.String(),
  action: Type.Enum(['publish', 'unpublish']),
  runAt: DateTime,
  status: Type.Enum(['pending', 'running', 'done', 'failed', 'cancelled']),
  attempts: Type.Integer(),
  error: Type.Union([Type.String(), Type.Null()], { description: 'Why a failed job failed' }),
  createdById: Type.Union([Type.String(), Type.Null()]),
  createdAt: DateTime,
  finishedAt: Type.Union([DateTime, Type.Null()]),
})

export const BulkBodySchema = StrictObject({
  documentIds: Type.Array(Uuid, { minItems: 1, maxItems: 100, description: 'At most 100 documents' }),
})
