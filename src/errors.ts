import createError from '@fastify/error'

/**
 * The registry of coded errors Gudang throws. The error handler (src/infra/error-handler.ts)
 * turns these, and every other error, into the one error body of ErrorSchema.
 */
export const RouteNotFoundError = createError<
  'GUDANG_ERR_ROUTE_NOT_FOUND',
  404,
  [method: string, url: string]
>('GUDANG_ERR_ROUTE_NOT_FOUND', 'Route %s %s not found', 404)

export const ValidationError = createError<'GUDANG_ERR_VALIDATION', 400, [message: string]>(
  'GUDANG_ERR_VALIDATION',
  '%s',
  400,
)

export const ConflictError = createError<'GUDANG_ERR_CONFLICT', 409, [message: string]>(
  'GUDANG_ERR_CONFLICT',
  '%s',
  409,
)

export const NotFoundError = createError<'GUDANG_ERR_NOT_FOUND', 404, [message: string]>(
  'GUDANG_ERR_NOT_FOUND',
  '%s',
  404,
)

export const NotReadyError = createError<'GUDANG_ERR_NOT_READY', 503, [reason: string]>(
  'GUDANG_ERR_NOT_READY',
  'Gudang is not ready: %s',
  503,
)

/** Attaches machine-readable details (for example the failing fields) to a coded error. */
export function withDetails<E extends Error>(error: E, details: unknown): E & { details: unknown } {
  return Object.assign(error, { details })
}
