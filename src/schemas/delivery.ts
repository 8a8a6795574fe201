import { type Static, Type } from 'typebox'
import { StrictObject, Uuid } from './common.js'
import { ApiIdSchema } from './content-model.js'
import { LocaleCode } from './entries.js'

/** How the delivery API and the sync feed are asked. The query language is described in the README ("Delivery API"). */

export const DeliveryParamsSchema = Type.Object({ apiId: ApiIdSchema })
export const DeliveryEntryParamsSchema = Type.Object({ apiId: ApiIdSchema, documentId: Uuid })

const Names = Type.Unknown({
  description: 'Field names: `a,b` or `[0]=a&[1]=b`',
})

const readQuery = {
  status: Type.Enum(['published', 'draft'], {
    default: 'published',
    description: 'published (default), or draft: the latest drafts, for callers who may read drafts (preview and full tokens, editors)',
  }),
  locale: Type.Optional(Type.Unsafe<string>({ ...LocaleCode, description: 'The locale (the default locale if omitted)' })),
  fallback: Type.Optional(Type.String({
    pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}(,[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3})*$',
    description: 'Locales to try, in order, for documents that do not have `locale`; each entry says which it came from',
    examples: ['fr,en'],
  })),
  fields: Type.Optional(Names),
  populate: Type.Optional(Type.Unknown({
    description: '`*` (every relation and media field), `a,b`, or per field: `populate[author][fields]=name&populate[author][populate]=avatar`; '
      + 'a component or dynamic zone field takes `populate` for the relations inside it',
  })),
}

export const DeliveryReadQuerySchema = StrictObject(readQuery)

export const DeliveryListQuerySchema = StrictObject({
  ...readQuery,
  filters: Type.Optional(Type.Unknown({
    description: '`filters[field][$operator]=value` (`filters[field]=value` is `$eq`); several mean *and*; combine with '
      + '`filters[$or][0][…]`, `$and`, `$not`. Through a relation: `filters[author][name][$eq]=Ann`; in a component: '
      + '`filters[seo][metaTitle][$eq]=…` (a repeatable one: any item). Operators: `$eq` `$ne` `$in` `$notIn` (lists: '
      + '`[$in][0]=a&[$in][1]=b`) `$null` `$notNull` (true/false; also empty relations, components, lists) on every value; '
      + '`$lt` `$lte` `$gt` `$gte` `$between` (two values) on text, numbers, dates and `createdAt`/`publishedAt`; '
      + '`$contains` `$notContains` `$startsWith` `$endsWith` and the any-case `$eqi` `$nei` `$containsi` `$notContainsi` '
      + '`$startsWithi` `$endsWithi` on text. `$ne`/`$notIn` also match entries without a value.',
  })),
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Full-text search over the text fields, ranked (best first unless sorted)' })),
  sort: Type.Optional(Type.String({
    maxLength: 500,
    pattern: '^[A-Za-z][A-Za-z0-9_.]*(:(asc|desc))?(,[A-Za-z][A-Za-z0-9_.]*(:(asc|desc))?)*$',
    description: '`field:asc` or `field:desc`, comma-separated; `relation.field` and `component.field` too (default `createdAt:desc`)',
    examples: ['publishedAt:desc,title:asc', 'author.name:asc'],
  })),
  page: Type.Optional(Type.Integer({ minimum: 1, description: 'Page by number (meta.total counts the matches)' })),
  pageSize: Type.Integer({ minimum: 1, default: 25, description: 'At most GUDANG_DELIVERY_MAX_PAGE_SIZE (100)' }),
  after: Type.Optional(Type.String({
    minLength: 1,
    maxLength: 12_000,
    description: 'Page by cursor: the previous page\'s meta.nextCursor (same sort). Stable while content changes; as fast on page 10 000 as on page 1',
  })),
})

export type DeliveryQuery = Static<typeof DeliveryListQuerySchema>

export const DeliveryEntrySchema = Type.Object(
  {
    documentId: Type.String(),
    locale: Type.String({ description: 'The locale the entry came from (with a fallback, maybe not the one asked for)' }),
    createdAt: Type.Unsafe<Date>({ type: 'string', format: 'date-time' }),
    publishedAt: Type.Union([Type.Unsafe<Date>({ type: 'string', format: 'date-time' }), Type.Null()]),
  },
  {
    $id: 'DeliveredEntry',
    title: 'DeliveredEntry',
    additionalProperties: true,
    description: 'An entry\'s fields (see `EntryData.<apiId>`; populated relations hold entries, others document ids) and these. '
      + 'With status=draft also `status` and `updatedAt`.',
  },
)

export const SyncQuerySchema = StrictObject({
  token: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'meta.nextPageToken or meta.syncToken of the previous answer' })),
  type: Type.Optional(Type.String({
    pattern: '^[a-z][a-z0-9-]{0,62}(,[a-z][a-z0-9-]{0,62})*$',
    description: 'Only these content types (comma-separated); on the first request only: the token keeps it',
  })),
  locale: Type.Optional(Type.Unsafe<string>({ ...LocaleCode, description: 'Only this locale (types that are not localized have one); first request only' })),
})
