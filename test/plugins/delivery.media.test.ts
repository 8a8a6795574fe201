import sharp from 'sharp'
import t, { type Test } from 'tap'
import { buildWithAdmin, login, roleId } from '../helper.js'
import { jpeg, multipart, type Part } from '../media-fixture.js'

/**
 * Media fields in the delivery API: an id, or populated with what a front end needs to show
 * the item (its texts, size, placeholder, and the URLs of its renditions for a srcset), also
 * for anonymous readers; at any depth; answers change (ETag, kept answers) when an item does.
 */

type App = Awaited<ReturnType<typeof buildWithAdmin>>
type Data = Record<string, unknown>
type Response = Awaited<ReturnType<App['inject']>>
type Item = Data & { id: string, url: string, width: number | null, height: number | null }

const TYPES = '/api/admin/content-types'
const MEDIA = '/api/admin/media'
const missing = '0195f0a0-0000-7000-8000-000000000001'

/** The answer's `data`; fails the test unless the status is `status`. */
function ok(res: Response, status = 200) {
  if (res.statusCode !== status) throw new Error(`${res.statusCode}: ${res.body}`)
  return res.json().data
}

const COMPONENTS = [
  { uid: 'shared.seo', displayName: 'SEO', fields: [
    { name: 'title', type: 'string' },
    { name: 'image', type: 'media', allowedKinds: ['image'] },
  ] },
  { uid: 'blocks.picture', displayName: 'Picture', fields: [
    { name: 'credit', type: 'string' },
    { name: 'image', type: 'media', allowedKinds: ['image'] },
  ] },
]

const PERSON = {
  apiId: 'person', kind: 'collection', singularName: 'person', pluralName: 'people', draftAndPublish: false,
  fields: [{ name: 'name', type: 'string' }, { name: 'avatar', type: 'media', allowedKinds: ['image'] }],
}

const POST = {
  apiId: 'post', kind: 'collection', singularName: 'post', pluralName: 'posts', draftAndPublish: false,
  fields: [
    { name: 'title', type: 'string' },
    { name: 'cover', type: 'media', allowedKinds: ['image'] },
    { name: 'gallery', type: 'media', multiple: true },
    { name: 'attachment', type: 'media' },
    { name: 'author', type: 'relation', relation: 'toOne', target: 'person' },
    { name: 'seo', type: 'component', component: 'shared.seo' },
    { name: 'blocks', type: 'dynamiczone', components: ['blocks.picture'] },
    { name: 'legacy', type: 'json' },
  ],
}

/** The model, and the Public role reading posts and people (not the media library). */
async function setUp(t: Test) {
  const app = await buildWithAdmin(t)
  const admin = await login(app)
  const call = (method: string, url: string, payload?: object) =>
    app.inject({ method: method as 'GET', url, headers: admin.headers, ...(payload === undefined ? {} : { payload }) })
  for (const component of COMPONENTS) ok(await call('POST', '/api/admin/components', component), 201)
  for (const type of [PERSON, POST]) ok(await call('POST', TYPES, type), 201)
  const permissions = ['post', 'person'].map((apiId) => ({ subject: `content:${apiId}`, action: 'read' }))
  ok(await call('PATCH', `/api/admin/roles/${await roleId(app, admin, 'public')}`, { permissions }))
  /** Uploads one file, with the upload's text fields: the item. */
  const upload = async (filename: string, data: Buffer | string, fields: Part[] = []): Promise<Item> => {
    const body = multipart([...fields, { name: 'file', filename, data }])
    return ok(await app.inject({ method: 'POST', url: MEDIA, payload: body.payload, headers: { ...body.headers, ...admin.headers } }), 201)[0]
  }
  const entry = async (apiId: string, data: Data) => ok(await call('POST', `${TYPES}/${apiId}/entries`, { data }), 201).documentId as string
  /** GET /api/content/<path>, anonymously. */
  const read = (path: string, headers: Record<string, string> = {}) => app.inject({ url: `/api/content/${path}`, headers })
  const content = async (path: string) => ok(await read(path))
  return { app, admin, call, upload, entry, read, content }
}

/** An item as the delivery API populates it, from the item as the library shows it. */
function delivered(item: Item, formats: { width: number, height: number, url: string }[]) {
  const { hash, folder, createdAt, updatedAt, ...shown } = item
  return { ...shown, formats, srcset: formats.length === 0 ? null : formats.map((f) => `${f.url} ${f.width}w`).join(', ') }
}

t.test('a populated media field has what a front end needs: texts, sizes, a placeholder, and renditions for a srcset', async (t) => {
  const { app, call, upload, entry, read, content } = await setUp(t)
  const texts: Part[] = [{ name: 'alternativeText', data: 'A red and blue flag' }, { name: 'caption', data: 'Ours' }]
  const photo = await upload('flag.jpg', await jpeg({ width: 300, height: 200 }), texts)
  const focused: Item = ok(await call('PATCH', `${MEDIA}/${photo.id}`, { focalPoint: { x: 0.25, y: 0.5 } }))
  const small = await upload('small.jpg', await jpeg({ variant: 1 }))
  const notes = await upload('notes.txt', 'some notes')
  const post = await entry('post', { title: 'Hello', cover: photo.id, gallery: [small.id, photo.id], attachment: notes.id })

  // The Public role reads posts, not the media library: what shows an item comes with the entry.
  t.equal((await app.inject({ url: `${MEDIA}/${photo.id}` })).statusCode, 401, 'the library is not for anonymous callers')
  t.equal((await read(`post/${post}`)).statusCode, 200, 'the entry is')
  const plain = await content(`post/${post}`)
  t.equal(plain.cover, photo.id, 'unpopulated, a media field is its id')
  t.same(plain.gallery, [small.id, photo.id], 'or its ids')

  const { cover } = await content(`post/${post}?populate=cover`)
  const url = focused.url
  const formats = [
    { width: 64, height: 43, url: `${url}&w=64` },
    { width: 128, height: 85, url: `${url}&w=128` },
    { width: 256, height: 171, url: `${url}&w=256` },
    { width: 300, height: 200, url },
  ]
  t.strictSame(cover, delivered(focused, formats), 'the offered widths below its own, then its own at the plain url')
  t.strictSame(Object.keys(cover).sort(), ['alternativeText', 'caption', 'dominantColor', 'ext', 'focalPoint', 'format', 'formats',
    'height', 'id', 'kind', 'mime', 'name', 'placeholder', 'size', 'srcset', 'url', 'width'])
  t.match(cover, {
    alternativeText: 'A red and blue flag', caption: 'Ours', mime: 'image/jpeg', kind: 'image', ext: 'jpg', format: 'jpeg',
    width: 300, height: 200, focalPoint: { x: 0.25, y: 0.5 }, dominantColor: /^#[0-9a-f]{6}$/, placeholder: /\S/,
  })
  t.equal(cover.srcset, `${url}&w=64 64w, ${url}&w=128 128w, ${url}&w=256 256w, ${url} 300w`)

  for (const format of cover.formats as { width: number, height: number, url: string }[]) {
    const res = await app.inject({ url: format.url })
    t.equal(res.statusCode, 200, `${format.url} is served to anyone`)
    t.equal(res.headers['content-type'], 'image/jpeg')
    const { width, height } = await sharp(res.rawPayload).metadata()
    t.same({ width, height }, { width: format.width, height: format.height }, `at ${format.width} pixels wide`)
  }

  const { gallery, attachment } = await content(`post/${post}?populate=gallery,attachment`)
  t.strictSame(gallery.map((g: Item) => g.id), [small.id, photo.id], 'a list of items, in its order')
  t.strictSame(gallery[0], delivered(small, [{ width: 64, height: 48, url: small.url }]), 'an image no wider than the smallest width: itself')
  t.strictSame(attachment, delivered(notes, []), 'a file has no formats, nor a srcset')
  t.match(attachment, { kind: 'file', width: null, height: null, formats: [], srcset: null })
})

t.test('populate: * takes media fields too; inside components, zones and related entries; populated whole', async (t) => {
  const { upload, entry, read, content } = await setUp(t)
  const photo = await upload('photo.jpg', await jpeg({ width: 100, height: 50 }))
  const face = await upload('face.jpg', await jpeg({ variant: 2 }))
  const notes = await upload('notes.txt', 'some notes')
  const ann = await entry('person', { name: 'Ann', avatar: face.id })
  const post = await entry('post', {
    title: 'Hello',
    cover: photo.id,
    gallery: [notes.id, face.id],
    author: ann,
    seo: { title: 'SEO', image: face.id },
    blocks: [{ __component: 'blocks.picture', credit: 'Me', image: photo.id }, { __component: 'blocks.picture', credit: 'None' }],
  })
  const bare = await entry('post', { title: 'Bare' })
  const asDelivered = (item: Item) => ({ id: item.id, url: item.url, name: item.name })

  const all = await content(`post/${post}?populate=*`)
  t.match(all.cover, asDelivered(photo), 'a media field')
  t.match(all.cover.formats, [{ width: 64, height: 32 }, { width: 100, height: 50 }])
  t.match(all.gallery, [asDelivered(notes), asDelivered(face)], 'a list of them')
  t.match(all.author, { documentId: ann, name: 'Ann', avatar: face.id }, 'and relations, one level deep')
  t.equal(all.seo.image, face.id, 'components are populated when named')

  const deep = await content(`post/${post}?populate[seo][populate]=image&populate[blocks][populate][image]=true&populate[author][populate]=avatar`)
  t.match(deep.seo, { title: 'SEO', image: asDelivered(face) }, 'inside a component')
  t.match(deep.blocks, [{ credit: 'Me', image: asDelivered(photo) }, { credit: 'None' }], 'inside a dynamic zone')
  t.notOk('image' in deep.blocks[1], 'an empty one stays empty')
  t.match(deep.author.avatar, asDelivered(face), 'in a related entry')
  t.equal(deep.cover, photo.id, 'what is not named stays an id')

  const list = await content('post?populate[cover]=true&sort=title:asc')
  t.same(list.map((p: Data) => p.title), ['Bare', 'Hello'])
  t.notOk('cover' in list[0], 'an entry without the field has none')
  t.match(list[1].cover, asDelivered(photo))
  t.notOk('cover' in await content(`post/${bare}?populate=cover`), 'nor when it is the only one asked')

  for (const query of ['populate[cover][fields]=name', 'populate[cover][populate]=x', 'populate[seo][populate][image][fields]=url']) {
    const res = await read(`post/${post}?${query}`)
    t.equal(res.statusCode, 400, query)
    t.match(res.json().details, [{ in: 'querystring', message: 'is a media field: populated whole, with populate[name]=true' }])
  }
  t.match((await read(`post/${post}?populate[cover][fields]=name`)).json().details, [{ path: '/populate/cover' }])
  t.match((await read(`post/${post}?populate[seo][populate][image][fields]=url`)).json().details, [{ path: '/populate/seo/populate/image' }])
})

t.test('an item deleted with force is gone from entries; an id without an item (a model change) is left out', async (t) => {
  const { call, upload, entry, content } = await setUp(t)
  const photo = await upload('photo.jpg', await jpeg())
  const face = await upload('face.jpg', await jpeg({ variant: 3 }))
  const post = await entry('post', { title: 'Hello', cover: photo.id, gallery: [photo.id, face.id], legacy: missing })

  t.equal((await call('DELETE', `${MEDIA}/${photo.id}`)).statusCode, 409)
  t.equal((await call('DELETE', `${MEDIA}/${photo.id}?force=true`)).statusCode, 204)
  const after = await content(`post/${post}?populate=cover,gallery`)
  t.notOk('cover' in after, 'the field is cleared')
  t.strictSame(after.gallery.map((g: Item) => g.id), [face.id], 'the list lost it')
  t.strictSame((await content(`post/${post}`)).gallery, [face.id])

  // A JSON field holding an id becomes a media field: the id stays, though no item has it.
  const fields = (legacy: Data) => POST.fields.map((f) => (f.name === 'legacy' ? { name: 'legacy', ...legacy } : f))
  const { apiId, ...definition } = POST
  ok(await call('PUT', `${TYPES}/${apiId}`, { ...definition, fields: fields({ type: 'media' }) }))
  t.equal((await content(`post/${post}`)).legacy, missing)
  t.equal((await content(`post/${post}?populate=legacy`)).legacy, null, 'populated, it is nothing')
  ok(await call('PUT', `${TYPES}/${apiId}`, { ...definition, fields: fields({ type: 'media', multiple: true }) }))
  t.strictSame((await content(`post/${post}`)).legacy, [missing])
  t.strictSame((await content(`post/${post}?populate=legacy`)).legacy, [], 'in a list, it is left out')
})

t.test('answers change with their items: a changed text gets a new ETag, not a 304 nor a kept answer', async (t) => {
  const { app, admin, call, upload, entry, read } = await setUp(t)
  t.ok(app.config.GUDANG_RESPONSE_CACHE_SIZE > 0, 'answers are kept')
  const photo = await upload('photo.jpg', await jpeg(), [{ name: 'alternativeText', data: 'A flag' }])
  const post = await entry('post', { title: 'Hello', cover: photo.id })
  const url = `post/${post}?populate=cover`

  const first = await read(url)
  const etag = String(first.headers.etag)
  t.equal(first.json().data.cover.alternativeText, 'A flag')
  t.equal((await read(url, { 'if-none-match': etag })).statusCode, 304, 'unchanged: 304')
  t.equal((await read(url)).body, first.body, 'kept')

  ok(await call('PATCH', `${MEDIA}/${photo.id}`, { alternativeText: 'A red and blue flag' }))
  const stale = await read(url, { 'if-none-match': etag })
  t.equal(stale.statusCode, 200, 'the old ETag is stale')
  t.not(stale.headers.etag, etag)
  t.equal(stale.json().data.cover.alternativeText, 'A red and blue flag', 'with the new text')
  t.equal((await read(url)).json().data.cover.alternativeText, 'A red and blue flag', 'the kept answer is not served')
  t.equal((await read(url, { 'if-none-match': String(stale.headers.etag) })).statusCode, 304, 'the new ETag is current')
  const listed = await read('post?populate=cover')
  t.equal(listed.json().data[0].cover.alternativeText, 'A red and blue flag', 'lists too')

  // A new file: new URLs, new sizes.
  const body = multipart([{ name: 'file', filename: 'wide.jpg', data: await jpeg({ width: 200, height: 100 }) }])
  const replaced = await app.inject({ method: 'PUT', url: `${MEDIA}/${photo.id}/file`, payload: body.payload, headers: { ...body.headers, ...admin.headers } })
  const { url: next } = ok(replaced) as Item
  const again = await read(url, { 'if-none-match': String(stale.headers.etag) })
  t.equal(again.statusCode, 200)
  t.strictSame(again.json().data.cover.formats, [
    { width: 64, height: 32, url: `${next}&w=64` },
    { width: 128, height: 64, url: `${next}&w=128` },
    { width: 200, height: 100, url: next },
  ])
  t.not(next, photo.url)
})
