import { Prisma } from '../generated/prisma/client.js'
import type { FieldDefinition } from '../schemas/content-model.js'
import { type Data, idsOf, isData, mapData } from './content-data.js'
import { componentFields, type Components } from './content-schema.js'

/**
 * Relations hold document ids in the entries' data, media fields media ids. What points at a
 * document or a media item is found from the model: the types whose fields (at any depth) can
 * hold it, and in their entries the values that hold its id.
 */

type Transaction = Prisma.TransactionClient
type Fields = readonly FieldDefinition[]

/** Which fields link to what is looked for: relations to one type, or media fields. */
export type Links = (field: FieldDefinition) => boolean

export function relationTo(target: string): Links {
  return (field) => field.type === 'relation' && field.target === target
}

export const mediaFields: Links = (field) => field.type === 'media'

export interface ModelTypes {
  types: { id: string, apiId: string, fields: readonly FieldDefinition[] }[]
  components: Components
}

/** An entry that links to one of the documents. */
export interface Reference {
  entryId: string
  apiId: string
  documentId: string
  locale: string
  status: 'draft' | 'published'
  path: string
  onDelete: 'restrict' | 'unlink'
}

/** Whether fields, or the components in them at any depth, can link. */
function canLink(fields: Fields, components: Components, links: Links, seen = new Set<string>()): boolean {
  return fields.some((f) => {
    if (links(f)) return true
    const uids = f.type === 'component' ? [f.component] : f.type === 'dynamiczone' ? f.components : []
    const inner = (uid: string) => canLink(componentFields(components, uid), components, links, seen)
    return uids.some((uid) => !seen.has(uid) && (seen.add(uid), inner(uid)))
  })
}

/** Calls `found` for each link in data whose value holds one of `ids`. */
function eachLink(
  data: Data,
  fields: readonly FieldDefinition[],
  components: Components,
  links: Links,
  ids: ReadonlySet<string>,
  found: (field: FieldDefinition, path: string) => void,
): void {
  mapData(data, fields, components, (field, value, path) => {
    if (links(field) && idsOf(value).some((id) => ids.has(id))) found(field, path)
    return value
  })
}

/**
 * The entries (drafts and published data) with links to any of `targets` (document or media
 * ids), but for the documents `except` (a document's links to itself).
 */
export async function referencing(
  tx: Transaction, model: ModelTypes, links: Links, targets: string[], except: string[] = [],
) {
  const holders = model.types.filter((t) => canLink(t.fields, model.components, links))
  if (holders.length === 0) return []
  const ids = new Set(targets)
  const patterns = targets.map((id) => `%${id}%`)
  // A cheap text search narrows the rows; walking the data with the model decides.
  interface Row {
    id: string
    contentTypeId: string
    documentId: string
    locale: string
    draft: Data
    published: Data | null
  }
  const rows = await tx.$queryRaw<Row[]>`
    SELECT id, content_type_id AS "contentTypeId", document_id AS "documentId", locale, draft, published FROM entries
    WHERE content_type_id IN (${Prisma.join(holders.map((t) => Prisma.sql`${t.id}::uuid`))})
      AND document_id <> ALL (${except}::uuid[])
      AND (draft::text LIKE ANY (${patterns}) OR published::text LIKE ANY (${patterns}))
    ORDER BY id`
  const references: Reference[] = []
  for (const row of rows) {
    const type = holders.find((t) => t.id === row.contentTypeId) as ModelTypes['types'][number]
    for (const status of ['draft', 'published'] as const) {
      const data = row[status]
      if (!isData(data)) continue
      eachLink(data, type.fields, model.components, links, ids, (field, path) => references.push({
        entryId: row.id,
        apiId: type.apiId,
        documentId: row.documentId,
        locale: row.locale,
        status,
        path,
        onDelete: field.type === 'relation' ? field.onDelete ?? 'restrict' : 'restrict',
      }))
    }
  }
  return references
}

/** Data without links to `ids`: a single link is cleared, a list loses them. */
export function unlink(data: Data, fields: Fields, components: Components, links: Links, ids: ReadonlySet<string>) {
  return mapData(data, fields, components, (field, value) => {
    if (!links(field)) return value
    if (Array.isArray(value)) return value.filter((id) => !ids.has(id as string))
    return typeof value === 'string' && ids.has(value) ? undefined : value
  })
}

/**
 * The inverse relations of documents of type `target`: for each top-level relation field of
 * another type (or the same) that names an `inverse`, the documents whose data (draft, or
 * published) link to each document. One query per such field, whatever the number of documents.
 */
export async function inverses(
  tx: Transaction,
  types: ModelTypes['types'],
  target: string,
  documentIds: string[],
  status: 'draft' | 'published',
  readable: (apiId: string) => boolean,
): Promise<Map<string, Record<string, string[]>>> {
  const result = new Map(documentIds.map((id) => [id, {} as Record<string, string[]>]))
  if (documentIds.length === 0) return result
  const column = Prisma.raw(status)
  // Only from types the caller may read: the others' documents are not theirs to know.
  for (const type of types.filter((t) => readable(t.apiId))) {
    for (const field of type.fields) {
      if (field.type !== 'relation' || field.target !== target || field.inverse === undefined) continue
      for (const value of result.values()) value[field.inverse] = []
      const rows = await tx.$queryRaw<{ documentId: string, value: unknown }[]>`
        SELECT DISTINCT document_id AS "documentId", ${column} -> ${field.name} AS value FROM entries
        WHERE content_type_id = ${type.id}::uuid AND ${column} IS NOT NULL
          AND (${column} -> ${field.name} ?| ${documentIds}::text[] OR ${column} ->> ${field.name} = ANY (${documentIds}::text[]))
        ORDER BY document_id`
      for (const row of rows) {
        for (const id of idsOf(row.value)) {
          const inverse = result.get(id)?.[field.inverse]
          if (inverse !== undefined && !inverse.includes(row.documentId)) inverse.push(row.documentId)
        }
      }
    }
  }
  return result
}
