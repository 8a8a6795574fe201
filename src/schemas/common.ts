import { type TObject, type TProperties, type TSchema, Type } from 'typebox'

/** An object that refuses properties it does not name (request bodies: nothing is silently dropped). */
export function StrictObject<P extends TProperties>(properties: P, options: { description?: string } = {}): TObject<P> {
  return Type.Object(properties, { ...options, additionalProperties: false })
}

/** A timestamp: a Date in TypeScript, an ISO 8601 string in JSON. */
export const DateTime = Type.Unsafe<Date>({ type: 'string', format: 'date-time' })

/** A uuid, plainly: the `uuid` format also admits a `urn:uuid:` prefix, which PostgreSQL does not. */
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
export const Uuid = Type.String({ pattern: UUID_PATTERN })

export const IdParamsSchema = Type.Object({ id: Uuid })

export const PageQuerySchema = StrictObject({
  page: Type.Integer({ minimum: 1, default: 1 }),
  pageSize: Type.Integer({ minimum: 1, maximum: 100, default: 25 }),
})

/** `{ data }`: the shape of a single item. */
export function Item<T extends TSchema>(schema: T) {
  return Type.Object({ data: schema })
}

/** `{ data, meta: { total } }`: the shape of a short list, answered whole. */
export function List<T extends TSchema>(schema: T) {
  return Type.Object({ data: Type.Array(schema), meta: Type.Object({ total: Type.Integer() }) })
}

/** `{ data, meta }`: the shape of a page of a list. */
export function Page<T extends TSchema>(schema: T) {
  return Type.Object({
    data: Type.Array(schema),
    meta: Type.Object({ page: Type.Integer(), pageSize: Type.Integer(), total: Type.Integer() }),
  })
}

/**
 * An email, checked loosely (something@somewhere, internationalised names too): the one rule
 * of the API, the CLI and GUDANG_ADMIN_EMAIL.
 */
export const EMAIL_PATTERN = '^[^@\\s]+@[^@\\s]+$'
export const EmailSchema = Type.String({ pattern: EMAIL_PATTERN, maxLength: 254 })

export const PasswordSchema = Type.String({ minLength: 12, maxLength: 256, description: '12 to 256 characters' })
