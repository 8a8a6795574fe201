import { Prisma } from '../generated/prisma/client.js'
import type { FieldDefinition } from '../schemas/content-model.js'
import { type Data, idsOf, isData, mapData } from './content-data.js'
import { componentFields, type Components } from './content-schema.js'

/**
 * Relations hold document ids in the entries' data. What points at a document is found from
 * the model: the types whose fields (at any depth) relate to its type, and in their entries
 * the values that hold its id.
 */

type Transaction = Prisma.TransactionClient
type RelationField = Extract<FieldDefinition, { type: 'relation' }>
type Fields = readonly FieldDefinition[]

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

/** Whether fields, or the components in them at any depth, relate to `target`. */
function relatesTo(fields: Fields, components: Components, target: string, seen = new Set<string>()): boolean {
  return fields.some((f) => {
    if (f.type === 'relation') return f.target === target
    const uids = f.type === 'component' ? [f.component] : f.type === 'dynamiczone' ? f.components : []
    const inner = (uid: string) => relatesTo(componentFields(components, uid), components, target, seen)
    return uids.some((uid) => !seen.has(uid) && (seen.add(uid), inner(uid)))
  })
}

/** Calls `found` for each relation to `target` in data whose value holds one of `ids`. */
function eachLink(
  data: Data,
  fields: readonly FieldDefinition[],
  components: Components,
  target: string,
  ids: ReadonlySet<string>,
  found: (field: RelationField, path: string) => void,
): void {
  mapData(data, fields, components, (field, value, path) => {
    if (field.type === 'relation' && field.target === target && idsOf(value).some((id) => ids.has(id))) found(field, path)
    return value
  })
}

/** The entries (drafts and published data) that link to any of the documents of type `target`. */
export async function referencing(tx: Transaction, model: ModelTypes, target: string, documentIds: string[]) {
  const holders = model.types.filter((t) => relatesTo(t.fields, model.components, target))
  if (holders.length === 0) return []
  const ids = new Set(documentIds)
  const patterns = documentIds.map((id) => `%${id}%`)
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
      AND document_id NOT IN (${Prisma.join(documentIds.map((id) => Prisma.sql`${id}::uuid`))})
      AND (draft::text LIKE ANY (${patterns}) OR published::text LIKE ANY (${patterns}))
    ORDER BY id`
  const references: Reference[] = []
  for (const row of rows) {
    const type = holders.find((t) => t.id === row.contentTypeId) as ModelTypes['types'][number]
    for (const status of ['draft', 'published'] as const) {
      const data = row[status]
      if (!isData(data)) continue
      eachLink(data, type.fields, model.components, target, ids, (field, path) => references.push({
        entryId: row.id,
        apiId: type.apiId,
        documentId: row.documentId,
        locale: row.locale,
        status,
        path,
        onDelete: field.onDelete ?? 'restrict',
      }))
    }
  }
  return references
}

/** Data without links to the documents: a to-one relation is cleared, a to-many loses them. */
export function unlink(data: Data, fields: Fields, components: Components, target: string, ids: ReadonlySet<string>) {
  return mapData(data, fields, components, (field, value) => {
    if (field.type !== 'relation' || field.target !== target) return value
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
