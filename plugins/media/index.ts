import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { UnsupportedMediaTypeError } from '../../src/errors.js'
import { IdParamsSchema, Item, Page } from '../../src/schemas/common.js'
import { errorResponses } from '../../src/schemas/error.js'
import {
  MediaChangesSchema,
  MediaDeleteQuerySchema,
  MediaListQuerySchema,
  MediaUseSchema,
  ReplacementFormSchema,
  UploadFormSchema,
} from '../../src/schemas/media.js'
import type { Action } from '../../src/services/access-control.js'
import { actorOf } from '../../src/services/audit.js'
import type { MediaScope } from '../../src/services/media.js'

function media(action: Action) {
  return { access: { subject: 'media', action } }
}

function scopeOf(request: FastifyRequest): MediaScope {
  return { grant: request.grant, actor: actorOf(request.principal) }
}

/** The parts of a multipart body, streamed; any other body is refused. */
function partsOf(request: FastifyRequest) {
  if (!request.isMultipart()) throw new UnsupportedMediaTypeError('Send the files as multipart/form-data')
  return request.parts()
}

const UPLOAD = 'A `multipart/form-data` body: file parts (any field name), and the optional text fields '
  + '`folder` (`/blog/2026`; `/` by default), `alternativeText` and `caption`, which apply to every file. '
  + 'Files are streamed to disk, typed from their bytes and refused past GUDANG_MEDIA_MAX_FILE_SIZE, '
  + 'GUDANG_MEDIA_MAX_FILES or GUDANG_MEDIA_MAX_REQUEST_SIZE (413), or when of a kind '
  + 'GUDANG_MEDIA_ALLOWED_KINDS leaves out (415). Images over GUDANG_MEDIA_MAX_PIXELS are refused (413). '
  + 'If anything fails, no file and no item stays.'

/** The media library (permission subject `media`): uploads, metadata, folders, replacement, deletion. */
const mediaLibrary: FastifyPluginAsyncTypebox = async (app) => {
  const Media = Type.Ref('Media')
  const tags = ['media']

  app.post(
    '/',
    {
      config: media('create'),
      schema: {
        tags,
        'summary': 'Upload files',
        'description': UPLOAD,
        'consumes': ['multipart/form-data'],
        'x-multipart': UploadFormSchema,
        'response': { 201: Type.Object({ data: Type.Array(Media) }), ...errorResponses(400, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const data = await app.media.upload(scopeOf(request), partsOf(request))
      return reply.status(201).send({ data })
    },
  )

  app.get(
    '/',
    {
      config: media('read'),
      schema: {
        tags,
        summary: 'List media items, newest first',
        querystring: MediaListQuerySchema,
        response: { 200: Page(Media), ...errorResponses(400) },
      },
    },
    async (request) => app.media.list(scopeOf(request), request.query),
  )

  app.get(
    '/:id',
    {
      config: media('read'),
      schema: {
        tags,
        summary: 'Read a media item, with the entries that use it',
        params: IdParamsSchema,
        response: {
          200: Type.Object({ data: Media, meta: Type.Object({ usedBy: Type.Array(MediaUseSchema) }) }),
          ...errorResponses(400, 404),
        },
      },
    },
    async (request) => app.media.get(scopeOf(request), request.params.id),
  )

  app.patch(
    '/:id',
    {
      config: media('update'),
      schema: {
        tags,
        summary: 'Change a media item\'s name, folder (move), texts or focal point',
        params: IdParamsSchema,
        body: MediaChangesSchema,
        response: { 200: Item(Media), ...errorResponses(400, 404) },
      },
    },
    async (request) => ({ data: await app.media.update(scopeOf(request), request.params.id, request.body) }),
  )

  app.put(
    '/:id/file',
    {
      config: media('update'),
      schema: {
        tags,
        'summary': 'Replace the file of a media item, keeping its id and uses',
        'description': 'A `multipart/form-data` body with one file part, of the same kind as the file it replaces (409 '
          + 'otherwise: entries may accept only that kind). Limits as for uploads.',
        'consumes': ['multipart/form-data'],
        'x-multipart': ReplacementFormSchema,
        'params': IdParamsSchema,
        'response': { 200: Item(Media), ...errorResponses(400, 404, 409, 413, 415, 422) },
      },
    },
    async (request) => ({ data: await app.media.replace(scopeOf(request), request.params.id, partsOf(request)) }),
  )

  app.delete(
    '/:id',
    {
      config: media('delete'),
      schema: {
        tags,
        summary: 'Delete a media item',
        description: 'Refused while entries use it (409 `GUDANG_ERR_MEDIA_IN_USE`, `details.usedBy` lists them), '
          + 'unless `force=true`: then the entries lose the link (a new version each).',
        params: IdParamsSchema,
        querystring: MediaDeleteQuerySchema,
        response: { 204: Type.Null(), ...errorResponses(400, 404, 409) },
      },
    },
    async (request, reply) => {
      await app.media.remove(scopeOf(request), request.params.id, request.query.force)
      return reply.status(204).send(null)
    },
  )
}

export default mediaLibrary
