import t, { type Test } from 'tap'
import { buildWithAdmin, login } from '../helper.js'
import { jpeg, multipart, notAnImage, png } from '../media-fixture.js'

/**
 * Media fields in entries: they hold ids of existing media items, of the kinds they allow, at
 * any depth (components, dynamic zones); an item that entries use is not deleted unless forced,
 * which removes it from each of them as a new version. Deleting as such: media.library.test.ts.
 */

type App = Awaited<ReturnType<typeof buildWithAdmin>>
type Data = Record<string, unknown>
type Response = Awaited<ReturnType<App['inject']>>
interface Item { id: string, kind: string, mime: string, width: number | null }
interface Use { apiId: string, documentId: string, locale: string, status: string, path: string }

const TYPES = '/api/admin/content-types'
const POSTS = `${TYPES}/post/entries`
const MEDIA = '/api/admin/media'
const missing = '0195f0a0-0000-7000-8000-000000000001'

/** The answer's `data`; fails the test unless the status is `status`. */
function ok(res: Response, status = 200) {
  if (res.statusCode !== status) throw new Error(`answered ${res.statusCode}: ${res.body}`)
  return res.json().data
}

const MODEL = {
  components: [
    { uid: 'shared.seo', displayName: 'SEO', fields: [
      { name: 'title', type: 'string' },
      { name: 'image', type: 'media', allowedKinds: ['image'] },
    ] },
    { uid: 'blocks.picture', displayName: 'Picture', fields: [
      { name: 'credit', type: 'string' },
      { name: 'image', type: 'media', allowedKinds: ['image'] },
    ] },
    { uid: 'blocks.files', displayName: 'Files', fields: [
      { name: 'files', type: 'media', multiple: true },
    ] },
    { uid: 'shared.text', displayName: 'Text', fields: [{ name: 'body', type: 'text' }] },
  ],
  post: {
    apiId: 'post', kind: 'collection', singularName: 'post', pluralName: 'posts',
    fields: [
      { name: 'title', type: 'string' },
      { name: 'cover', type: 'media', allowedKinds: ['image'] },
      { name: 'gallery', type: 'media', multiple: true, allowedKinds: ['image'] },
      { name: 'attachment', type: 'media' },
      { name: 'clip', type: 'media', allowedKinds: ['video', 'audio'] },
      { name: 'seo', type: 'component', component: 'shared.seo' },
      { name: 'blocks', type: 'dynamiczone', components: ['blocks.picture', 'blocks.files'] },
    ],
  },
  /** Media only inside components, one of them twice and without media. */
  page: {
    apiId: 'page', kind: 'collection', singularName: 'page', pluralName: 'pages', draftAndPublish: false,
    fields: [
      { name: 'intro', type: 'component', component: 'shared.text' },
      { name: 'outro', type: 'component', component: 'shared.text' },
      { name: 'sections', type: 'dynamiczone', components: ['shared.text', 'blocks.picture'] },
    ],
  },
}

async function setUp(t: Test) {
  const app = await buildWithAdmin(t)
  const admin = await login(app)
  const call = (method: string, url: string, payload?: object) =>
    app.inject({ method: method as 'GET', url, headers: admin.headers, ...(payload === undefined ? {} : { payload }) })
  for (const component of MODEL.components) ok(await call('POST', '/api/admin/components', component), 201)
  for (const type of [MODEL.post, MODEL.page]) ok(await call('POST', TYPES, type), 201)
  /** Uploads one file as the client names and types it: the item. */
  const upload = async (filename: string, data: Buffer | string, contentType?: string): Promise<Item> => {
    const body = multipart([{ name: 'file', filename, data, ...(contentType === undefined ? {} : { contentType }) }])
    const res = await app.inject({ method: 'POST', url: MEDIA, payload: body.payload, headers: { ...body.headers, ...admin.headers } })
    return ok(res, 201)[0]
  }
  const create = (data: Data) => call('POST', POSTS, { data })
  /** Creates a post (and publishes it unless `publish` is false): its document id. */
  const post = async (data: Data, publish = true): Promise<string> => {
    const { documentId } = ok(await create(data), 201)
    if (publish) ok(await call('POST', `${POSTS}/${documentId}/publish`))
    return documentId
  }
  const read = async (documentId: string, query = '') => ok(await call('GET', `${POSTS}/${documentId}${query}`)) as Data
  const versions = async (documentId: string) => ok(await call('GET', `${POSTS}/${documentId}/versions`)) as Data[]
  return { app, call, upload, create, post, read, versions }
}

/** The fields of an entry as saved, without what the API adds. */
function fieldsOf(entry: Data): Data {
  const meta = ['documentId', 'locale', 'status', 'version', 'createdAt', 'updatedAt', 'publishedAt', 'createdBy', 'updatedBy']
  return Object.fromEntries(Object.entries(entry).filter(([key]) => !meta.includes(key)))
}

t.test('media fields take ids of existing items: one, or a list; in components and dynamic zones too', async (t) => {
  const { call, upload, create, read } = await setUp(t)
  const photo = await upload('photo.jpg', await jpeg())
  const picture = await upload('picture.png', await png())
  const notes = await upload('notes.txt', 'some notes')
  t.equal(notes.kind, 'file')
  const data = {
    title: 'Hello',
    cover: photo.id,
    gallery: [picture.id, photo.id],
    attachment: notes.id,
    seo: { title: 'SEO', image: picture.id },
    blocks: [
      { __component: 'blocks.picture', credit: 'Me', image: photo.id },
      { __component: 'blocks.files', files: [notes.id, photo.id] },
    ],
  }
  const saved = ok(await create(data), 201)
  t.strictSame(fieldsOf(saved), data, 'saved as given')
  ok(await call('POST', `${POSTS}/${saved.documentId}/publish`), 200)
  t.strictSame(fieldsOf(await read(saved.documentId, '?status=published')), data, 'and published: checked again')

  const changed = ok(await call('PUT', `${POSTS}/${saved.documentId}`, { data: { cover: picture.id, gallery: [] } }))
  t.equal(changed.cover, picture.id, 'a single field changes')
  t.same(changed.gallery, [], 'a list may be empty')
  const cleared = ok(await call('PUT', `${POSTS}/${saved.documentId}`, { data: { cover: null } }))
  t.notOk('cover' in cleared, 'null clears it')

  const repeated = await create({ gallery: [photo.id, photo.id] })
  t.equal(repeated.statusCode, 400, 'an item comes once in a list')
  t.match(repeated.json().details, [{ path: '/data/gallery', message: /duplicate/ }])
})

t.test('an unknown media id is refused with 400 at its field, naming the id; nothing is saved', async (t) => {
  const { call, upload, create, post, read } = await setUp(t)
  const photo = await upload('photo.jpg', await jpeg())

  const single = await create({ title: 'Broken', cover: missing })
  t.equal(single.statusCode, 400)
  t.match(single.json(), { statusCode: 400, code: 'GUDANG_ERR_VALIDATION', message: new RegExp(`/cover there is no media item ${missing}`) })
  t.strictSame(single.json().details, [{ in: 'body', path: '/data/cover', message: `there is no media item ${missing}` }])

  const list = await create({ gallery: [photo.id, missing] })
  t.equal(list.statusCode, 400)
  t.strictSame(list.json().details, [{ in: 'body', path: '/data/gallery', message: `there is no media item ${missing}` }],
    'a list is refused at its field, for the one unknown id')

  const deep = await create({
    seo: { image: missing },
    blocks: [{ __component: 'blocks.files', files: [photo.id] }, { __component: 'blocks.picture', image: missing }],
  })
  t.equal(deep.statusCode, 400)
  t.strictSame(deep.json().details, [
    { in: 'body', path: '/data/seo/image', message: `there is no media item ${missing}` },
    { in: 'body', path: '/data/blocks/1/image', message: `there is no media item ${missing}` },
  ], 'inside a component and inside a dynamic zone, each at its place')
  t.equal(ok(await call('GET', POSTS)).length, 0, 'no entry was made')

  const kept = await post({ title: 'Kept', cover: photo.id })
  const refused = await call('PUT', `${POSTS}/${kept}`, { data: { cover: missing } })
  t.equal(refused.statusCode, 400)
  t.strictSame(refused.json().details, [{ in: 'body', path: '/data/cover', message: `there is no media item ${missing}` }])
  t.equal((await read(kept)).cover, photo.id, 'the entry is as it was')
})

t.test('allowedKinds: a file with an image\'s name and type but other bytes is a file, refused where images go', async (t) => {
  const { upload, create, read } = await setUp(t)
  const photo = await upload('photo.jpg', await jpeg())
  const fake = await upload('photo.jpg', notAnImage(), 'image/jpeg')
  t.match(fake, { kind: 'file', width: null }, 'stored as a file: its bytes are no image')
  t.notMatch(fake.mime, /^image\//)

  const cover = await create({ cover: fake.id })
  t.equal(cover.statusCode, 400)
  t.match(cover.json().message, `must be image: media item ${fake.id} is file`)
  t.strictSame(cover.json().details, [{ in: 'body', path: '/data/cover', message: `must be image: media item ${fake.id} is file` }])

  const everywhere = await create({
    gallery: [photo.id, fake.id],
    clip: photo.id,
    seo: { image: fake.id },
    blocks: [{ __component: 'blocks.picture', image: photo.id }, { __component: 'blocks.picture', image: fake.id }],
  })
  t.equal(everywhere.statusCode, 400)
  t.strictSame(everywhere.json().details, [
    { in: 'body', path: '/data/gallery', message: `must be image: media item ${fake.id} is file` },
    { in: 'body', path: '/data/clip', message: `must be video or audio: media item ${photo.id} is image` },
    { in: 'body', path: '/data/seo/image', message: `must be image: media item ${fake.id} is file` },
    { in: 'body', path: '/data/blocks/1/image', message: `must be image: media item ${fake.id} is file` },
  ], 'lists, components and dynamic zones are checked; every problem is told')

  // Where any kind goes, a file does.
  const any = ok(await create({ attachment: fake.id, blocks: [{ __component: 'blocks.files', files: [fake.id, photo.id] }] }), 201)
  t.equal((await read(any.documentId)).attachment, fake.id)
})

/** Uses sorted, so that lists compare whatever the order of the entries' rows. */
function sorted(uses: Use[]): Use[] {
  const key = (u: Use) => `${u.documentId} ${u.status} ${u.path}`
  return [...uses].sort((a, b) => key(a).localeCompare(key(b)))
}

t.test('an item in use is not deleted (409, every use listed); forced, it leaves each entry as a new version', async (t) => {
  const { call, upload, post, read, versions } = await setUp(t)
  const photo = await upload('photo.jpg', await jpeg())
  const picture = await upload('picture.png', await png())
  const published = await post({
    title: 'Published',
    cover: photo.id,
    gallery: [picture.id, photo.id],
    seo: { title: 'SEO', image: photo.id },
    blocks: [
      { __component: 'blocks.picture', credit: 'Me', image: photo.id },
      { __component: 'blocks.files', files: [picture.id, photo.id] },
    ],
  })
  // Published with the photo, then a draft without the seo's.
  const modified = await post({ title: 'Modified', cover: photo.id, seo: { image: photo.id } })
  ok(await call('PUT', `${POSTS}/${modified}`, { data: { title: 'Modified since', seo: { title: 'None' } } }))
  const draft = await post({ title: 'Draft', gallery: [photo.id] }, false)
  const unrelated = await post({ title: 'Unrelated', cover: picture.id })
  const sections = [{ __component: 'shared.text', body: 'Hello' }, { __component: 'blocks.picture', credit: 'Me', image: photo.id }]
  const page = ok(await call('POST', `${TYPES}/page/entries`, { data: { intro: { body: 'Intro' }, sections } }), 201).documentId

  const uses = (documentId: string, status: string, paths: string[]) =>
    paths.map((path) => ({ apiId: 'post', documentId, locale: 'en', status, path }))
  const expected = sorted([
    ...['draft', 'published'].flatMap((status) => uses(published, status, ['/cover', '/gallery', '/seo/image', '/blocks/0/image', '/blocks/1/files'])),
    ...uses(modified, 'draft', ['/cover']),
    ...uses(modified, 'published', ['/cover', '/seo/image']),
    ...uses(draft, 'draft', ['/gallery']),
    // Saving without draft & publish publishes.
    ...['draft', 'published'].map((status) => ({ apiId: 'page', documentId: page, locale: 'en', status, path: '/sections/1/image' })),
  ])
  const before = await Promise.all([published, modified, draft, unrelated].map(versions))

  const refused = await call('DELETE', `${MEDIA}/${photo.id}`)
  t.equal(refused.statusCode, 409)
  t.match(refused.json(), {
    statusCode: 409,
    code: 'GUDANG_ERR_MEDIA_IN_USE',
    error: 'Conflict',
    message: `The media item is used ${expected.length} time(s) by entries: remove it from them first, or delete with ?force=true to unlink it`,
  })
  t.strictSame(sorted(refused.json().details.usedBy), expected, 'every use, in drafts and published data, at any depth')
  const item = await call('GET', `${MEDIA}/${photo.id}`)
  t.strictSame(sorted(item.json().meta.usedBy), expected, 'the item lists the same uses')
  t.same(await Promise.all([published, modified, draft, unrelated].map(versions)), before, 'no entry changed')

  t.equal((await call('DELETE', `${MEDIA}/${photo.id}?force=true`)).statusCode, 204, 'forced')
  t.equal((await call('GET', `${MEDIA}/${photo.id}`)).statusCode, 404, 'the item went')

  const stripped = {
    title: 'Published',
    gallery: [picture.id],
    seo: { title: 'SEO' },
    blocks: [{ __component: 'blocks.picture', credit: 'Me' }, { __component: 'blocks.files', files: [picture.id] }],
  }
  const draftData = await read(published)
  t.strictSame(fieldsOf(draftData), stripped, 'a single field is cleared, a list loses only that item, at any depth')
  t.strictSame(fieldsOf(await read(published, '?status=published')), stripped, 'in the published data too')
  t.equal(draftData.status, 'published', 'which readers still see')
  const [latest, previous] = await versions(published)
  t.match(latest, { version: (previous as Data).version as number + 1, action: 'update', changed: ['blocks', 'cover', 'gallery', 'seo'] },
    'a new version, naming the fields that changed')
  t.equal((await versions(published)).length, (before[0] as Data[]).length + 1)

  const modifiedDraft = await read(modified)
  t.strictSame(fieldsOf(modifiedDraft), { title: 'Modified since', seo: { title: 'None' } })
  t.strictSame(fieldsOf(await read(modified, '?status=published')), { title: 'Modified', seo: {} })
  t.equal(modifiedDraft.status, 'modified', 'a draft with changes keeps them apart from the published data')

  const draftOnly = await read(draft)
  t.strictSame(fieldsOf(draftOnly), { title: 'Draft', gallery: [] })
  t.equal(draftOnly.status, 'draft', 'a draft stays unpublished')
  t.equal((await call('GET', `${POSTS}/${draft}?status=published`)).statusCode, 404)

  t.same(await versions(unrelated), before[3], 'an entry without the item is left alone')
  const { data: pageData } = (await call('GET', `${TYPES}/page/entries/${page}`)).json()
  t.strictSame(pageData.sections, [sections[0], { __component: 'blocks.picture', credit: 'Me' }], 'another type, with media only inside components')
  t.strictSame((await call('GET', `${MEDIA}/${picture.id}`)).json().meta.usedBy.length, 6, 'the other item keeps its uses')
})

t.test('a save holds its items: a deletion after it is refused; a deleted item cannot come back', async (t) => {
  const { call, upload, post, read } = await setUp(t)
  const photo = await upload('photo.jpg', await jpeg())
  const saved = await post({ title: 'Saved', seo: { image: photo.id } }, false)

  const refused = await call('DELETE', `${MEDIA}/${photo.id}`)
  t.equal(refused.statusCode, 409, 'the save committed first: its use is seen')
  t.strictSame(refused.json().details.usedBy, [{ apiId: 'post', documentId: saved, locale: 'en', status: 'draft', path: '/seo/image' }])

  // Without its use, the item goes; the version that held it can no longer be restored.
  const { version } = await read(saved) as { version: number }
  ok(await call('PUT', `${POSTS}/${saved}`, { data: { seo: null } }))
  t.equal((await call('DELETE', `${MEDIA}/${photo.id}`)).statusCode, 204)
  const restored = await call('POST', `${POSTS}/${saved}/versions/${version}/restore`)
  t.equal(restored.statusCode, 400)
  t.strictSame(restored.json().details, [{ in: 'body', path: '/data/seo/image', message: `there is no media item ${photo.id}` }])
  const again = await call('PUT', `${POSTS}/${saved}`, { data: { cover: photo.id } })
  t.equal(again.statusCode, 400)
  t.notOk('seo' in await read(saved), 'the entry is as it was')
})
