import { mkdir, readdir, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import sharp, { type ChannelStats } from 'sharp'
import t, { type Test } from 'tap'
import { buildWithAdmin, login, type SignedIn } from '../helper.js'
import { animatedGif, avif, gif, hasGps, jpeg, multipart, type Part, PICTURE, png, rotatedJpeg, UPRIGHT, webp } from '../media-fixture.js'

/**
 * Files and renditions at /assets/:id, fetched as browsers and CDNs do: without credentials.
 * Originals served upright and without their location; renditions made once and stored; sizes,
 * crops around the focal point, formats and negotiation; the headers caches rely on; files that
 * are not images as sandboxed downloads. Uploads and the library's routes: media.test.ts.
 */

type App = Awaited<ReturnType<typeof buildWithAdmin>>
type Response = Awaited<ReturnType<App['inject']>>
type Item = Record<string, unknown> & {
  id: string
  hash: string
  url: string
  width: number | null
  height: number | null
}

const MEDIA = '/api/admin/media'
const IMMUTABLE = 'public, max-age=31536000, immutable'
const REVALIDATE = 'public, no-cache'
const missing = '0195f0a0-0000-7000-8000-000000000001'

interface Site {
  app: App
  admin: SignedIn
  uploads: string
  /** Uploads files as the administrator: their items. */
  upload: (...files: { filename: string, data: Buffer, contentType?: string }[]) => Promise<Item[]>
  /** Uploads one picture: its item. */
  image: (data: Buffer, filename?: string) => Promise<Item>
  /** GET (or HEAD) /assets/… without any Authorization header. */
  fetch: (url: string, headers?: Record<string, string>, method?: 'GET' | 'HEAD') => Promise<Response>
  /** The files stored for an item's bytes under renditions/<hash>/. */
  renditions: (item: Item) => Promise<string[]>
  /** How many renditions the image pipeline was asked to make. */
  renders: () => number
}

async function setUp(t: Test, values: Record<string, unknown> = {}): Promise<Site> {
  const app = await buildWithAdmin(t, values)
  const admin = await login(app)
  const uploads = app.config.GUDANG_UPLOADS_DIR
  // The app is ready (login made it so): the media service calls the decorator's render, counted here.
  let calls = 0
  const render = app.images.render
  app.images.render = (...args) => {
    calls += 1
    return render(...args)
  }
  const upload = async (...files: { filename: string, data: Buffer, contentType?: string }[]) => {
    const body = multipart(files.map((file): Part => ({ name: 'files', contentType: 'image/png', ...file })))
    const res = await app.inject({ method: 'POST', url: MEDIA, payload: body.payload, headers: { ...body.headers, ...admin.headers } })
    if (res.statusCode !== 201) throw new Error(`upload answered ${res.statusCode}: ${res.body}`)
    return res.json().data as Item[]
  }
  return {
    app,
    admin,
    uploads,
    upload,
    image: async (data, filename = 'picture') => (await upload({ filename, data }))[0] as Item,
    fetch: (url, headers = {}, method = 'GET') => app.inject({ method, url, headers }),
    renditions: async (item) => {
      try {
        return (await readdir(path.join(uploads, 'renditions', item.hash))).sort()
      } catch {
        return []
      }
    },
    renders: () => calls,
  }
}

/** The picture's path without its query: /assets/<id>. */
const pathOf = (item: Item) => `/assets/${item.id}`

/** The `v` of an item's URL. */
const versionOf = (item: Item) => new URL(item.url, 'http://x').searchParams.get('v') as string

/** A 200's body; fails the test otherwise. */
function ok(res: Response): Buffer {
  if (res.statusCode !== 200) throw new Error(`answered ${res.statusCode}: ${res.body}`)
  return res.rawPayload
}

async function size(body: Buffer): Promise<[number, number]> {
  const meta = await sharp(body).metadata()
  return [meta.width, meta.pageHeight ?? meta.height]
}

/** Mean red and blue of a region (all of the image by default). */
async function colours(body: Buffer, region?: { left: number, top: number, width: number, height: number }) {
  // stats() reads its input, whatever the pipeline does: the region is cut out first.
  const part = region === undefined ? body : await sharp(body).extract(region).toBuffer()
  const { channels } = await sharp(part).stats()
  return { red: (channels[0] as ChannelStats).mean, blue: (channels[2] as ChannelStats).mean }
}

/** A picture `width` × `height`, its left half red and its right half blue (PNG, so exact). */
function halves(width: number, height: number): Promise<Buffer> {
  const half = { width: width / 2, height, channels: 3 as const }
  return sharp({ create: { ...half, background: '#ff0000' } })
    .extend({ right: width / 2, background: '#0000ff' })
    .png()
    .toBuffer()
}

t.test('a served original is upright and without its location; caches and browsers get what they need', async (t) => {
  const s = await setUp(t)
  const fixture = await rotatedJpeg()
  const stored = await sharp(fixture).metadata()
  t.same([stored.width, stored.height, stored.orientation], [PICTURE.width, PICTURE.height, 6], 'stored landscape, to be turned')
  t.ok(await hasGps(fixture), 'the fixture carries a location')
  const photo = await s.image(fixture, 'holiday.jpg')
  t.same([photo.width, photo.height], [UPRIGHT.width, UPRIGHT.height])

  const res = await s.fetch(pathOf(photo))
  const body = ok(res)
  const served = await sharp(body).metadata()
  t.equal(served.format, 'jpeg')
  t.same([served.width, served.height], [UPRIGHT.width, UPRIGHT.height], 'turned upright: width and height swapped')
  t.ok(served.orientation === undefined || served.orientation === 1, 'no orientation left to apply twice')
  t.notOk(await hasGps(body), 'no location')
  t.equal(served.exif, undefined, 'no EXIF at all: neither camera nor location')
  const top = await colours(body, { left: 0, top: 0, width: UPRIGHT.width, height: 8 })
  const bottom = await colours(body, { left: 0, top: UPRIGHT.height - 8, width: UPRIGHT.width, height: 8 })
  t.ok(top.red > 200 && top.blue < 60, 'the left (red) side of the stored pixels is on top: turned clockwise')
  t.ok(bottom.blue > 200 && bottom.red < 60)

  t.equal(res.headers['content-type'], 'image/jpeg')
  t.equal(Number(res.headers['content-length']), body.length)
  t.equal(res.headers['cross-origin-resource-policy'], 'cross-origin', 'other sites may show it')
  t.match(res.headers.etag, /^"[\w-]{27}"$/, 'a strong ETag')
  t.equal(res.headers['cache-control'], REVALIDATE, 'without v: revalidated')
  t.equal(res.headers.vary, undefined)
  t.equal(res.headers['content-disposition'], undefined, 'an image is shown, not downloaded')
  const etag = res.headers.etag as string

  await t.test('the v of the item\'s URL makes it immutable; another v is revalidated', async (t) => {
    const current = await s.fetch(photo.url)
    t.equal(current.headers['cache-control'], IMMUTABLE)
    t.equal(current.headers.etag, etag, 'the same file')
    t.same(current.rawPayload, body)
    const stale = await s.fetch(`${pathOf(photo)}?v=0123456789ab`)
    t.equal(stale.statusCode, 200)
    t.equal(stale.headers['cache-control'], REVALIDATE)
    const sized = await s.fetch(`${photo.url}&w=64`)
    t.equal(sized.headers['cache-control'], IMMUTABLE, 'renditions too')
    t.not(sized.headers.etag, etag, 'another file, another ETag')
    t.equal((await s.fetch(`${pathOf(photo)}?v=XYZ`)).statusCode, 400, 'a v is hexadecimal')
  })

  await t.test('If-None-Match with the ETag answers 304 without a body', async (t) => {
    for (const header of [etag, `W/${etag}`, '*', `"other", ${etag}`]) {
      const res = await s.fetch(photo.url, { 'if-none-match': header })
      t.equal(res.statusCode, 304, header)
      t.equal(res.body, '')
      t.equal(res.headers.etag, etag)
      t.equal(res.headers['cache-control'], IMMUTABLE)
    }
    const other = await s.fetch(photo.url, { 'if-none-match': '"other"' })
    t.equal(other.statusCode, 200, 'another ETag: the file')
    t.same(other.rawPayload, body)
  })

  await t.test('HEAD answers the headers without the body', async (t) => {
    const res = await s.fetch(photo.url, {}, 'HEAD')
    t.equal(res.statusCode, 200)
    t.equal(res.body, '')
    t.equal(res.headers['content-type'], 'image/jpeg')
    t.equal(Number(res.headers['content-length']), body.length)
    t.equal(res.headers.etag, etag)
    t.equal(res.headers['cache-control'], IMMUTABLE)
    const notModified = await s.fetch(photo.url, { 'if-none-match': etag }, 'HEAD')
    t.equal(notModified.statusCode, 304)
    t.equal((await s.fetch(`/assets/${missing}`, {}, 'HEAD')).statusCode, 404)
  })

  await t.test('each format is served as its type', async (t) => {
    const made = { jpeg, png, webp, avif, gif }
    const items = await s.upload(...await Promise.all(Object.entries(made).map(async ([format, make], i) => (
      { filename: `picture.${format}`, data: await make({ variant: i + 1 }) }
    ))))
    for (const [i, format] of Object.keys(made).entries()) {
      const res = await s.fetch((items[i] as Item).url)
      const body = ok(res)
      t.equal(res.headers['content-type'], `image/${format}`, format)
      t.equal(Number(res.headers['content-length']), body.length)
      const meta = await sharp(body).metadata()
      t.equal(meta.format, format === 'avif' ? 'heif' : format)
      t.same([meta.width, meta.height], [PICTURE.width, PICTURE.height])
    }
  })

  await t.test('unknown and malformed ids', async (t) => {
    const unknown = await s.fetch(`/assets/${missing}?w=64`)
    t.equal(unknown.statusCode, 404)
    t.same(unknown.json(), { statusCode: 404, code: 'GUDANG_ERR_NOT_FOUND', error: 'Not Found', message: `No media item ${missing}` })
    t.equal(unknown.headers['cache-control'], 'no-store', 'an error is not cached')
    const malformed = await s.fetch('/assets/not-a-uuid')
    t.equal(malformed.statusCode, 400)
    t.equal(malformed.json().code, 'GUDANG_ERR_VALIDATION')
    t.equal(malformed.headers['cache-control'], 'no-store')
  })
})

t.test('with GUDANG_MEDIA_KEEP_METADATA the served image keeps its EXIF', async (t) => {
  const s = await setUp(t, { GUDANG_MEDIA_KEEP_METADATA: true })
  const photo = await s.image(await rotatedJpeg(), 'holiday.jpg')
  const body = ok(await s.fetch(photo.url))
  const served = await sharp(body).metadata()
  t.same([served.width, served.height], [UPRIGHT.width, UPRIGHT.height], 'still upright')
  t.equal(served.orientation, 1, 'the EXIF stays, but its orientation, applied, says 1: not turned twice')
  t.ok(await hasGps(body), 'the location is kept')
  t.ok(served.exif?.includes('Gudang Fixture Camera'), 'and the camera')
})

t.test('a rendition is made once, then served from storage', async (t) => {
  const s = await setUp(t)
  const photo = await s.image(await jpeg({ width: 800, height: 600 }), 'large.jpg')
  t.same(await s.renditions(photo), [], 'nothing is made at upload')

  const first = await s.fetch(`${photo.url}&w=320`)
  t.same(await size(ok(first)), [320, 240], 'w alone keeps the aspect')
  t.equal(s.renders(), 1)
  const files = await s.renditions(photo)
  t.same(files, ['320xauto-inside-q80.jpeg'])
  const file = path.join(s.uploads, 'renditions', photo.hash, files[0] as string)
  const made = (await stat(file)).mtimeMs
  const again = await s.fetch(`${photo.url}&w=320`)
  t.same(again.rawPayload, first.rawPayload)
  t.equal(again.headers.etag, first.headers.etag)
  t.equal(s.renders(), 1, 'not made again')
  t.equal((await stat(file)).mtimeMs, made, 'nor written again')

  // The rendition is not stored until both requests have looked for it: both find it missing.
  const { storage } = s.app
  const { exists, put } = storage
  let looked = 0
  let bothLooked = () => {}
  const looking = new Promise<void>((resolve) => {
    bothLooked = resolve
  })
  storage.exists = async (key) => {
    const found = await exists(key)
    if (key.endsWith('/128xauto-inside-q80.jpeg') && ++looked === 2) bothLooked()
    return found
  }
  storage.put = async (key, body) => {
    await looking
    return put(key, body)
  }
  const [one, two] = await Promise.all([s.fetch(`${photo.url}&w=128`), s.fetch(`${photo.url}&w=128`)])
  Object.assign(storage, { exists, put })
  t.equal(looked, 2, 'neither found it stored')
  t.same(await size(ok(one as Response)), [128, 96])
  t.same((two as Response).rawPayload, (one as Response).rawPayload)
  t.equal(s.renders(), 2, 'two requests at once for a new rendition: made once')
  t.same(await s.renditions(photo), ['128xauto-inside-q80.jpeg', '320xauto-inside-q80.jpeg'])

  await t.test('q changes the stored variant; only 10 to 100 in steps of 10', async (t) => {
    const low = await s.fetch(`${photo.url}&w=320&q=10`)
    t.ok(ok(low).length < (first.rawPayload.length), 'a lower quality is smaller')
    t.not(low.headers.etag, first.headers.etag)
    t.ok((await s.renditions(photo)).includes('320xauto-inside-q10.jpeg'))
    const refused = await s.fetch(`${photo.url}&w=320&q=55`)
    t.equal(refused.statusCode, 400)
    t.equal(refused.json().code, 'GUDANG_ERR_VALIDATION')
    t.equal((await s.fetch(`${photo.url}&q=110`)).statusCode, 400)
  })

  await t.test('w and h only from GUDANG_MEDIA_WIDTHS', async (t) => {
    const before = s.renders()
    const res = await s.fetch(`${photo.url}&w=100&h=64`)
    t.equal(res.statusCode, 400)
    t.equal(res.headers['cache-control'], 'no-store')
    const offered = [64, 128, 256, 320, 480, 640, 768, 1024, 1280, 1600, 1920, 2560]
    t.match(res.json(), {
      code: 'GUDANG_ERR_VALIDATION',
      message: 'This size is not offered (GUDANG_MEDIA_WIDTHS)',
      details: [{ in: 'querystring', path: '/w', allowed: offered }],
    })
    t.equal(res.json().details.length, 1, 'h=64 is offered')
    const both = await s.fetch(`${photo.url}&w=65&h=99`)
    t.same(both.json().details.map((d: { path: string }) => d.path), ['/w', '/h'])
    t.equal(s.renders(), before, 'nothing made')
    t.equal((await s.fetch(`${photo.url}&w=0`)).statusCode, 400)
    t.equal((await s.fetch(`${photo.url}&fit=stretch`)).statusCode, 400)
    t.equal((await s.fetch(`${photo.url}&format=bmp`)).statusCode, 400)
    t.equal((await s.fetch(`${photo.url}&size=64`)).statusCode, 400, 'an unknown parameter')
  })

  await t.test('sizes: never enlarged; h alone keeps the aspect; w and h crop to exactly that', async (t) => {
    t.same(await size(ok(await s.fetch(`${photo.url}&w=2560`))), [800, 600], 'never enlarged')
    t.same(await size(ok(await s.fetch(`${photo.url}&h=128`))), [171, 128])
    t.same(await size(ok(await s.fetch(`${photo.url}&w=256&h=256`))), [256, 256], 'cover by default')
    t.same(await size(ok(await s.fetch(`${photo.url}&w=256&h=128&fit=cover`))), [256, 128])
    t.same(await size(ok(await s.fetch(`${photo.url}&w=256&h=256&fit=contain`))), [256, 256], 'contain: letterboxed')
    t.same(await size(ok(await s.fetch(`${photo.url}&w=256&h=256&fit=fill`))), [256, 256], 'fill: stretched')
    t.same(await size(ok(await s.fetch(`${photo.url}&w=256&h=256&fit=inside`))), [256, 192])
    t.same(await size(ok(await s.fetch(`${photo.url}&w=256&h=256&fit=outside`))), [341, 256])
    t.same(await size(ok(await s.fetch(`${photo.url}&w=320&fit=cover`))), [320, 240], 'a fit with w alone keeps the aspect')
    const small = await s.image(await png(), 'small.png')
    t.same(await size(ok(await s.fetch(`${small.url}&w=2560`))), [PICTURE.width, PICTURE.height], 'w=2560 on a 64 px image')
    t.same(await size(ok(await s.fetch(`${small.url}&w=128&h=256`))), [24, 48], 'too small to cover: the box\'s shape, unscaled')
    t.same(await size(ok(await s.fetch(`${small.url}&w=128&h=64`))), [64, 32])
    t.same(await size(ok(await s.fetch(`${small.url}&w=64&h=64`))), [48, 48])
  })
})

t.test('a cover crop keeps the focal point in view', async (t) => {
  const s = await setUp(t)
  const photo = await s.image(await halves(960, 320), 'halves.png')
  const centred = ok(await s.fetch(`${photo.url}&w=64&h=64`))
  t.same(await size(centred), [64, 64])
  const middle = await colours(centred)
  t.ok(Math.abs(middle.red - middle.blue) < 20, 'no focal point: the middle, half red, half blue')

  const left = (await s.app.inject({
    method: 'PATCH', url: `${MEDIA}/${photo.id}`, headers: s.admin.headers, payload: { focalPoint: { x: 0, y: 0.5 } },
  })).json().data as Item
  t.not(versionOf(left), versionOf(photo), 'a new focal point, a new v')
  const old = await s.fetch(`${photo.url}&w=64&h=64`)
  t.equal(old.headers['cache-control'], REVALIDATE, 'the old v is no longer immutable')
  const red = await colours(ok(await s.fetch(`${left.url}&w=64&h=64`)))
  t.ok(red.red > 200 && red.blue < 30, 'focal point on the left: red')

  const right = (await s.app.inject({
    method: 'PATCH', url: `${MEDIA}/${photo.id}`, headers: s.admin.headers, payload: { focalPoint: { x: 1, y: 0.5 } },
  })).json().data as Item
  const blue = await colours(ok(await s.fetch(`${right.url}&w=64&h=64`)))
  t.ok(blue.blue > 200 && blue.red < 30, 'focal point on the right: blue')
  t.same(await s.renditions(photo), [
    '64x64-cover-q80-at0.5_0.5.png',
    '64x64-cover-q80-at0_0.5.png',
    '64x64-cover-q80-at1_0.5.png',
  ], 'a stored rendition per focal point')
  const inside = ok(await s.fetch(`${right.url}&w=64`))
  t.same(await size(inside), [64, 21], 'without a crop the focal point does not matter')
  t.ok((await s.renditions(photo)).includes('64xauto-inside-q80.png'))
})

t.test('formats: asked for, negotiated from Accept, and kept for animations', async (t) => {
  const s = await setUp(t)
  const photo = await s.image(await png({ variant: 1 }), 'picture.png')

  await t.test('format gives that format', async (t) => {
    for (const [format, read] of [['webp', 'webp'], ['avif', 'heif'], ['jpeg', 'jpeg'], ['png', 'png'], ['gif', 'gif']] as const) {
      const res = await s.fetch(`${photo.url}&format=${format}`)
      t.equal((await sharp(ok(res)).metadata()).format, read, format)
      t.equal(res.headers['content-type'], `image/${format}`)
      t.equal(res.headers.vary, undefined, 'a format asked for does not vary')
    }
  })

  await t.test('format=auto follows Accept and varies with it', async (t) => {
    for (const [accept, format] of [
      ['image/avif,image/webp,*/*', 'avif'],
      ['image/webp', 'webp'],
      ['image/avif;q=0, image/webp', 'webp'],
      ['image/avif; q=0.0, image/webp;q=0', 'png'],
      ['image/avif;q=0.5', 'avif'],
      ['text/html, */*', 'png'],
      [undefined, 'png'],
    ] as const) {
      const res = await s.fetch(`${photo.url}&format=auto`, accept === undefined ? {} : { accept })
      t.equal(res.headers['content-type'], `image/${format}`, `${accept} → ${format}`)
      t.equal(res.headers.vary, 'Accept')
    }
  })

  await t.test('a TIFF is served as JPEG', async (t) => {
    const tiff = await s.image(await sharp(await png({ variant: 2 })).tiff().toBuffer(), 'scan.tif')
    t.equal(tiff.format, 'tiff')
    for (const url of [tiff.url, `${tiff.url}&w=64`, `${tiff.url}&format=auto`]) {
      const res = await s.fetch(url)
      t.equal(res.headers['content-type'], 'image/jpeg', url)
      t.equal((await sharp(ok(res)).metadata()).format, 'jpeg')
    }
  })

  await t.test('an animated GIF stays animated as GIF or WebP', async (t) => {
    const animation = await s.image(await animatedGif(3), 'moving.gif')
    t.equal((await sharp(await animatedGif(3)).metadata()).pages, 3, 'the fixture has three frames')
    for (const [query, format] of [['', 'gif'], ['&format=gif', 'gif'], ['&format=webp', 'webp'], ['&w=64&h=64', 'gif']] as const) {
      const meta = await sharp(ok(await s.fetch(`${animation.url}${query}`))).metadata()
      t.equal(meta.format, format, query)
      t.equal(meta.pages, 3, `${query}: every frame`)
    }
    const large = await s.image(await animatedGif(3, { width: 256, height: 128 }), 'large.gif')
    const cropped = await sharp(ok(await s.fetch(`${large.url}&w=64&h=64&format=webp`)), { animated: true }).metadata()
    t.same([cropped.format, cropped.pages, cropped.width, cropped.pageHeight], ['webp', 3, 64, 64], 'every frame covers the box')
    const still = await sharp(ok(await s.fetch(`${animation.url}&format=png`))).metadata()
    t.equal(still.pages ?? 1, 1, 'PNG: the first frame')
    t.same([still.width, still.height], [PICTURE.width, PICTURE.height])
  })
})

t.test('a file that is not an image is a sandboxed download without renditions', async (t) => {
  const s = await setUp(t)
  const pdf = Buffer.from('%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n')
  const html = Buffer.from('<!doctype html><script>alert(document.cookie)</script>\n')
  const [report, page] = await s.upload(
    { filename: 'C:\\reports\\Résumé 2026.pdf', data: pdf, contentType: 'image/png' },
    { filename: 'page (1)\'s.html', data: html, contentType: 'text/html' },
  ) as [Item, Item]
  t.match(report, { kind: 'file', mime: 'application/pdf', name: 'Résumé 2026.pdf' })

  const res = await s.fetch(report.url)
  t.same(ok(res), pdf, 'the bytes as uploaded')
  t.equal(res.headers['content-type'], 'application/pdf', 'the type its bytes show')
  t.equal(res.headers['content-disposition'], 'attachment; filename="R_sum_ 2026.pdf"; filename*=UTF-8\'\'R%C3%A9sum%C3%A9%202026.pdf', 'an ASCII name, and the name (RFC 8187)')
  t.equal(res.headers['content-security-policy'], 'default-src \'none\'; sandbox')
  t.equal(res.headers['cross-origin-resource-policy'], 'cross-origin')
  t.equal(Number(res.headers['content-length']), pdf.length)
  t.equal(res.headers['cache-control'], IMMUTABLE)
  t.match(res.headers.etag, /^"[\w-]{27}"$/)
  const notModified = await s.fetch(report.url, { 'if-none-match': res.headers.etag as string })
  t.equal(notModified.statusCode, 304)
  t.equal(notModified.body, '')

  const script = await s.fetch(page.url)
  t.same(ok(script), html)
  t.equal(script.headers['content-type'], 'application/octet-stream', 'HTML is not served as HTML')
  t.equal(script.headers['content-security-policy'], 'default-src \'none\'; sandbox')
  t.equal(script.headers['content-disposition'], 'attachment; filename="page (1)\'s.html"; filename*=UTF-8\'\'page%20%281%29%27s.html', 'parentheses and apostrophes encoded')

  for (const query of ['w=64', 'format=webp', 'q=80', 'fit=cover&h=64']) {
    const refused = await s.fetch(`${report.url}&${query}`)
    t.equal(refused.statusCode, 400, query)
    t.equal(refused.json().message, 'A file has no renditions')
    t.equal(refused.json().details[0].message, 'applies to images only')
  }
  t.same((await s.fetch(`${report.url}&fit=cover&h=64`)).json().details.map((d: { path: string }) => d.path), ['/fit', '/h'])

  await rm(path.join(s.uploads, 'originals', report.hash))
  const gone = await s.fetch(report.url)
  t.equal(gone.statusCode, 404, 'its file gone from storage')
  t.equal(gone.json().code, 'GUDANG_ERR_NOT_FOUND')
})

t.test('a rendition of an original gone from storage is not found, and the queue goes on', async (t) => {
  const s = await setUp(t, { GUDANG_MEDIA_CONCURRENCY: 1 })
  const [lost, broken, kept] = await s.upload(
    { filename: 'lost.png', data: await png({ variant: 1 }) },
    { filename: 'broken.png', data: await png({ variant: 2 }) },
    { filename: 'kept.png', data: await png({ variant: 3 }) },
  ) as [Item, Item, Item]
  ok(await s.fetch(`${lost.url}&w=64`))
  await rm(path.join(s.uploads, 'originals', lost.hash))

  const served = await s.fetch(`${lost.url}&w=64`)
  t.equal(served.statusCode, 200, 'a rendition already made is still served')
  const res = await s.fetch(`${lost.url}&w=128`)
  t.equal(res.statusCode, 404)
  t.same(res.json(), {
    statusCode: 404, code: 'GUDANG_ERR_NOT_FOUND', error: 'Not Found', message: `The file of media item ${lost.id} is missing`,
  })
  t.equal(res.headers['cache-control'], 'no-store')
  t.same(await s.renditions(lost), ['64xauto-inside-q80.png'], 'nothing half-made is stored')

  // A directory where the file was: storage finds something, reading it fails mid-render.
  const original = path.join(s.uploads, 'originals', broken.hash)
  await rm(original)
  await mkdir(original)
  const failed = await s.fetch(broken.url)
  t.equal(failed.statusCode, 500, 'a storage failure is the server\'s')
  t.equal(failed.json().message, 'Internal Server Error', 'its message is not shown')
  t.same(await s.renditions(broken), [])

  const next = await s.fetch(`${kept.url}&w=64`)
  t.same(await size(ok(next)), [64, 48], 'the queue is not blocked')
})
