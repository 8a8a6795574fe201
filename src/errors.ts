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

export const PreconditionFailedError = createError<'GUDANG_ERR_VERSION_MISMATCH', 412, [message: string]>(
  'GUDANG_ERR_VERSION_MISMATCH',
  '%s',
  412,
)

export const ModelChangeRefusedError = createError<'GUDANG_ERR_MODEL_CHANGE_REFUSED', 409, [reasons: string]>(
  'GUDANG_ERR_MODEL_CHANGE_REFUSED',
  'The change would lose or break content: %s',
  409,
)

export const BusyError = createError<'GUDANG_ERR_BUSY', 503, [message: string]>('GUDANG_ERR_BUSY', '%s', 503)

export const NotReadyError = createError<'GUDANG_ERR_NOT_READY', 503, [reason: string]>(
  'GUDANG_ERR_NOT_READY',
  'Gudang is not ready: %s',
  503,
)

/** Where in a request a problem is (`in`, a JSON pointer `path`), what it is, and what helps. */
export interface RequestProblem {
  in: 'body' | 'querystring' | 'params' | 'headers'
  path: string
  message: string
  [more: string]: unknown
}

/** A 400 whose details list every problem at its place in the request. */
export function invalid(message: string, problems: RequestProblem[]) {
  return withDetails(new ValidationError(message), problems)
}

/** Problems as one line for a message: `/title must be string; /views must be >= 0`. */
export function listed(problems: readonly { path: string, message: string }[]): string {
  return problems.map((p) => `${p.path} ${p.message}`).join('; ')
}

/** Attaches machine-readable details (for example the failing fields) to a coded error. */
export function withDetails<E extends Error>(error: E, details: unknown): E & { details: unknown } {
  return Object.assign(error, { details })
}

export const UnauthenticatedError = createError<'GUDANG_ERR_UNAUTHENTICATED', 401, []>(
  'GUDANG_ERR_UNAUTHENTICATED',
  'Authentication required: send Authorization: Bearer <access token or API token>',
  401,
)

export const InvalidTokenError = createError<'GUDANG_ERR_INVALID_TOKEN', 401, [reason: string]>(
  'GUDANG_ERR_INVALID_TOKEN',
  'The token was refused: %s',
  401,
)

export const InvalidCredentialsError = createError<'GUDANG_ERR_INVALID_CREDENTIALS', 401, []>(
  'GUDANG_ERR_INVALID_CREDENTIALS',
  'Wrong email or password',
  401,
)

export const WrongPasswordError = createError<'GUDANG_ERR_WRONG_PASSWORD', 400, []>(
  'GUDANG_ERR_WRONG_PASSWORD',
  'The current password is wrong',
  400,
)

export const ForbiddenError = createError<'GUDANG_ERR_FORBIDDEN', 403, [message: string]>(
  'GUDANG_ERR_FORBIDDEN',
  '%s',
  403,
)

export const BuiltInRoleError = createError<'GUDANG_ERR_BUILT_IN_ROLE', 409, [message: string]>(
  'GUDANG_ERR_BUILT_IN_ROLE',
  '%s',
  409,
)

export const LastAdministratorError = createError<'GUDANG_ERR_LAST_ADMINISTRATOR', 409, []>(
  'GUDANG_ERR_LAST_ADMINISTRATOR',
  'Gudang must keep at least one active administrator',
  409,
)

export const RoleInUseError = createError<'GUDANG_ERR_ROLE_IN_USE', 409, [users: number, tokens: number]>(
  'GUDANG_ERR_ROLE_IN_USE',
  'The role is held by %d user(s) and %d API token(s); give them another role first',
  409,
)

export const TooManyRequestsError = createError<'GUDANG_ERR_TOO_MANY_REQUESTS', 429, [message: string]>(
  'GUDANG_ERR_TOO_MANY_REQUESTS',
  '%s',
  429,
)

export const PayloadTooLargeError = createError<'GUDANG_ERR_PAYLOAD_TOO_LARGE', 413, [message: string]>(
  'GUDANG_ERR_PAYLOAD_TOO_LARGE',
  '%s',
  413,
)

export const UnsupportedMediaTypeError = createError<'GUDANG_ERR_UNSUPPORTED_MEDIA_TYPE', 415, [message: string]>(
  'GUDANG_ERR_UNSUPPORTED_MEDIA_TYPE',
  '%s',
  415,
)

export const ImageTooLargeError = createError<'GUDANG_ERR_IMAGE_TOO_LARGE', 413, [pixels: number, limit: number]>(
  'GUDANG_ERR_IMAGE_TOO_LARGE',
  'The image has %d pixels; at most %d are accepted (GUDANG_MEDIA_MAX_PIXELS)',
  413,
)

export const UnprocessableImageError = createError<'GUDANG_ERR_UNPROCESSABLE_IMAGE', 422, [format: string]>(
  'GUDANG_ERR_UNPROCESSABLE_IMAGE',
  'The file looks like a %s image but cannot be decoded',
  422,
)

export const MediaInUseError = createError<'GUDANG_ERR_MEDIA_IN_USE', 409, [uses: number]>(
  'GUDANG_ERR_MEDIA_IN_USE',
  'The media item is used %d time(s) by entries: remove it from them first, or delete with ?force=true to unlink it',
  409,
)
