import { type Static, Type } from 'typebox'

/** The one body every error answer has (see shared API conventions). */
export const ErrorSchema = Type.Object(
  {
    statusCode: Type.Integer({ minimum: 400, maximum: 599 }),
    code: Type.String({ description: 'Stable machine-readable code, GUDANG_ERR_…' }),
    error: Type.String({ description: 'The HTTP reason phrase' }),
    message: Type.String(),
    details: Type.Optional(Type.Unknown({ description: 'For example the failing fields' })),
  },
  { $id: 'Error', title: 'Error' },
)

export type ErrorBody = Static<typeof ErrorSchema>

const ErrorRef = Type.Ref('Error')

/** Response schemas for the error statuses a route can answer. */
export function errorResponses<S extends number>(...statuses: S[]): Record<S, typeof ErrorRef> {
  return Object.fromEntries(statuses.map((status) => [status, ErrorRef])) as Record<S, typeof ErrorRef>
}
