import { type TObject, type TProperties, type TSchema, Type } from 'typebox'

/** An object that refuses properties it does not name (request bodies: nothing is silently dropped). */
export function StrictObject<P extends TProperties>(properties: P, options: { description?: string } = {}): TObject<P> {
  return Type.Object(properties, { ...options, additionalProperties: false })
}

/** A timestamp: a Date in TypeScript, an ISO 8601 string in JSON. */
export const DateTime = Type.Unsafe<Date>({ type: 'string', format: 'date-time' })

export const IdParamsSchema = Type.Object({ id: Type.String({ format: 'uuid' }) })

export const PageQuerySchema = StrictObject({
  page: Type.Integer({ minimum: 1, default: 1 }),
  pageSize: Type.Integer({ minimum: 1, maximum: 100, default: 25 }),
})

/** `{ data }`: the shape of a single item. */
export function Item<T extends TSchema>(schema: T) {
  return Type.Object({ data: schema })
}

/** `{ data, meta }`: the shape of a page of a list. */
export function Page<T extends TSchema>(schema: T) {
  return Type.Object({
    data: Type.Array(schema),
    meta: Type.Object({ page: Type.Integer(), pageSize: Type.Integer(), total: Type.Integer() }),
  })
}

export const EmailSchema = Type.String({ format: 'email', maxLength: 254 })

export const PasswordSchema = Type.String({ minLength: 12, maxLength: 256, description: '12 to 256 characters' })
