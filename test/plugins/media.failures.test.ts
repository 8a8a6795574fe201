import { readdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import sharp from 'sharp'
import t, { type Test } from 'tap'
import { buildWithAdmin, login } from '../helper.js'
import { gif, jpeg, multipart, type Part, png, webp } from '../media-fixture.js'

/**
 * Media edge cases: bodies busboy cannot read, nameless file parts, renditions that cannot be
 * made, cleanup that fails, names given by editors, and negotiation for animations.
 */

const MEDIA = '/api/admin/media'

async function setUp(t: Test) {
  const app = await buildWithAdmin(t)
  const admin = await login(app)
  const upload = async (parts: Part[]) => {
    const body = multipart(parts)
    return app.inject({ method: 'POST', url: MEDIA, payload: body.payload, headers: { ...body.headers, ...admin.headers } })
  }
  const item = async (data: Buffer, filename = 'picture') => {
    const res = await upload([{ name: 'file', filename, data }])
    t.equal(res.statusCode, 201, 'uploaded')
    return res.json().data[0] as { id: string, hash: string, url: string, name: string }
  }
  const uploads = app.config.GUDANG_UPLOADS_DIR
  const files = async (folder: string) => readdir(path.join(uploads, folder)).catch(() => [])
  return { app, admin, upload, item, uploads, files }
}

t.test('a body busboy cannot read is the client\'s mistake (400), and leaves nothing', async (t) => {
  const { app, admin, files } = await setUp(t)
  const truncated = multipart([{ name: 'file', filename: 'a.png', data: await png() }])
  const cases = [
    { what: 'no boundary', headers: { 'content-type': 'multipart/form-data' }, payload: 'hello' },
    {
      what: 'an early end',
      headers: truncated.headers,
      payload: truncated.payload.subarray(0, truncated.payload.length - 30),
    },
  ]
  for (const { what, headers, payload } of cases) {
    const res = await app.inject({ method: 'POST', url: MEDIA, headers: { ...headers, ...admin.headers }, payload })
    t.equal(res.statusCode, 400, what)
    t.match(res.json(), { code: 'GUDANG_ERR_VALIDATION', message: /^Malformed multipart body: / }, what)
  }
  t.same(await files('.incoming'), [], 'no spooled file')
  t.same(await files('originals'), [], 'no stored file')
})

t.test('a file part without a file name is a file named "file"', async (t) => {
  const { app, admin } = await setUp(t)
  const boundary = 'nameless'
  const data = await png()
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="upload"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ])
  const res = await app.inject({
    method: 'POST',
    url: MEDIA,
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, ...admin.headers },
    payload,
  })
  t.equal(res.statusCode, 201, res.body)
  t.match(res.json().data, [{ name: 'file', kind: 'image', mime: 'image/png' }])
})

t.test('a name given by an editor is sanitised like an uploaded one', async (t) => {
  const { app, admin, item } = await setUp(t)
  const { id } = await item(await png())
  const res = await app.inject({ method: 'PATCH', url: `${MEDIA}/${id}`, headers: admin.headers, payload: { name: '../x\r\ny.png' } })
  t.equal(res.statusCode, 200, res.body)
  t.equal(res.json().data.name, 'xy.png', 'no path, no line break')
})

t.test('format=auto keeps animations: GIF and WebP become WebP, never AVIF', async (t) => {
  const { app, item } = await setUp(t)
  const accept = 'image/avif,image/webp,*/*'
  for (const [format, data] of [['gif', await gif()], ['webp', await webp()], ['jpeg', await jpeg()]] as const) {
    const { url } = await item(data)
    const res = await app.inject({ url: `${url}&format=auto`, headers: { accept } })
    t.equal(res.statusCode, 200)
    t.equal(res.headers['content-type'], format === 'jpeg' ? 'image/avif' : 'image/webp', format)
  }
})

t.test('a cover crop of a narrow image keeps at least a pixel', async (t) => {
  const { app, item } = await setUp(t)
  const narrow = await sharp({ create: { width: 4, height: 1200, channels: 3, background: '#336699' } }).png().toBuffer()
  const { url } = await item(narrow)
  const res = await app.inject({ url: `${url}&w=2560&h=64` })
  t.equal(res.statusCode, 200, res.body)
  const meta = await sharp(res.rawPayload).metadata()
  t.same([meta.width, meta.height], [4, 1], 'the box\'s shape, as large as the image allows')
})

t.test('an original that no longer decodes gives 422 for a new rendition, not 500', async (t) => {
  const { app, item, uploads } = await setUp(t)
  const { url, hash } = await item(await png())
  await writeFile(path.join(uploads, 'originals', hash), 'no longer a picture')
  const res = await app.inject({ url: `${url}&w=64` })
  t.equal(res.statusCode, 422)
  t.match(res.json(), { code: 'GUDANG_ERR_UNPROCESSABLE_IMAGE' })
  t.equal(res.headers['cache-control'], 'no-store')
})

t.test('files that cannot be deleted do not fail the deletion: they are logged', async (t) => {
  const { app, admin, item, uploads } = await setUp(t)
  const { id, hash } = await item(await png())
  app.storage.delete = async () => {
    throw new Error('the disk is read-only')
  }
  const res = await app.inject({ method: 'DELETE', url: `${MEDIA}/${id}`, headers: admin.headers })
  t.equal(res.statusCode, 204, 'the item is deleted')
  t.equal((await app.inject({ url: `${MEDIA}/${id}`, headers: admin.headers })).statusCode, 404)
  t.same(await readdir(path.join(uploads, 'originals')), [hash], 'the file stays, for a later cleanup')
})
