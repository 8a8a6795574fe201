import type { Readable } from 'node:stream'
import { encode } from 'blurhash'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import pLimit from 'p-limit'
import sharp, { type Sharp } from 'sharp'
import { ImageTooLargeError, UnprocessableImageError } from '../errors.js'

// Renditions are stored once made: libvips' operation cache would only hold memory.
sharp.cache(false)

/** The images Gudang decodes, by the type their bytes show; others are plain files. */
export const IMAGE_TYPES: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  // Its first frame: sharp reads an animated PNG as a PNG.
  'image/apng': 'png',
  'image/webp': 'webp',
  'image/avif': 'avif',
  'image/gif': 'gif',
  'image/tiff': 'tiff',
}

export const OUTPUT_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'gif'] as const
export type OutputFormat = (typeof OUTPUT_FORMATS)[number]
export const FITS = ['cover', 'contain', 'inside', 'outside', 'fill'] as const
export type Fit = (typeof FITS)[number]

/** What an upload tells about an image, upright (EXIF orientation applied). */
export interface ImageFacts {
  width: number
  height: number
  format: string
  /** A blurhash: a few dozen characters a front end paints while the image loads. */
  placeholder: string
  dominantColor: string
}

export interface Rendition {
  width?: number
  height?: number
  fit: Fit
  format: OutputFormat
  quality: number
  /** Where crops centre, from 0 to 1 (the middle is 0.5, 0.5). */
  focus: { x: number, y: number }
}

/** The source of a rendition: its type and its upright size. */
export interface Source {
  mime: string
  width: number
  height: number
}

const hex = (n: number) => n.toString(16).padStart(2, '0')

/**
 * The image pipeline. Every decode waits its turn in one queue (GUDANG_MEDIA_CONCURRENCY), so
 * twenty large uploads at once hold a bounded number of images in memory; and an image over
 * GUDANG_MEDIA_MAX_PIXELS is refused from its header, before anything is decoded.
 */
function createImages(app: FastifyInstance) {
  const { config } = app
  const limit = config.GUDANG_MEDIA_MAX_PIXELS
  const queue = pLimit(config.GUDANG_MEDIA_CONCURRENCY)

  async function header(file: string, format: string) {
    try {
      return await sharp(file, { limitInputPixels: false }).metadata()
    } catch {
      throw new UnprocessableImageError(format)
    }
  }

  /** Size, placeholder and dominant colour; refuses a bomb or bytes that do not decode. */
  function inspect(file: string, mime: string): Promise<ImageFacts> {
    const format = IMAGE_TYPES[mime] as string
    return queue(async () => {
      const meta = await header(file, format)
      const pixels = meta.width * meta.height * (meta.pages ?? 1)
      if (pixels > limit) throw new ImageTooLargeError(pixels, limit)
      try {
        // Shrunk while decoding where the format allows (JPEG): a 50-megapixel photo never
        // exists in memory at full size.
        const { data, info } = await sharp(file, { limitInputPixels: limit })
          .autoOrient()
          .resize(32, 32, { fit: 'inside' })
          .ensureAlpha()
          .raw()
          .toBuffer({ resolveWithObject: true })
        const { dominant } = await sharp(data, { raw: { width: info.width, height: info.height, channels: 4 } }).stats()
        return {
          width: meta.autoOrient.width,
          height: meta.autoOrient.height,
          format,
          placeholder: encode(new Uint8ClampedArray(data), info.width, info.height, 4, 3),
          dominantColor: `#${hex(dominant.r)}${hex(dominant.g)}${hex(dominant.b)}`,
        }
      } catch {
        throw new UnprocessableImageError(format)
      }
    })
  }

  /** A cover crop that keeps the focus in view, as large as the image allows (never enlarged). */
  function crop(source: Source, width: number, height: number, focus: Rendition['focus']) {
    const cover = Math.max(width / source.width, height / source.height)
    // Too small to cover the box: the largest region of the box's shape, unscaled.
    const scale = Math.min(1, cover)
    const resized = { width: Math.round(source.width * scale), height: Math.round(source.height * scale) }
    // At least a pixel: a box far wider than a narrow image (10×3000, 2560×64) rounds to 0.
    const box = {
      width: Math.max(1, Math.min(resized.width, Math.round(width * scale / cover))),
      height: Math.max(1, Math.min(resized.height, Math.round(height * scale / cover))),
    }
    const start = (center: number, size: number, whole: number) =>
      Math.max(0, Math.min(whole - size, Math.round(center * whole - size / 2)))
    return {
      resized,
      region: {
        left: start(focus.x, box.width, resized.width),
        top: start(focus.y, box.height, resized.height),
        ...box,
      },
    }
  }

  /**
   * Makes a rendition of the bytes `read` gives: upright, resized, in its format; metadata
   * stripped unless GUDANG_MEDIA_KEEP_METADATA. `write` consumes the encoded stream (into
   * storage) within the queue's turn. sharp holds a streamed input's bytes (not its pixels):
   * at most GUDANG_MEDIA_CONCURRENCY originals at once.
   */
  function render(
    read: () => Promise<Readable>, source: Source, rendition: Rendition, write: (encoded: Sharp) => Promise<void>,
  ): Promise<void> {
    const input = IMAGE_TYPES[source.mime] as string
    const animated = ['gif', 'webp'].includes(input) && ['gif', 'webp'].includes(rendition.format)
    return queue(async () => {
      const bytes = await read()
      let pipeline = sharp({ limitInputPixels: limit, animated }).autoOrient()
      let unread: Error | undefined
      bytes.on('error', (error) => {
        unread = error
        pipeline.destroy(error)
      })
      bytes.pipe(pipeline)
      const { width, height, fit, quality, format } = rendition
      if (width !== undefined && height !== undefined && fit === 'cover') {
        const { resized, region } = crop(source, width, height, rendition.focus)
        pipeline = pipeline.resize(resized.width, resized.height).extract(region)
      } else if (width !== undefined || height !== undefined) {
        pipeline = pipeline.resize({ width, height, fit, withoutEnlargement: true })
      }
      if (config.GUDANG_MEDIA_KEEP_METADATA) pipeline = pipeline.keepMetadata()
      pipeline = format === 'jpeg'
        ? pipeline.jpeg({ quality, progressive: true })
        : format === 'avif'
          ? pipeline.avif({ quality, effort: 2 })
          : format === 'webp' ? pipeline.webp({ quality }) : pipeline.toFormat(format)
      try {
        await write(pipeline)
      } catch (error) {
        bytes.destroy()
        // libvips' errors carry no code, unlike storage's: the image (a later frame, say) does
        // not decode.
        if (unread !== undefined || (error as { code?: string }).code !== undefined) throw error
        app.log.warn({ err: error }, 'a rendition could not be made')
        throw new UnprocessableImageError(input)
      }
    })
  }

  return { inspect, render }
}

declare module 'fastify' {
  interface FastifyInstance {
    images: ReturnType<typeof createImages>
  }
}

async function imagesPlugin(app: FastifyInstance): Promise<void> {
  app.decorate('images', createImages(app))
}

export default fp(imagesPlugin, { name: 'images' })
