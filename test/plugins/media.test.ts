import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { readdir } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import net from 'node:net'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { decode } from 'blurhash'
import t, { type Test } from 'tap'
import { buildWithAdmin, login, type SignedIn } from '../helper.js'
import {
  avif, gif, jpeg, multipart, notAnImage, type Part, PICTURE, pixelBomb, png, rotatedJpeg, truncatedJpeg, UPRIGHT, webp,
} from '../media-fixture.js'

/**
 * Uploads to the media library (POST /api/admin/media): what is recorded of each file, the
 * fields, the type read from the bytes, the limits, and that a refused or failed upload leaves
 * neither a file nor a row. The library's other routes: media.library.test.ts.
 */

type App = Awaited<ReturnType<typeof buildWithAdmin>>
type Item = Record<string, unknown> & { id: string, hash: string }
type Response = Awaited<ReturnType<App['inject']>>

const MEDIA = '/api/admin/media'

interface Library {
  app: App
  admin: SignedIn
  uploads: string
  /** Sends the parts as a multipart body: the answer. */
  upload: (parts: Part[]) => Promise<Response>
  /** The items on the first page of the library. */
  items: () => Promise<Item[]>
}

async function setUp(t: Test, values: Record<string, unknown> = {}): Promise<Library> {
  const app = await buildWithAdmin(t, values)
  const admin = await login(app)
  const upload = (parts: Part[]) => {
    const body = multipart(parts)
    return app.inject({ method: 'POST', url: MEDIA, payload: body.payload, headers: { ...body.headers, ...admin.headers } })
  }
  const items = async () => {
    const res = await app.inject({ url: `${MEDIA}?pageSize=100`, headers: admin.headers })
    return res.json().data as Item[]
  }
  return { app, admin, uploads: app.config.GUDANG_UPLOADS_DIR, upload, items }
}

/** Every file under `dir`, as paths relative to it (sorted); none when it does not exist. */
async function tree(dir: string): Promise<string[]> {
  const found: string[] = []
  async function walk(at: string) {
    let entries
    try {
      entries = await readdir(path.join(dir, at), { withFileTypes: true })
    } catch {
      return
    }
    for (const entry of entries) {
      const relative = at === '' ? entry.name : `${at}/${entry.name}`
      if (entry.isDirectory()) await walk(relative)
      else found.push(relative)
    }
  }
  await walk('')
  return found.sort()
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')

/** The answer's `data`; fails the test unless the status is `status`. */
function ok(res: Response, status = 201) {
  if (res.statusCode !== status) throw new Error(`answered ${res.statusCode}: ${res.body}`)
  return res.json().data
}

/** No item, no stored file, no spooled upload: a refused request kept nothing. */
async function nothingKept(t: Test, library: Library, before: string[] = []) {
  t.same(await library.items(), [], 'no item')
  t.same((await tree(library.uploads)).filter((file) => !before.includes(file)), [], 'no file in the uploads folder')
  t.same(await tree(path.join(library.uploads, '.incoming')), [], '.incoming is empty')
}

/**
 * Whether 8 pixels (RGBA) of a decoded placeholder go from red to blue. A blurhash of few
 * components rings at the edges: the third pixel and the last are compared.
 */
function redThenBlue(pixels: Uint8ClampedArray): boolean {
  const [r, , b] = pixels.subarray(8, 12)
  const [r2, , b2] = pixels.subarray(28, 32)
  return (r as number) - (b as number) > 100 && (b2 as number) - (r2 as number) > 100
}

function channels(colour: string): [number, number, number] {
  const [r, g, b] = [1, 3, 5].map((at) => Number.parseInt(colour.slice(at, at + 2), 16)) as [number, number, number]
  return [r, g, b]
}

t.test('each image format is recorded with its size, format, hash, placeholder and dominant colour', async (t) => {
  const library = await setUp(t)
  const formats = [
    { name: 'photo.jpg', bytes: await jpeg(), mime: 'image/jpeg', ext: 'jpg', format: 'jpeg' },
    { name: 'logo.png', bytes: await png(), mime: 'image/png', ext: 'png', format: 'png' },
    { name: 'small.webp', bytes: await webp(), mime: 'image/webp', ext: 'webp', format: 'webp' },
    { name: 'new.avif', bytes: await avif(), mime: 'image/avif', ext: 'avif', format: 'avif' },
    { name: 'old.gif', bytes: await gif(), mime: 'image/gif', ext: 'gif', format: 'gif' },
  ]
  for (const f of formats) {
    // Sent with a wrong type: the bytes decide.
    const [item] = ok(await library.upload([{ name: 'file', filename: f.name, contentType: 'text/plain', data: f.bytes }]))
    t.match(item, {
      name: f.name, folder: '/', kind: 'image', mime: f.mime, ext: f.ext, format: f.format,
      width: PICTURE.width, height: PICTURE.height, size: f.bytes.length, hash: sha256(f.bytes),
      focalPoint: null, alternativeText: null, caption: null,
    }, f.format)
    t.match(item.url, new RegExp(`^/assets/${item.id}\\?v=[0-9a-f]{8,}$`))
    // A blurhash of 4 × 3 components: red on the left, blue on the right.
    t.equal(item.placeholder.length, 28, `${f.format}: a blurhash`)
    t.ok(redThenBlue(decode(item.placeholder, 8, 1)), `${f.format}: the placeholder is red, then blue`)
    const [r, g, b] = channels(item.dominantColor)
    t.ok(r >= 200 && g <= 50 && b <= 50, `${f.format}: dominant colour ${item.dominantColor} is red`)
  }
  t.equal((await tree(path.join(library.uploads, 'originals'))).length, formats.length, 'one stored file each')
})

t.test('a JPEG turned by its EXIF orientation is recorded upright', async (t) => {
  const library = await setUp(t)
  const bytes = await rotatedJpeg()
  const [item] = ok(await library.upload([{ name: 'file', filename: 'phone.jpg', contentType: 'image/jpeg', data: bytes }]))
  t.match(item, { kind: 'image', format: 'jpeg', width: UPRIGHT.width, height: UPRIGHT.height, hash: sha256(bytes) })
  t.ok(redThenBlue(decode(item.placeholder, 1, 8)), 'the placeholder is red on top, blue at the bottom, as it is shown')
})

t.test('several files in one request get the fields; invalid fields refuse the request and keep nothing', async (t) => {
  const library = await setUp(t)
  const [first, second, third] = [await jpeg({ variant: 1 }), await png({ variant: 2 }), notAnImage()]
  const items = ok(await library.upload([
    { name: 'folder', data: '/blog/2026' },
    { name: 'a', filename: 'one.jpg', data: first },
    { name: 'alternativeText', data: 'A red and blue flag' },
    { name: 'b', filename: 'two.png', data: second },
    { name: 'b', filename: 'notes.txt', data: third },
    { name: 'caption', data: 'Seen in 2026' },
  ]))
  t.same(items.map((i: Item) => [i.name, i.kind, i.folder, i.alternativeText, i.caption]), [
    ['one.jpg', 'image', '/blog/2026', 'A red and blue flag', 'Seen in 2026'],
    ['two.png', 'image', '/blog/2026', 'A red and blue flag', 'Seen in 2026'],
    ['notes.txt', 'file', '/blog/2026', 'A red and blue flag', 'Seen in 2026'],
  ], 'every file, in order, with the fields')
  t.same(items.map((i: Item) => i.hash), [sha256(first), sha256(second), sha256(third)])
  const stored = await tree(library.uploads)
  t.same(stored, [first, second, third].map((b) => `originals/${sha256(b)}`).sort())

  const before = await library.items()
  const fresh = await jpeg({ variant: 9 })
  const refusals: [string, Part[], string[]][] = [
    ['an unknown field', [{ name: 'title', data: 'x' }, { name: 'file', filename: 'a.jpg', data: fresh }], ['/title']],
    ['an invalid folder', [{ name: 'file', filename: 'a.jpg', data: fresh }, { name: 'folder', data: 'blog/../x' }], ['/folder']],
    ['a folder with an empty name', [{ name: 'folder', data: '/blog//x' }, { name: 'file', filename: 'a.jpg', data: fresh }], ['/folder']],
    ['alternative text over 1000 characters', [{ name: 'alternativeText', data: 'x'.repeat(1001) }, { name: 'file', filename: 'a.jpg', data: fresh }], ['/alternativeText']],
    ['a caption over 1000 characters', [{ name: 'file', filename: 'a.jpg', data: fresh }, { name: 'caption', data: 'é'.repeat(1001) }], ['/caption']],
  ]
  for (const [what, parts, paths] of refusals) {
    const res = await library.upload(parts)
    t.equal(res.statusCode, 400, what)
    t.equal(res.json().code, 'GUDANG_ERR_VALIDATION', what)
    t.same(res.json().details.map((p: { path: string }) => p.path), paths, what)
    t.same(await library.items(), before, `${what}: no item`)
    t.same(await tree(library.uploads), stored, `${what}: no file in originals/ nor in .incoming`)
  }
  t.equal(ok(await library.upload([{ name: 'alternativeText', data: 'x'.repeat(1000) }, { name: 'f', filename: 'a.jpg', data: fresh }]))[0]
    .alternativeText.length, 1000, '1000 characters are accepted')
})

t.test('a body that is not multipart is refused with 415; multipart without a file with 400', async (t) => {
  const library = await setUp(t)
  const json = await library.app.inject({ method: 'POST', url: MEDIA, headers: library.admin.headers, payload: { file: 'x' } })
  t.equal(json.statusCode, 415)
  t.equal(json.json().code, 'GUDANG_ERR_UNSUPPORTED_MEDIA_TYPE')
  const fieldsOnly = await library.upload([{ name: 'folder', data: '/blog' }])
  t.equal(fieldsOnly.statusCode, 400)
  t.same(fieldsOnly.json().details, [{ in: 'body', path: '/', message: 'must hold a file part' }])
  const empty = await library.upload([])
  t.equal(empty.statusCode, 400, 'an empty multipart body')
  await nothingKept(t, library)
})

t.test('the type comes from the bytes, and the client\'s name is only a label', async (t) => {
  const root = t.testdir()
  const uploads = path.join(root, 'site', 'uploads')
  const library = await setUp(t, { GUDANG_UPLOADS_DIR: uploads })
  const text = notAnImage()
  const [fake] = ok(await library.upload([{ name: 'file', filename: 'photo.jpg', contentType: 'image/jpeg', data: text }]))
  t.match(fake, { name: 'photo.jpg', kind: 'file', mime: 'application/octet-stream', ext: 'bin', width: null, height: null,
    format: null, placeholder: null, dominantColor: null, size: text.length, hash: sha256(text) })

  const names: [string, string][] = [
    ['../../etc/passwd', 'passwd'],
    ['..\\..\\x.jpg', 'x.jpg'],
    ['/absolute/path/y.png', 'y.png'],
    ['a/..', 'file'],
    ['./.', 'file'],
    ['tab\there\u007f.txt', 'tabhere.txt'],
    [`${'n'.repeat(300)}.txt`, 'n'.repeat(255)],
  ]
  for (const [index, [filename, name]] of names.entries()) {
    const [item] = ok(await library.upload([{ name: 'file', filename, data: `file ${index}` }]))
    t.equal(item.name, name, JSON.stringify(filename))
  }
  const files = await tree(root)
  t.equal(files.length, names.length + 1, 'one file per upload')
  t.ok(files.every((file) => /^site\/uploads\/originals\/[0-9a-f]{64}$/.test(file)), 'only originals/<sha256>, nothing outside')
  t.same(await tree(path.dirname(root)).then((all) => all.filter((file) => !file.startsWith(`${path.basename(root)}/`)
    && /passwd|x\.jpg|y\.png/.test(file))), [], 'nothing beside the test folder either')
})

t.test('limits: file size, file count, request size, kinds; nothing stays', async (t) => {
  const library = await setUp(t, {
    GUDANG_MEDIA_MAX_FILE_SIZE: 1000,
    GUDANG_MEDIA_MAX_FILES: 3,
    GUDANG_MEDIA_MAX_REQUEST_SIZE: 2000,
    GUDANG_MEDIA_ALLOWED_KINDS: 'file,video',
  })
  const text = (bytes: number, fill = 'a') => Buffer.from(fill.repeat(bytes))

  const big = await library.upload([{ name: 'file', filename: 'big.txt', data: text(1001) }])
  t.equal(big.statusCode, 413, 'a file over GUDANG_MEDIA_MAX_FILE_SIZE')
  t.equal(big.json().code, 'GUDANG_ERR_PAYLOAD_TOO_LARGE')
  t.match(big.json().message, /"big\.txt" is larger than 1000 bytes/)
  await nothingKept(t, library)

  const many = await library.upload(['a', 'b', 'c', 'd'].map((fill) => ({ name: 'file', filename: `${fill}.txt`, data: text(10, fill) })))
  t.equal(many.statusCode, 413, 'more files than GUDANG_MEDIA_MAX_FILES')
  t.equal(many.json().code, 'GUDANG_ERR_PAYLOAD_TOO_LARGE')
  await nothingKept(t, library)

  const heavy = await library.upload(['a', 'b', 'c'].map((fill) => ({ name: 'file', filename: `${fill}.txt`, data: text(900, fill) })))
  t.equal(heavy.statusCode, 413, 'files under their limit, over GUDANG_MEDIA_MAX_REQUEST_SIZE together')
  t.equal(heavy.json().code, 'GUDANG_ERR_PAYLOAD_TOO_LARGE')
  t.match(heavy.json().message, /more than 2000 bytes/)
  await nothingKept(t, library)

  const image = await library.upload([{ name: 'file', filename: 'a.txt', data: 'fine' }, { name: 'file', filename: 'x.txt', data: await png() }])
  t.equal(image.statusCode, 415, 'a kind GUDANG_MEDIA_ALLOWED_KINDS leaves out')
  t.same(image.json(), {
    statusCode: 415, code: 'GUDANG_ERR_UNSUPPORTED_MEDIA_TYPE', error: 'Unsupported Media Type',
    message: '"x.txt" is an image (image/png); uploads may be file, video',
  })
  // A RIFF header of the WAVE kind makes the bytes audio.
  const wav = Buffer.alloc(64)
  wav.write('RIFF', 0)
  wav.writeUInt32LE(56, 4)
  wav.write('WAVEfmt ', 8)
  const audio = await library.upload([{ name: 'file', filename: 'a.mp3', data: wav }])
  t.equal(audio.statusCode, 415)
  t.equal(audio.json().message, '"a.mp3" is an audio (audio/wav); uploads may be file, video')
  await nothingKept(t, library)

  const fits = ok(await library.upload(['a', 'b'].map((fill) => ({ name: 'file', filename: `${fill}.txt`, data: text(1000, fill) }))))
  t.equal(fits.length, 2, 'files at the limits are accepted')
  // An MP4's file type box makes the bytes a video, an allowed kind.
  const mp4 = Buffer.alloc(64)
  mp4.writeUInt32BE(24, 0)
  mp4.write('ftypisom', 4)
  mp4.writeUInt32BE(512, 12)
  mp4.write('isomiso2', 16)
  t.match(ok(await library.upload([{ name: 'file', filename: 'clip.mp4', data: mp4 }])), [{ kind: 'video', mime: 'video/mp4', ext: 'mp4', width: null }])
})

t.test('a pixel bomb and bytes that do not decode are refused; nothing stays', async (t) => {
  const library = await setUp(t)
  const bomb = await library.upload([{ name: 'file', filename: 'ok.jpg', data: await jpeg() }, { name: 'file', filename: 'bomb.png', data: await pixelBomb() }])
  t.equal(bomb.statusCode, 413)
  t.same(bomb.json(), {
    statusCode: 413, code: 'GUDANG_ERR_IMAGE_TOO_LARGE', error: 'Payload Too Large',
    message: 'The image has 900000000 pixels; at most 100000000 are accepted (GUDANG_MEDIA_MAX_PIXELS)',
  })
  await nothingKept(t, library)

  const truncated = await library.upload([{ name: 'file', filename: 'cut.jpg', data: await truncatedJpeg() }])
  t.equal(truncated.statusCode, 422, 'a JPEG cut short')
  t.same(truncated.json().code, 'GUDANG_ERR_UNPROCESSABLE_IMAGE')
  t.same(truncated.json().message, 'The file looks like a jpeg image but cannot be decoded')
  // A PNG whose header says it is 0 pixels wide: typed PNG, but not even its header reads.
  const broken = await png()
  broken.writeUInt32BE(0, 16)
  const garbage = await library.upload([{ name: 'file', filename: 'broken.png', data: broken }])
  t.equal(garbage.statusCode, 422, 'an image whose header does not read')
  t.same(garbage.json().code, 'GUDANG_ERR_UNPROCESSABLE_IMAGE')
  await nothingKept(t, library)
})

t.test('the same bytes twice make two items that share one file, which goes with the last', async (t) => {
  const library = await setUp(t)
  const { app, admin } = library
  const bytes = await jpeg()
  const [first, second] = ok(await library.upload([
    { name: 'file', filename: 'first.jpg', data: bytes },
    { name: 'file', filename: 'second.jpg', data: bytes },
  ]))
  const [third] = ok(await library.upload([{ name: 'file', filename: 'third.jpg', data: bytes }]))
  t.same([first.hash, second.hash, third.hash], [sha256(bytes), sha256(bytes), sha256(bytes)])
  t.equal(new Set([first.id, second.id, third.id]).size, 3, 'three items')
  const { width, height, placeholder, dominantColor } = first
  t.match(third, { width, height, placeholder, dominantColor }, 'the facts of its twin')
  t.same(await tree(library.uploads), [`originals/${first.hash}`], 'one stored file')

  t.equal((await app.inject({ url: `/assets/${first.id}?w=64` })).statusCode, 200)
  const rendition = (await tree(library.uploads)).filter((file) => file.startsWith(`renditions/${first.hash}/`))
  t.equal(rendition.length, 1, 'a rendition was stored')

  const remove = (id: string) => app.inject({ method: 'DELETE', url: `${MEDIA}/${id}`, headers: admin.headers })
  t.equal((await remove(first.id)).statusCode, 204)
  t.equal((await remove(third.id)).statusCode, 204)
  t.same(await tree(library.uploads), [`originals/${first.hash}`, ...rendition], 'kept while an item holds it')
  t.equal((await app.inject({ url: `/assets/${second.id}` })).statusCode, 200, 'and served')
  t.equal((await remove(second.id)).statusCode, 204)
  t.same(await tree(library.uploads), [], 'the file and its renditions went with the last item')
})

t.test('an upload the client abandons midway leaves nothing', async (t) => {
  const library = await setUp(t)
  const { app, admin } = library
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const incoming = path.join(library.uploads, '.incoming')
  const socket = net.connect(port, '127.0.0.1')
  await once(socket, 'connect')
  const boundary = 'gudang-abandoned'
  socket.write([
    `POST ${MEDIA} HTTP/1.1`,
    'Host: 127.0.0.1',
    `Authorization: ${admin.headers.authorization}`,
    `Content-Type: multipart/form-data; boundary=${boundary}`,
    `Content-Length: ${8 * 1024 * 1024}`,
    '',
    `--${boundary}`,
    'Content-Disposition: form-data; name="file"; filename="half.bin"',
    'Content-Type: application/octet-stream',
    '',
    '',
  ].join('\r\n'))
  socket.write(randomBytes(256 * 1024))

  /** Polls `done` (every 20 ms, for up to 5 s); answers whether it came true. */
  async function until(done: () => Promise<boolean>) {
    for (let tries = 0; tries < 250; tries++) {
      if (await done()) return true
      await sleep(20)
    }
    return false
  }
  t.ok(await until(async () => (await tree(incoming)).length === 1), 'the upload was being received')
  socket.destroy()
  t.ok(await until(async () => (await tree(incoming)).length === 0), 'the spooled part went')
  t.equal(await app.prisma.media.count(), 0, 'no item')
  t.same(await tree(library.uploads), [], 'no file')
  t.equal((await library.upload([{ name: 'file', filename: 'after.txt', data: 'fine' }])).statusCode, 201, 'the server goes on')
})

t.test('a failing insert removes the files its request stored, and only those', async (t) => {
  const library = await setUp(t)
  const { app } = library
  const held = await jpeg({ variant: 3 })
  const [kept] = ok(await library.upload([{ name: 'file', filename: 'kept.jpg', data: held }]))
  // The database refuses one name: the transaction that records the request's items fails.
  await app.prisma.$executeRawUnsafe('ALTER TABLE media ADD CONSTRAINT refuse_a_name CHECK (name <> \'refused.png\')')
  const res = await library.upload([
    { name: 'file', filename: 'new.txt', data: 'stored, then removed' },
    { name: 'file', filename: 'again.jpg', data: held },
    { name: 'file', filename: 'refused.png', data: await png({ variant: 4 }) },
  ])
  t.equal(res.statusCode, 500)
  t.equal(res.json().code, 'GUDANG_ERR_INTERNAL_SERVER_ERROR')
  t.same((await library.items()).map((i) => i.id), [kept.id], 'no new item')
  t.same(await tree(library.uploads), [`originals/${kept.hash}`], 'the new files went, the held one stayed')
})
