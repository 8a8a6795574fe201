import { type Static, Type } from 'typebox'
import { FITS, OUTPUT_FORMATS } from '../services/images.js'
import { DateTime, PageQuerySchema, StrictObject, Uuid } from './common.js'

export const MEDIA_KINDS = ['image', 'video', 'audio', 'file'] as const

/** `/`, or `/`-separated names: `/blog/2026`. */
export const FOLDER_PATTERN = '^/([^/\\u0000-\\u001f]{1,100}(/[^/\\u0000-\\u001f]{1,100})*)?$'
export const FolderSchema = Type.String({
  pattern: FOLDER_PATTERN,
  maxLength: 1000,
  description: 'A folder path: `/`, or names after slashes (`/blog/2026`)',
})

const FocalPoint = Type.Object(
  { x: Type.Number({ minimum: 0, maximum: 1 }), y: Type.Number({ minimum: 0, maximum: 1 }) },
  { additionalProperties: false, description: 'Where crops centre: from 0 (left, top) to 1 (right, bottom)' },
)

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()])

export const MediaSchema = Type.Object(
  {
    id: Uuid,
    name: Type.String({ description: 'The uploaded file\'s name, sanitised; never used as a path' }),
    folder: Type.String(),
    kind: Type.Enum(MEDIA_KINDS, { description: 'image: JPEG, PNG, WebP, AVIF, GIF or TIFF; the rest by their bytes' }),
    mime: Type.String({ description: 'The type the bytes show, not what the client said' }),
    ext: Type.String(),
    size: Type.Integer({ description: 'Bytes' }),
    hash: Type.String({ description: 'SHA-256 of the bytes (hex)' }),
    width: nullable(Type.Integer({ description: 'Upright (EXIF orientation applied)' })),
    height: nullable(Type.Integer()),
    format: nullable(Type.String()),
    placeholder: nullable(Type.String({ description: 'A blurhash (https://blurha.sh) to paint while the image loads' })),
    dominantColor: nullable(Type.String({ description: '#rrggbb' })),
    focalPoint: nullable(FocalPoint),
    alternativeText: nullable(Type.String()),
    caption: nullable(Type.String()),
    url: Type.String({ description: 'The file, at /assets/{id}; `v` changes with the file and the focal point' }),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { $id: 'Media' },
)
export type MediaItem = Static<typeof MediaSchema>

const Format = Type.Object({ width: Type.Integer(), height: Type.Integer(), url: Type.String() })

/** A media field's item, populated by the delivery API. */
export const DeliveredMediaSchema = Type.Object(
  {
    ...Type.Omit(MediaSchema, ['hash', 'folder', 'createdAt', 'updatedAt']).properties,
    formats: Type.Array(Format, { description: 'An image at each offered width below its own, and at its own' }),
    srcset: nullable(Type.String({ description: 'The formats as an `<img srcset>`' })),
  },
  { $id: 'DeliveredMedia' },
)
export type DeliveredMedia = Static<typeof DeliveredMediaSchema>

const Binary = Type.String({ format: 'binary' })

/** What an upload's multipart body holds (documented; the route reads it as a stream). */
export const UploadFormSchema = Type.Object({
  files: Type.Array(Binary, { description: 'File parts, under any field name' }),
  folder: Type.Optional(FolderSchema),
  alternativeText: Type.Optional(Type.String({ maxLength: 1000 })),
  caption: Type.Optional(Type.String({ maxLength: 1000 })),
})

export const ReplacementFormSchema = Type.Object({ file: Binary })

export const MediaUseSchema = Type.Object({
  apiId: Type.String(),
  documentId: Uuid,
  locale: Type.String(),
  status: Type.Enum(['draft', 'published']),
  path: Type.String({ description: 'Where in the entry\'s data (a JSON pointer)' }),
})

export const MediaListQuerySchema = StrictObject({
  kind: Type.Optional(Type.Enum(MEDIA_KINDS)),
  folder: Type.Optional(FolderSchema),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'Part of the name, in any case' })),
  createdAfter: Type.Optional(Type.String({ format: 'date-time' })),
  createdBefore: Type.Optional(Type.String({ format: 'date-time' })),
  sort: Type.Enum(['createdAt:desc', 'createdAt:asc', 'name:asc', 'name:desc', 'size:asc', 'size:desc'], { default: 'createdAt:desc' }),
  ...PageQuerySchema.properties,
})
export type MediaListQuery = Static<typeof MediaListQuerySchema>

// Null first: the type coercion of request bodies would turn null into "" for a string tried first.
const text = (description: string) => Type.Union([Type.Null(), Type.String({ maxLength: 1000, description })])

export const MediaChangesSchema = StrictObject({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  folder: Type.Optional(FolderSchema),
  alternativeText: Type.Optional(text('What the image shows, for those who cannot see it')),
  caption: Type.Optional(text('A caption')),
  focalPoint: Type.Optional(nullable(FocalPoint)),
}, { description: 'What to change; null clears' })
export type MediaChanges = Static<typeof MediaChangesSchema>

export const MediaDeleteQuerySchema = StrictObject({
  force: Type.Boolean({ default: false, description: 'Delete even if entries use it: they lose the link' }),
})

export const AssetParamsSchema = Type.Object({ id: Uuid })

export const AssetQuerySchema = StrictObject({
  v: Type.Optional(Type.String({ pattern: '^[0-9a-f]{1,64}$', description: 'The version in the item\'s `url`: with it, cached for a year' })),
  w: Type.Optional(Type.Integer({ minimum: 1, description: 'Width: one of GUDANG_MEDIA_WIDTHS' })),
  h: Type.Optional(Type.Integer({ minimum: 1, description: 'Height: one of GUDANG_MEDIA_WIDTHS' })),
  fit: Type.Optional(Type.Enum(FITS, { description: 'With w and h: cover (crop around the focal point; the default), contain, inside, outside or fill' })),
  format: Type.Optional(Type.Enum(['auto', ...OUTPUT_FORMATS], { description: 'auto: AVIF or WebP if the Accept header allows; default: the original\'s' })),
  q: Type.Optional(Type.Integer({ minimum: 10, maximum: 100, multipleOf: 10, description: 'Quality, 10 to 100 in steps of 10; default GUDANG_MEDIA_QUALITY' })),
})
export type AssetQuery = Static<typeof AssetQuerySchema>
