import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { crc32, createDeflate } from 'node:zlib'
import sharp, { type Sharp } from 'sharp'

/**
 * Real image files for the media library's tests, made in memory with sharp: small pictures in
 * every format the library takes, a JPEG that must be turned upright and lose its location, a
 * pixel bomb, bytes that are not an image, a multipart body for `app.inject`, and (for the
 * bench) a large photo on disk.
 */

export interface Size {
  width: number
  height: number
}

/**
 * The small picture: landscape (a wrong orientation shows), its left 40 of 64 columns red and
 * the rest blue, so the dominant colour is red and a blurhash has an edge to blur. sharp's
 * `stats().dominant` answers the centre of a histogram bin, { r: 248, g: 8, b: 8 }: compare
 * colours with a tolerance.
 */
export const PICTURE = { width: 64, height: 48, dominant: '#ff0000', other: '#0000ff' } as const

/** The picture of `rotatedJpeg()` as it should be served: upright, so portrait. */
export const UPRIGHT = { width: PICTURE.height, height: PICTURE.width } as const

/** What `rotatedJpeg()` says about its camera: a served file must not contain it. */
export const CAMERA = { make: 'Gudang Fixture Camera', model: 'GF-6' } as const

export interface PictureOptions extends Partial<Size> {
  /** 1–31 mark the top-left corner, so pictures of one size differ in their bytes (no deduplication). */
  variant?: number
}

/** The picture's RGB pixels; raw, so that every format encodes the same picture. */
function pixels({ width = PICTURE.width, height = PICTURE.height, variant = 0 }: PictureOptions): Buffer {
  const data = Buffer.alloc(width * height * 3)
  const split = Math.round(width * 5 / 8)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3
      // Steps of 8 in the mark's green survive JPEG's quantisation.
      const marked = variant > 0 && x < 8 && y < 8
      if (x < split) data[i] = 255
      else data[i + 2] = 255
      if (marked) data[i + 1] = Math.min(255, variant * 8)
    }
  }
  return data
}

function picture(options: PictureOptions = {}): Sharp {
  const { width = PICTURE.width, height = PICTURE.height } = options
  return sharp(pixels(options), { raw: { width, height, channels: 3 } })
}

export function jpeg(options: PictureOptions = {}): Promise<Buffer> {
  return picture(options).jpeg({ quality: 90 }).toBuffer()
}

export function png(options: PictureOptions = {}): Promise<Buffer> {
  return picture(options).png().toBuffer()
}

export function webp(options: PictureOptions = {}): Promise<Buffer> {
  return picture(options).webp().toBuffer()
}

export function avif(options: PictureOptions = {}): Promise<Buffer> {
  return picture(options).avif().toBuffer()
}

export function gif(options: PictureOptions = {}): Promise<Buffer> {
  return picture(options).gif().toBuffer()
}

/**
 * The picture stored landscape with EXIF Orientation 6 (shown turned 90° clockwise: UPRIGHT,
 * red on top), a camera in IFD0 and a location in the GPS IFD, as phones write them.
 * libvips writes GPS tags given as IFD3 (its number for the GPS IFD), rationals as "n/d n/d n/d".
 */
export function rotatedJpeg(): Promise<Buffer> {
  return picture()
    .withExif({
      IFD0: { Make: CAMERA.make, Model: CAMERA.model },
      IFD3: {
        GPSLatitudeRef: 'S',
        GPSLatitude: '6/1 10/1 3000/100',
        GPSLongitudeRef: 'E',
        GPSLongitude: '106/1 49/1 3000/100',
      },
    })
    // After withExif: the orientation libvips writes is the image's own, not an EXIF string's.
    .withMetadata({ orientation: 6 })
    .jpeg({ quality: 90 })
    .toBuffer()
}

const GPS_IFD_POINTER = 0x8825

/** Whether an EXIF block (with or without its "Exif\0\0" header) points to a GPS IFD from IFD0. */
function exifHasGps(exif: Buffer): boolean {
  const tiff = exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? exif.subarray(6) : exif
  if (tiff.length < 8) return false
  const order = tiff.toString('latin1', 0, 2)
  if (order !== 'II' && order !== 'MM') return false
  const u16 = (at: number) => (order === 'II' ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at))
  const ifd0 = order === 'II' ? tiff.readUInt32LE(4) : tiff.readUInt32BE(4)
  if (ifd0 + 2 > tiff.length) return false
  const entries = u16(ifd0)
  for (let i = 0; i < entries; i++) {
    const at = ifd0 + 2 + i * 12
    if (at + 12 > tiff.length) return false
    if (u16(at) === GPS_IFD_POINTER) return true
  }
  return false
}

/** Whether an image (a served file, say) still carries a location: a GPS IFD in its EXIF. */
export async function hasGps(image: Buffer): Promise<boolean> {
  const { exif } = await sharp(image).metadata()
  return exif !== undefined && exifHasGps(exif)
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(type, 4, 'latin1')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])))
  return Buffer.concat([head, data, crc])
}

const bombs = new Map<string, Promise<Buffer>>()

/**
 * A valid PNG of `size` (30 000 × 30 000 by default: 900 MP) in about 110 KB: 1-bit grey
 * zeros, deflated. Its header alone must get it refused; decoding it would take about 1 GB.
 * Beware: over sharp's `limitInputPixels` (268 MP by default) even `metadata()` throws
 * "Input image exceeds pixel limit"; `sharp(bomb, { limitInputPixels: false }).metadata()` reads
 * the size in under a millisecond. Made once per size (the default takes ~0.4 s, 50 000² ~0.9 s).
 */
export function pixelBomb(size: Size = { width: 30_000, height: 30_000 }): Promise<Buffer> {
  const key = `${size.width}x${size.height}`
  let bomb = bombs.get(key)
  if (bomb === undefined) {
    bomb = makeBomb(size)
    bombs.set(key, bomb)
  }
  return bomb
}

async function makeBomb({ width, height }: Size): Promise<Buffer> {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([1, 0, 0, 0, 0], 8) // bit depth 1, greyscale, deflate, adaptive filtering, no interlace
  // Each row: filter type 0, then the row's bits; written 64 rows at a time to keep memory small.
  const row = Buffer.alloc(1 + Math.ceil(width / 8))
  const block = Buffer.concat(Array.from({ length: 64 }, () => row))
  function* rows() {
    for (let y = 0; y < height; y += 64) yield y + 64 <= height ? block : block.subarray(0, (height - y) * row.length)
  }
  const data = await buffer(Readable.from(rows()).pipe(createDeflate({ level: 9 })))
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  return Buffer.concat([signature, pngChunk('IHDR', header), pngChunk('IDAT', data), pngChunk('IEND', Buffer.alloc(0))])
}

/** Text, to be sent as `photo.jpg` with the type image/jpeg: the server must look at the bytes. */
export function notAnImage(): Buffer {
  return Buffer.from('This is not a photograph, whatever its name and its Content-Type say.\n')
}

/**
 * A JPEG cut off halfway through its pixels (the unprocessable-image case): typed image/jpeg
 * from its bytes and `metadata()` reads its header (64 × 48), but decoding fails with sharp's
 * default `failOn` ('warning'), and with 'truncated' or 'error'; only 'none' paints it grey.
 */
export async function truncatedJpeg(): Promise<Buffer> {
  const whole = await jpeg()
  const scan = whole.indexOf(Buffer.from([0xff, 0xda])) // start of scan: the pixels follow its header
  const pixelsAt = scan + 2 + whole.readUInt16BE(scan + 2)
  return whole.subarray(0, Math.floor((pixelsAt + whole.length) / 2))
}

export interface Part {
  name: string
  /** Makes the part a file. */
  filename?: string
  /** A file's type; application/octet-stream when a filename is given without one. */
  contentType?: string
  data: Buffer | string
}

/** Quotes and line breaks in names are escaped as browsers do, so they cannot end a header. */
function quoted(value: string): string {
  return `"${value.replaceAll('"', '%22').replaceAll('\r', '%0D').replaceAll('\n', '%0A')}"`
}

/** A multipart/form-data body for `app.inject` (`{ ...multipart(parts), headers: { ...auth } }` merges headers). */
export function multipart(parts: Part[]): { payload: Buffer, headers: { 'content-type': string } } {
  const boundary = `----gudang-test-${randomBytes(12).toString('hex')}`
  const chunks: Buffer[] = []
  for (const part of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name=${quoted(part.name)}`
    if (part.filename !== undefined) {
      head += `; filename=${quoted(part.filename)}\r\nContent-Type: ${part.contentType ?? 'application/octet-stream'}`
    } else if (part.contentType !== undefined) {
      head += `\r\nContent-Type: ${part.contentType}`
    }
    chunks.push(Buffer.from(`${head}\r\n\r\n`), Buffer.from(part.data), Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

export interface LargePhoto extends Size {
  file: string
  bytes: number
  /** Milliseconds it took to make. */
  ms: number
}

/**
 * Writes a 3:2 JPEG of about `megapixels` (50: 8660 × 5773) to `file`, at quality 90: a
 * gradient under a tiled gaussian noise, which compresses about as badly as a photo (~17 MB
 * at 50 MP). libvips streams it, so making it holds no full-size image in memory.
 */
export async function largePhoto(file: string, megapixels = 50): Promise<LargePhoto> {
  const began = performance.now()
  const width = Math.round(Math.sqrt(megapixels * 1e6 * 3 / 2))
  const height = Math.round(width * 2 / 3)
  // A tile of noise is quick to make; generating noise over the whole photo takes seconds more.
  const tile = 509
  const noise = await sharp({
    create: { width: tile, height: tile, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 30 } },
  }).raw().toBuffer()
  const corners = Buffer.from([200, 80, 40, 30, 120, 200, 240, 220, 90, 20, 60, 30])
  const info = await sharp(corners, { raw: { width: 2, height: 2, channels: 3 } })
    .resize(width, height, { kernel: 'linear' })
    .composite([{ input: noise, raw: { width: tile, height: tile, channels: 3 }, tile: true, blend: 'soft-light' }])
    .jpeg({ quality: 90 })
    .toFile(file)
  return { file, width, height, bytes: info.size, ms: performance.now() - began }
}

/**
 * An animated GIF of `frames` (2 or 3) pictures, every frame shown for 100 ms: sharp reads it
 * with `pages` = `frames`. Frame i has green 96 i in every pixel, so any part of two frames
 * differs (encoders merge frames that look alike, and would drop a crop's animation).
 */
export function animatedGif(frames = 3, options: Omit<PictureOptions, 'variant'> = {}): Promise<Buffer> {
  const { width = PICTURE.width, height = PICTURE.height } = options
  const pages = Array.from({ length: frames }, (_, i) => {
    const page = pixels(options)
    for (let at = 1; at < page.length; at += 3) page[at] = 96 * i
    return page
  })
  return sharp(Buffer.concat(pages), { raw: { width, height: height * frames, channels: 3, pageHeight: height } })
    .gif({ delay: 100 })
    .toBuffer()
}
