import { STATUS_CODES } from 'node:http'
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifySchemaValidationError,
} from 'fastify'
import fp from 'fastify-plugin'
import {
  BusyError,
  ConflictError,
  invalid,
  NotFoundError,
  type RequestProblem,
  RouteNotFoundError,
  ValidationError,
  withDetails,
} from '../errors.js'
import { Prisma } from '../generated/prisma/client.js'
import { type ErrorBody, ErrorSchema } from '../schemas/error.js'

type HandledError = FastifyError & { details?: unknown }

/** The HTTP reason phrase; a status Node does not name is plainly an error. */
function reason(statusCode: number): string {
  return STATUS_CODES[statusCode] ?? 'Error'
}

/** `GUDANG_ERR_` plus the reason phrase: 413 gives GUDANG_ERR_PAYLOAD_TOO_LARGE. */
function codeForStatus(statusCode: number): string {
  return `GUDANG_ERR_${reason(statusCode)
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')}`
}

function body(statusCode: number, code: string, message: string, details?: unknown): ErrorBody {
  return {
    statusCode,
    code,
    error: reason(statusCode),
    message,
    ...(details === undefined ? {} : { details }),
  }
}

function fieldErrors(validation: FastifySchemaValidationError[], context: RequestProblem['in']): RequestProblem[] {
  return validation.map((issue) => {
    const params = issue.params as Record<string, unknown>
    const child = params.missingProperty ?? params.additionalProperty
    const path = typeof child === 'string' ? `${issue.instancePath}/${child}` : issue.instancePath
    return {
      in: context,
      path: path || '/',
      message: String(issue.message),
    }
  })
}

/** Schema validation and Prisma's unique violation and missing row become coded errors. */
function asCodedError(error: HandledError): HandledError {
  if (error.validation) {
    const fields = fieldErrors(error.validation, error.validationContext as RequestProblem['in'])
    return invalid(`Invalid request: ${error.message}`, fields)
  }
  if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
    // Through a driver adapter, the violated constraint is reported by the adapter: its
    // fields (PGlite) or its index name (PostgreSQL).
    const adapterError = error.meta?.driverAdapterError as { cause?: { constraint?: unknown } } | undefined
    return withDetails(new ConflictError('A record with the same unique value already exists'), {
      constraint: adapterError?.cause?.constraint,
    })
  }
  if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2025') {
    return new NotFoundError('The record does not exist')
  }
  if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2028') {
    return new BusyError('The database is busy with a longer change (a content model change, say): try again shortly')
  }
  // PostgreSQL's data exceptions (class 22: a NUL in a text, a malformed uuid) are bad input
  // that the schemas let through.
  type AdapterCause = { originalCode?: string, originalMessage?: string }
  const cause = (error as { meta?: { driverAdapterError?: { cause?: AdapterCause } } }).meta?.driverAdapterError?.cause
  if (error instanceof Prisma.PrismaClientKnownRequestError && cause?.originalCode?.startsWith('22')) {
    return new ValidationError(`A value cannot be stored: ${cause.originalMessage}`)
  }
  return error
}

/**
 * The error body for an error a client caused or Gudang raised on purpose; undefined for an
 * internal error, whose message must not reach the client.
 */
function toErrorBody(error: HandledError): ErrorBody | undefined {
  const { statusCode, code } = error
  if (statusCode === undefined || statusCode < 400 || statusCode === 500) return undefined
  if (code?.startsWith('GUDANG_ERR_')) return body(statusCode, code, error.message, error.details)
  // Errors of Fastify and its plugins (invalid JSON, body too large, …) keep their message.
  return statusCode < 500 ? body(statusCode, codeForStatus(statusCode), error.message) : undefined
}

/**
 * Answers any error with the error body. It is also Fastify's `frameworkErrors` handler
 * (src/app.ts): errors found before routing, like a malformed URL, skip the hooks and the
 * error handler, hence the request id header here.
 */
export function sendError(error: HandledError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.header('x-request-id', request.id)
  const answer = toErrorBody(asCodedError(error))
  if (answer === undefined) {
    request.log.error({ err: error }, 'request failed')
    return reply.status(500).send(body(500, codeForStatus(500), 'Internal Server Error', { requestId: request.id }))
  }
  request.log.info({ code: answer.code, message: answer.message }, 'request rejected')
  return reply.status(answer.statusCode).send(answer)
}

async function errorHandlerPlugin(app: FastifyInstance): Promise<void> {
  app.addSchema(ErrorSchema)
  app.setErrorHandler(sendError)
  app.setNotFoundHandler((request) => {
    throw new RouteNotFoundError(request.method, request.url)
  })
}

export default fp(errorHandlerPlugin, { name: 'error-handler' })
