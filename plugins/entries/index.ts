import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { ForbiddenError, NotFoundError, UnauthenticatedError } from '../../src/errors.js'
import type { Entry } from '../../src/generated/prisma/client.js'
import { Item, List, Page } from '../../src/schemas/common.js'
import {
  BulkBodySchema,
  ComparisonSchema,
  CompareQuerySchema,
  EntryBodySchema,
  EntryParamsSchema,
  EntryVersionSchema,
  EntryVersionWithDataSchema,
  JobParamsSchema,
  ListQuerySchema,
  LocaleQuerySchema,
  ReadQuerySchema,
  ScheduleBodySchema,
  ScheduledJobSchema,
  TypeParamsSchema,
  UpdateQuerySchema,
  VersionParamsSchema,
} from '../../src/schemas/entries.js'
import { errorResponses } from '../../src/schemas/error.js'
import { type Action, type Grant, ruleFor } from '../../src/services/access-control.js'
import { actorOf } from '../../src/services/audit.js'
import type { EntryStatus, Scope } from '../../src/services/entries.js'

/** The permission on the route's content type. */
function content(action: Action) {
  return { access: { subject: 'content:{apiId}', action } }
}

function scopeOf(request: FastifyRequest): Scope {
  const { principal } = request
  const { apiId } = request.params as { apiId: string }
  return { apiId, grant: request.grant, actor: actorOf(principal), rules: principal.rules }
}

/**
 * What an answer with an entry may show: the fields the caller may read, whatever the route's
 * action (a write rule may allow fields the read rule hides).
 */
function readGrant(request: FastifyRequest): Grant {
  const { apiId } = request.params as { apiId: string }
  const rule = ruleFor(request.principal.rules, `content:${apiId}`, 'read')
  // Who may write a type's entries but not read them is shown none of their fields.
  const fields = rule === undefined ? [] : rule.fields.length > 0 ? rule.fields : undefined
  return { ...request.grant, fields }
}

/** `If-Match: "7"` (or the body's `version`): the version the caller last saw. */
function expectedVersion(request: FastifyRequest, body?: { version?: number }): number | undefined {
  if (body?.version !== undefined) return body.version
  const header = request.headers['if-match']
  if (header === undefined || header.trim() === '*') return undefined
  const match = /^\s*(?:W\/)?"(\d+)"\s*$/.exec(header)
  // An ETag that is no version of ours matches nothing.
  return match === null ? 0 : Number(match[1])
}

/**
 * Entries for editors (the management API): the draft by default, the published data with
 * `status=published`. Permissions are on the content type (`content:<api id>`); the draft is
 * not for callers who may not read drafts (the Public role, delivery tokens), who read
 * published content through the delivery API.
 */
const entries: FastifyPluginAsyncTypebox = async (app) => {
  const EntryRef = Type.Ref('Entry')
  const tags = ['entries']

  app.addHook('preHandler', async (request, reply) => {
    if (request.principal.drafts) return
    if (request.principal.kind === 'anonymous') {
      // Like every 401: it says how to authenticate.
      reply.header('www-authenticate', 'Bearer')
      throw new UnauthenticatedError()
    }
    throw new ForbiddenError('The management API shows drafts: this token reads published content through /api/content')
  })

  async function send(reply: FastifyReply, entry: Entry, status: EntryStatus = 'draft') {
    if (status === 'published' && entry.published === null) throw new NotFoundError(`Entry ${entry.documentId} is not published`)
    const scope = { ...scopeOf(reply.request), grant: readGrant(reply.request) }
    const [data] = await app.entries.view(scope, [entry], status)
    return reply.header('etag', `"${entry.version}"`).send({ data })
  }

  app.get(
    '/content-types/:apiId/entries',
    {
      config: content('read'),
      schema: {
        tags,
        summary: 'List entries, newest change first',
        params: TypeParamsSchema,
        querystring: ListQuerySchema,
        response: { 200: Page(EntryRef), ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { page, pageSize, status } = request.query
      const { rows, total } = await app.entries.list(scopeOf(request), request.query)
      const data = await app.entries.view(scopeOf(request), rows, status)
      return { data, meta: { page, pageSize, total } }
    },
  )

  app.post(
    '/content-types/:apiId/entries',
    {
      config: content('create'),
      schema: {
        tags,
        summary: 'Create an entry',
        description: 'Saved as a draft (checked in draft mode); a type without draft & publish publishes it at once '
          + '(checked in publish mode). Rich-text fields also take Markdown.',
        params: TypeParamsSchema,
        querystring: LocaleQuerySchema,
        body: EntryBodySchema,
        response: { 201: Item(EntryRef), ...errorResponses(400, 404, 409) },
      },
    },
    async (request, reply) => {
      const input = { locale: request.query.locale, data: request.body.data }
      const entry = await app.entries.create(scopeOf(request), input)
      reply.status(201).header('location', `${request.url.split('?')[0]}/${entry.documentId}`)
      return send(reply, entry)
    },
  )

  app.get(
    '/content-types/:apiId/entries/:documentId',
    {
      config: content('read'),
      schema: {
        tags,
        summary: 'Read an entry',
        params: EntryParamsSchema,
        querystring: ReadQuerySchema,
        response: { 200: Item(EntryRef), ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const target = { documentId: request.params.documentId, locale: request.query.locale }
      const entry = await app.entries.get(scopeOf(request), target)
      return send(reply, entry, request.query.status)
    },
  )

  app.put(
    '/content-types/:apiId/entries/:documentId',
    {
      config: content('update'),
      schema: {
        tags,
        summary: 'Save fields of an entry',
        description: 'The fields given replace theirs, `null` clears one, the others stay. With `If-Match` (or `version`) '
          + 'a stale version answers 412 with the current one. In a localized type, a locale the document lacks is created '
          + '(from `from`\'s content if given); shared fields are saved into every locale.',
        params: EntryParamsSchema,
        querystring: UpdateQuerySchema,
        body: EntryBodySchema,
        response: { 200: Item(EntryRef), ...errorResponses(400, 404, 412) },
      },
    },
    async (request, reply) => {
      const { documentId } = request.params
      const target = { documentId, ...request.query, expected: expectedVersion(request, request.body) }
      return send(reply, await app.entries.update(scopeOf(request), target, request.body.data))
    },
  )

  app.delete(
    '/content-types/:apiId/entries/:documentId',
    {
      config: content('delete'),
      schema: {
        tags,
        summary: 'Delete an entry: one locale with `locale`, otherwise every locale',
        params: EntryParamsSchema,
        querystring: LocaleQuerySchema,
        response: { 204: Type.Null(), ...errorResponses(404, 412) },
      },
    },
    async (request, reply) => {
      const { documentId } = request.params
      const target = { documentId, locale: request.query.locale, expected: expectedVersion(request) }
      await app.entries.remove(scopeOf(request), target)
      return reply.status(204).send(null)
    },
  )

  const operations = [
    ['publish', 'publish', 'Publish the draft', 'Checked in publish mode; every problem is listed and nothing changes.'],
    ['unpublish', 'publish', 'Unpublish: readers no longer see the entry', 'The draft stays.'],
    ['discard', 'update', 'Discard draft changes: the draft goes back to the published data', ''],
  ] as const
  for (const [operation, action, summary, description] of operations) {
    app.post(
      `/content-types/:apiId/entries/:documentId/${operation}`,
      {
        config: content(action),
        schema: {
          tags,
          summary,
          description: `${description} With \`If-Match\`, a stale version answers 412.`,
          params: EntryParamsSchema,
          querystring: LocaleQuerySchema,
          response: { 200: Item(EntryRef), ...errorResponses(400, 404, 409, 412) },
        },
      },
      async (request, reply) => {
        const { documentId } = request.params
        const target = { documentId, locale: request.query.locale, expected: expectedVersion(request) }
        return send(reply, await app.entries[operation](scopeOf(request), target))
      },
    )
  }

  app.get(
    '/content-types/:apiId/entries/:documentId/versions',
    {
      config: content('read'),
      schema: {
        tags,
        summary: 'The versions of an entry, newest first: who changed which fields, when',
        params: EntryParamsSchema,
        querystring: LocaleQuerySchema,
        response: { 200: List(EntryVersionSchema), ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const target = { documentId: request.params.documentId, locale: request.query.locale }
      const data = await app.entries.versions(scopeOf(request), target)
      return { data, meta: { total: data.length } }
    },
  )

  app.get(
    '/content-types/:apiId/entries/:documentId/versions/compare',
    {
      config: content('read'),
      schema: {
        tags,
        summary: 'Compare two versions field by field',
        params: EntryParamsSchema,
        querystring: CompareQuerySchema,
        response: { 200: Item(ComparisonSchema), ...errorResponses(404) },
      },
    },
    async (request) => {
      const { locale, from, to } = request.query
      const target = { documentId: request.params.documentId, locale }
      return { data: await app.entries.compare(scopeOf(request), target, from, to) }
    },
  )

  app.get(
    '/content-types/:apiId/entries/:documentId/versions/:version',
    {
      config: content('read'),
      schema: {
        tags,
        summary: 'Read a version with its data',
        params: VersionParamsSchema,
        querystring: LocaleQuerySchema,
        response: { 200: Item(EntryVersionWithDataSchema), ...errorResponses(404) },
      },
    },
    async (request) => {
      const { documentId, version } = request.params
      const target = { documentId, locale: request.query.locale }
      return { data: await app.entries.version(scopeOf(request), target, version) }
    },
  )

  app.post(
    '/content-types/:apiId/entries/:documentId/versions/:version/restore',
    {
      config: content('update'),
      schema: {
        tags,
        summary: 'Restore a version: its data becomes the draft, exactly',
        description: 'Checked against the content type as it is now. With `If-Match`, a stale version answers 412.',
        params: VersionParamsSchema,
        querystring: LocaleQuerySchema,
        response: { 200: Item(EntryRef), ...errorResponses(400, 404, 412) },
      },
    },
    async (request, reply) => {
      const { documentId, version } = request.params
      const target = { documentId, locale: request.query.locale, expected: expectedVersion(request) }
      return send(reply, await app.entries.restore(scopeOf(request), target, version))
    },
  )

  app.get(
    '/content-types/:apiId/entry',
    {
      config: content('read'),
      schema: {
        tags,
        summary: 'Read the entry of a single type',
        params: TypeParamsSchema,
        querystring: ReadQuerySchema,
        response: { 200: Item(EntryRef), ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const entry = await app.entries.single(scopeOf(request), request.query.locale)
      return send(reply, entry, request.query.status)
    },
  )

  app.put(
    '/content-types/:apiId/entry',
    {
      config: content('update'),
      schema: {
        tags,
        summary: 'Save the entry of a single type (created by the first save)',
        params: TypeParamsSchema,
        querystring: LocaleQuerySchema,
        body: EntryBodySchema,
        response: { 200: Item(EntryRef), ...errorResponses(400, 409, 412) },
      },
    },
    async (request, reply) => {
      const { locale } = request.query
      const target = { locale, expected: expectedVersion(request, request.body) }
      return send(reply, await app.entries.saveSingle(scopeOf(request), target, request.body.data))
    },
  )

  app.post(
    '/content-types/:apiId/entries/:documentId/schedule',
    {
      config: content('publish'),
      schema: {
        tags,
        summary: 'Schedule a publish or an unpublish',
        description: 'At `at`, the scheduler of one server instance runs it (as `publish` or `unpublish` would; a '
          + 'draft that does not pass publishing fails the job, which says why). A pending job of the same action is replaced.',
        params: EntryParamsSchema,
        querystring: LocaleQuerySchema,
        body: ScheduleBodySchema,
        response: { 201: Item(ScheduledJobSchema), ...errorResponses(400, 404, 409) },
      },
    },
    async (request, reply) => {
      const target = { documentId: request.params.documentId, locale: request.query.locale }
      const input = { action: request.body.action, at: new Date(request.body.at) }
      return reply.status(201).send({ data: await app.scheduler.schedule(scopeOf(request), target, input) })
    },
  )

  app.get(
    '/content-types/:apiId/entries/:documentId/schedule',
    {
      config: content('read'),
      schema: {
        tags,
        summary: 'The scheduled jobs of an entry, latest first, with what became of them',
        params: EntryParamsSchema,
        querystring: LocaleQuerySchema,
        response: { 200: List(ScheduledJobSchema), ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const target = { documentId: request.params.documentId, locale: request.query.locale }
      const data = await app.scheduler.list(scopeOf(request), target)
      return { data, meta: { total: data.length } }
    },
  )

  app.delete(
    '/content-types/:apiId/entries/:documentId/schedule/:jobId',
    {
      config: content('publish'),
      schema: {
        tags,
        summary: 'Cancel a pending scheduled job',
        params: JobParamsSchema,
        querystring: LocaleQuerySchema,
        response: { 204: Type.Null(), ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const target = { documentId: request.params.documentId, locale: request.query.locale }
      await app.scheduler.cancel(scopeOf(request), target, request.params.jobId)
      return reply.status(204).send(null)
    },
  )

  const bulk = [
    ['publish', 'publish', 'publish'],
    ['unpublish', 'unpublish', 'publish'],
    ['delete', 'remove', 'delete'],
  ] as const
  for (const [name, operation, action] of bulk) {
    app.post(
      `/content-types/:apiId/entries/bulk/${name}`,
      {
        config: content(action),
        schema: {
          tags,
          summary: `Bulk ${name}: every entry listed, or none`,
          description: 'In one transaction: if any entry cannot be (missing, invalid, not allowed), nothing changes and the '
            + 'answer is 400 listing each failure in `details` (`documentId`, `code`, `message`, `details`).',
          params: TypeParamsSchema,
          querystring: LocaleQuerySchema,
          body: BulkBodySchema,
          response: { 200: Type.Object({ data: Type.Object({ count: Type.Integer() }) }), ...errorResponses(400, 404) },
        },
      },
      async (request) => {
        const input = { documentIds: request.body.documentIds, locale: request.query.locale }
        return { data: { count: await app.entries.bulk(scopeOf(request), operation, input) } }
      },
    )
  }
}

export default entries
