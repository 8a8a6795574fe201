import { createHash, randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { type Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Multipart, MultipartFile } from '@fastify/multipart'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { fileTypeFromFile } from 'file-type'
import { ConflictError, invalid, NotFoundError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors.js'
import type { Media, Prisma } from '../generated/prisma/client.js'
import type { MediaKind } from '../generated/prisma/enums.js'
import { type AssetQuery, type DeliveredMedia, FOLDER_PATTERN, type MediaChanges, type MediaItem, type MediaListQuery } from '../schemas/media.js'
import type { Grant } from './access-control.js'
import { type Actor, audit } from './audit.js'
import { IMAGE_TYPES, type ImageFacts, OUTPUT_FORMATS, type OutputFormat, type Rendition } from './images.js'

/** Who asks, and what their permission lets them touch (own items only, say). */
export interface MediaScope {
  grant: Grant
  actor: Actor
}

/** A file received from a request: spooled to disk, hashed, typed from its bytes. */
interface Received {
  spooled: string
  name: string
  mime: string
  ext: string
  kind: MediaKind
  size: number
  hash: string
  image?: ImageFacts
}

/** Locks an upload's hashes and stores its bytes, in the transaction that records it. */
type Hold = (tx: Prisma.TransactionClient) => Promise<void>

/** The stored bytes of an upload; items with the same bytes share them. */
export const originalKey = (hash: string) => `originals/${hash}`
/** Where the renditions of some bytes are kept. */
export const renditionsOf = (hash: string) => `renditions/${hash}`

const FOLDER = new RegExp(FOLDER_PATTERN)
const TEXT_FIELDS = ['folder', 'alternativeText', 'caption'] as const

/** A client's file name as a label: no path, no control characters, at most 255 characters. */
export function sanitisedName(filename: string): string {
  const name = (filename.split(/[/\\]/).pop() as string)
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim()
    .slice(0, 255)
  return name === '' || name === '.' || name === '..' ? 'file' : name
}

/** A kind with its article: an image, a video, an audio, a file. */
const aKind = (kind: MediaKind) => `${kind === 'image' || kind === 'audio' ? 'an' : 'a'} ${kind}`

function kindOf(mime: string): MediaKind {
  if (IMAGE_TYPES[mime] !== undefined) return 'image'
  if (mime.startsWith('video/')) return 'video'
  return mime.startsWith('audio/') ? 'audio' : 'file'
}

/** What `/assets` sends: a stored file, how to label it, and whether the URL names this version. */
export interface Asset {
  body: Readable
  size: number
  type: string
  etag: string
  name: string
  /** Not an image: sent as a download, never shown from the API's origin. */
  download: boolean
  /** The format followed the Accept header. */
  negotiated: boolean
  /** The URL's `v` is the current version: cacheable for a year. */
  current: boolean
}

/**
 * The format a browser takes best: AVIF, then WebP, if its Accept header names them. GIF and
 * WebP may be animations, which WebP keeps and AVIF would not.
 */
function negotiated(accept: string | undefined, media: Media): OutputFormat {
  const accepted = new Set((accept ?? '').split(',')
    .map((range) => range.split(';').map((part) => part.trim()))
    .filter(([, ...params]) => !params.some((p) => /^q=0(\.0*)?$/.test(p)))
    .map(([type]) => type))
  if (accepted.has('image/avif') && media.format !== 'gif' && media.format !== 'webp') return 'avif'
  return accepted.has('image/webp') ? 'webp' : sameFormat(media)
}

/** An image's own format, where browsers show it; TIFF becomes JPEG. */
function sameFormat(media: Media): OutputFormat {
  return (OUTPUT_FORMATS as readonly string[]).includes(media.format as string) ? media.format as OutputFormat : 'jpeg'
}

/** What changes with the bytes and the focal point: the `v` of asset URLs, cached for a year. */
export function revisionOf(media: Pick<Media, 'hash' | 'focalX' | 'focalY'>): string {
  return createHash('sha256').update(`${media.hash} ${media.focalX} ${media.focalY}`).digest('hex').slice(0, 12)
}

export function present(media: Media): MediaItem {
  const { focalX, focalY, createdById, ...rest } = media
  return {
    ...rest,
    size: Number(media.size),
    focalPoint: focalX === null || focalY === null ? null : { x: focalX, y: focalY },
    url: `/assets/${media.id}?v=${revisionOf(media)}`,
  }
}

/**
 * The media library. Uploads are streamed to a spool file under the uploads folder while they
 * are hashed and counted, typed from their bytes, inspected (images), then stored under their
 * hash and recorded in one transaction. Whatever fails on the way, the spool files go, and so
 * do stored files no row came to hold.
 */
function createMedia(app: FastifyInstance) {
  const { prisma, storage, images, config } = app
  const spool = path.join(config.GUDANG_UPLOADS_DIR, '.incoming')
  const allowedKinds = config.GUDANG_MEDIA_ALLOWED_KINDS.split(',')
  const sizes = config.GUDANG_MEDIA_WIDTHS.split(',').map(Number).sort((a, b) => a - b)
  const inFlight = new Map<string, Promise<void>>()

  /** Streams a file part to disk; a file or request over its limit is refused (413) mid-stream. */
  async function receive(part: MultipartFile, budget: { left: number }): Promise<Received> {
    await mkdir(spool, { recursive: true })
    const spooled = path.join(spool, randomUUID())
    const hash = createHash('sha256')
    let size = 0
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length
        hash.update(chunk)
        if (size > budget.left) {
          done(new PayloadTooLargeError(`The request carries more than ${config.GUDANG_MEDIA_MAX_REQUEST_SIZE} bytes of files (GUDANG_MEDIA_MAX_REQUEST_SIZE)`))
        } else {
          done(null, chunk)
        }
      },
    })
    // A part busboy takes for a file may come without a name.
    const name = sanitisedName(part.filename ?? '')
    try {
      await pipeline(part.file, count, createWriteStream(spooled))
      // Past GUDANG_MEDIA_MAX_FILE_SIZE busboy ends the part early and marks it truncated;
      // @fastify/multipart would only raise its own error at the next part.
      if (part.file.truncated) {
        throw new PayloadTooLargeError(`"${name}" is larger than ${config.GUDANG_MEDIA_MAX_FILE_SIZE} bytes (GUDANG_MEDIA_MAX_FILE_SIZE)`)
      }
    } catch (error) {
      await rm(spooled, { force: true })
      throw error
    }
    budget.left -= size
    const type = await fileTypeFromFile(spooled)
    const mime = type?.mime ?? 'application/octet-stream'
    return { spooled, name, mime, ext: type?.ext ?? 'bin', kind: kindOf(mime), size, hash: hash.digest('hex') }
  }

  /** Refuses a kind the configuration does not allow, and inspects images (or takes a twin's facts). */
  async function examine(file: Received): Promise<void> {
    if (!allowedKinds.includes(file.kind)) {
      throw new UnsupportedMediaTypeError(`"${file.name}" is ${aKind(file.kind)} (${file.mime}); uploads may be ${allowedKinds.join(', ')}`)
    }
    if (file.kind !== 'image') return
    const twin = await prisma.media.findFirst({ where: { hash: file.hash, placeholder: { not: null } } })
    file.image = twin === null
      ? await images.inspect(file.spooled, file.mime)
      : {
          width: twin.width as number,
          height: twin.height as number,
          format: twin.format as string,
          placeholder: twin.placeholder as string,
          dominantColor: twin.dominantColor as string,
        }
  }

  /** Reads every part: the files to disk, the fields as metadata. */
  async function read(parts: AsyncIterable<Multipart>, files: Received[], fields: Record<string, string>) {
    const budget = { left: config.GUDANG_MEDIA_MAX_REQUEST_SIZE }
    try {
      for await (const part of parts) {
        if (part.type === 'file') files.push(await receive(part, budget))
        else fields[part.fieldname] = String(part.value)
      }
    } catch (error) {
      // busboy's complaints about the body (no boundary, an early end) are plain errors: the
      // client's, unlike the file system's (which have a code) or ours (a status).
      const { statusCode, code, message } = error as { statusCode?: number, code?: string, message: string }
      if (statusCode !== undefined || code !== undefined) throw error
      throw invalid(`Malformed multipart body: ${message}`, [{ in: 'body', path: '/', message }])
    }
    if (files.length === 0) throw invalid('No file was uploaded', [{ in: 'body', path: '/', message: 'must hold a file part' }])
  }

  /**
   * Stored bytes are shared by the items with their hash: storing them and recording an item,
   * or counting the items and deleting the bytes, happen under the hash's lock, until commit.
   */
  async function lock(tx: Prisma.TransactionClient, hash: string): Promise<void> {
    await tx.$queryRaw`SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtextextended(${`gudang.media ${hash}`}, 0))) AS locked`
  }

  /** Bytes and their renditions that no item holds any more; failures are logged, not answered. */
  async function forget(hashes: string[]): Promise<void> {
    try {
      for (const hash of new Set(hashes)) {
        await prisma.$transaction(async (tx) => {
          await lock(tx, hash)
          if (await tx.media.count({ where: { hash } }) > 0) return
          await storage.delete(originalKey(hash))
          await storage.deleteAll(renditionsOf(hash))
        })
      }
    } catch (error) {
      app.log.error({ err: error, hashes }, 'media files no item holds could not be deleted')
    }
  }

  /**
   * Receives and checks the files, then `record`s them in a transaction that first calls
   * `hold`: it locks the files' hashes and stores the bytes not stored yet. On any failure
   * nothing stays.
   */
  async function accept<T>(
    parts: AsyncIterable<Multipart>,
    record: (files: Received[], fields: Record<string, string>, hold: Hold) => Promise<T>,
  ): Promise<T> {
    const files: Received[] = []
    const fields: Record<string, string> = {}
    const stored: string[] = []
    const hold: Hold = async (tx) => {
      // In one order, so that two uploads of the same files cannot wait for each other.
      for (const hash of [...new Set(files.map((f) => f.hash))].sort()) {
        await lock(tx, hash)
        if (await storage.exists(originalKey(hash))) continue
        await storage.put(originalKey(hash), createReadStream((files.find((f) => f.hash === hash) as Received).spooled))
        stored.push(hash)
      }
    }
    let recorded: T
    try {
      await read(parts, files, fields)
      for (const file of files) await examine(file)
      recorded = await record(files, fields, hold)
    } catch (error) {
      await forget(stored)
      throw error
    } finally {
      for (const file of files) await rm(file.spooled, { force: true })
    }
    // Returned after the try (not from it): code after a try that always returns is a branch
    // coverage never reaches.
    return recorded
  }

  function metadataOf(fields: Record<string, string>) {
    const problems = Object.keys(fields)
      .filter((name) => !(TEXT_FIELDS as readonly string[]).includes(name))
      .map((name) => ({ in: 'body' as const, path: `/${name}`, message: `is not a field of an upload; fields are ${TEXT_FIELDS.join(', ')}` }))
    const { folder = '/', alternativeText, caption } = fields
    if (!FOLDER.test(folder)) problems.push({ in: 'body', path: '/folder', message: 'must be / or a path like /blog/2026' })
    for (const [name, value] of Object.entries({ alternativeText, caption })) {
      if (value !== undefined && value.length > 1000) problems.push({ in: 'body', path: `/${name}`, message: 'must be at most 1000 characters' })
    }
    if (problems.length > 0) throw invalid('Invalid upload fields', problems)
    return { folder, alternativeText, caption }
  }

  function columnsOf(file: Received) {
    const { name, mime, ext, kind, size, hash, image } = file
    return {
      name,
      mime,
      ext,
      kind,
      size,
      hash,
      width: image?.width ?? null,
      height: image?.height ?? null,
      format: image?.format ?? null,
      placeholder: image?.placeholder ?? null,
      dominantColor: image?.dominantColor ?? null,
    }
  }

  async function find(tx: Prisma.TransactionClient, scope: MediaScope, id: string, lock = false): Promise<Media> {
    if (lock) await tx.$queryRaw`SELECT 1 FROM media WHERE id = ${id}::uuid FOR UPDATE`
    const media = await tx.media.findFirst({ where: { id, ...scope.grant.where } })
    if (media === null) throw new NotFoundError(`No media item ${id}`)
    return media
  }

  /** The rendition a query asks for; sizes only from GUDANG_MEDIA_WIDTHS, so they are few. */
  function renditionOf(media: Media, query: AssetQuery, accept: string | undefined): Rendition {
    const problems = (['w', 'h'] as const)
      .filter((name) => query[name] !== undefined && !sizes.includes(query[name] as number))
      .map((name) => ({ in: 'querystring' as const, path: `/${name}`, message: `must be one of ${sizes.join(', ')}`, allowed: sizes }))
    if (problems.length > 0) throw invalid('This size is not offered (GUDANG_MEDIA_WIDTHS)', problems)
    const both = query.w !== undefined && query.h !== undefined
    return {
      width: query.w,
      height: query.h,
      fit: query.fit ?? (both ? 'cover' : 'inside'),
      format: query.format === 'auto' ? negotiated(accept, media) : query.format ?? sameFormat(media),
      quality: query.q ?? config.GUDANG_MEDIA_QUALITY,
      focus: { x: media.focalX ?? 0.5, y: media.focalY ?? 0.5 },
    }
  }

  /**
   * A rendition's name among its image's: what it is made of (GUDANG_MEDIA_KEEP_METADATA
   * too), so that it is made once and a changed setting makes new files.
   */
  function variant(r: Rendition): string {
    const cropped = r.width !== undefined && r.height !== undefined && r.fit === 'cover'
    const focus = cropped ? `-at${r.focus.x}_${r.focus.y}` : ''
    const metadata = config.GUDANG_MEDIA_KEEP_METADATA ? '-exif' : ''
    return `${r.width ?? 'auto'}x${r.height ?? 'auto'}-${r.fit}-q${r.quality}${focus}${metadata}.${r.format}`
  }

  /** Made once, even when several requests ask for it at the same time. */
  async function make(key: string, media: Media, rendition: Rendition): Promise<void> {
    let making = inFlight.get(key)
    if (making === undefined) {
      const read = async () => {
        const original = await storage.get(originalKey(media.hash))
        if (original === undefined) throw new NotFoundError(`The file of media item ${media.id} is missing`)
        return original.body
      }
      const source = { mime: media.mime, width: media.width as number, height: media.height as number }
      making = images.render(read, source, rendition, (encoded) => storage.put(key, encoded))
        .finally(() => inFlight.delete(key))
      inFlight.set(key, making)
    }
    await making
  }

  async function serve(key: string, media: Media, how: Omit<Asset, 'body' | 'size' | 'etag' | 'name'>): Promise<Asset> {
    const file = await storage.get(key)
    // Deleted or replaced since it was read.
    if (file === undefined) throw new NotFoundError(`No media item ${media.id}`)
    const etag = `"${createHash('sha256').update(key).digest('base64url').slice(0, 27)}"`
    return { ...file, ...how, etag, name: media.name }
  }

  function details(media: Media): Prisma.InputJsonObject {
    return { id: media.id, name: media.name, hash: media.hash }
  }

  return {
    async upload(scope: MediaScope, parts: AsyncIterable<Multipart>): Promise<MediaItem[]> {
      return accept(parts, async (files, fields, hold) => {
        const metadata = metadataOf(fields)
        const created = await prisma.$transaction(async (tx) => {
          await hold(tx)
          const rows: Media[] = []
          for (const file of files) {
            const data = { ...columnsOf(file), ...metadata, createdById: scope.actor.userId }
            const media = await tx.media.create({ data })
            await audit(tx, { action: 'media.create', subject: 'media', actor: scope.actor, details: details(media) })
            rows.push(media)
          }
          return rows
        })
        return created.map(present)
      })
    },

    /** Replaces an item's file, keeping its id, metadata and uses; the kind must stay the same. */
    async replace(scope: MediaScope, id: string, parts: AsyncIterable<Multipart>): Promise<MediaItem> {
      await find(prisma, scope, id)
      let before: Media | undefined
      const media = await accept(parts, async (files, fields, hold) => {
        if (files.length > 1) throw invalid('A replacement is one file', [{ in: 'body', path: '/', message: 'must hold exactly one file part' }])
        if (Object.keys(fields).length > 0) {
          throw invalid('A replacement is a file only: change metadata with PATCH', Object.keys(fields).map((name) => ({ in: 'body' as const, path: `/${name}`, message: 'is not accepted here' })))
        }
        const file = files[0] as Received
        return prisma.$transaction(async (tx) => {
          before = await find(tx, scope, id, true)
          await hold(tx)
          if (before.kind !== file.kind) {
            throw new ConflictError(`The item is ${aKind(before.kind)}, which only ${aKind(before.kind)} may replace: entries may allow only that kind; "${file.name}" is ${aKind(file.kind)}`)
          }
          const updated = await tx.media.update({ where: { id }, data: columnsOf(file) })
          await audit(tx, { action: 'media.replace', subject: 'media', actor: scope.actor, details: { ...details(updated), previousHash: before.hash } })
          return updated
        })
      })
      await forget([(before as Media).hash])
      return present(media)
    },

    async list(scope: MediaScope, query: MediaListQuery) {
      const where: Prisma.MediaWhereInput = {
        ...scope.grant.where,
        ...(query.kind === undefined ? {} : { kind: query.kind }),
        ...(query.folder === undefined ? {} : { folder: query.folder }),
        ...(query.name === undefined ? {} : { name: { contains: query.name, mode: 'insensitive' } }),
        createdAt: {
          ...(query.createdAfter === undefined ? {} : { gte: new Date(query.createdAfter) }),
          ...(query.createdBefore === undefined ? {} : { lt: new Date(query.createdBefore) }),
        },
      }
      const [field, direction] = query.sort.split(':') as ['createdAt' | 'name' | 'size', 'asc' | 'desc']
      const [rows, total] = await prisma.$transaction([
        prisma.media.findMany({
          where,
          orderBy: [{ [field]: direction }, { id: direction }],
          skip: (query.page - 1) * query.pageSize,
          take: query.pageSize,
        }),
        prisma.media.count({ where }),
      ])
      return { data: rows.map(present), meta: { page: query.page, pageSize: query.pageSize, total } }
    },

    /** An item, and where entries use it. */
    async get(scope: MediaScope, id: string) {
      const media = await find(prisma, scope, id)
      return { data: present(media), meta: { usedBy: await app.entries.mediaUses([id]) } }
    },

    async update(scope: MediaScope, id: string, changes: MediaChanges): Promise<MediaItem> {
      const { focalPoint, name, ...rest } = changes
      const focal = focalPoint === undefined ? {} : { focalX: focalPoint?.x ?? null, focalY: focalPoint?.y ?? null }
      return present(await prisma.$transaction(async (tx) => {
        await find(tx, scope, id, true)
        const renamed = name === undefined ? {} : { name: sanitisedName(name) }
        const media = await tx.media.update({ where: { id }, data: { ...rest, ...renamed, ...focal } })
        await audit(tx, { action: 'media.update', subject: 'media', actor: scope.actor, details: { ...details(media), changed: Object.keys(changes).sort() } })
        return media
      }))
    },

    /**
     * Items as the delivery API populates them: with the URLs of their renditions at the
     * offered widths below their own, ready for a `srcset`.
     */
    async delivered(ids: string[]): Promise<Map<string, DeliveredMedia>> {
      const rows = ids.length === 0 ? [] : await prisma.media.findMany({ where: { id: { in: [...new Set(ids)] } } })
      return new Map(rows.map((row) => {
        const { hash, folder, createdAt, updatedAt, ...item } = present(row)
        const width = row.width
        const formats = width === null
          ? []
          : [...sizes.filter((w) => w < width).map((w) => ({ width: w, url: `${item.url}&w=${w}` })), { width, url: item.url }]
              .map((f) => ({ ...f, height: Math.round((row.height as number) * f.width / width) }))
        const srcset = formats.map((f) => `${f.url} ${f.width}w`).join(', ')
        return [row.id, { ...item, formats, srcset: srcset === '' ? null : srcset }]
      }))
    },

    /** Deletes an item; one that entries use is refused (409, listing them) unless forced. */
    async remove(scope: MediaScope, id: string, force: boolean): Promise<void> {
      const media = await prisma.$transaction(async (tx) => {
        const found = await find(tx, scope, id, true)
        await app.entries.detachMedia(tx, [id], scope.actor, force)
        await tx.media.delete({ where: { id } })
        await audit(tx, { action: 'media.delete', subject: 'media', actor: scope.actor, details: details(found) })
        return found
      })
      await forget([media.hash])
    },

    /**
     * An item's file for `/assets`, or a rendition of an image, made on first request and
     * stored. Anyone with the id may fetch it, as with a CDN's asset URL.
     */
    async asset(id: string, query: AssetQuery, accept: string | undefined): Promise<Asset> {
      const media = await prisma.media.findUnique({ where: { id } })
      if (media === null) throw new NotFoundError(`No media item ${id}`)
      const current = query.v === revisionOf(media)
      if (media.kind !== 'image') {
        const asked = Object.keys(query).filter((name) => name !== 'v')
        if (asked.length > 0) {
          throw invalid(`A ${media.kind} has no renditions`, asked.map((name) => ({ in: 'querystring' as const, path: `/${name}`, message: 'applies to images only' })))
        }
        const how = { type: media.mime, download: true, negotiated: false, current }
        return await serve(originalKey(media.hash), media, how)
      }
      const rendition = renditionOf(media, query, accept)
      const key = `${renditionsOf(media.hash)}/${variant(rendition)}`
      if (!await storage.exists(key)) await make(key, media, rendition)
      return await serve(key, media, { type: `image/${rendition.format}`, download: false, negotiated: query.format === 'auto', current })
    },
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    media: ReturnType<typeof createMedia>
  }
}

async function mediaPlugin(app: FastifyInstance): Promise<void> {
  app.decorate('media', createMedia(app))
}

export default fp(mediaPlugin, { name: 'media', dependencies: ['prisma', 'storage', 'images', 'entries'] })
