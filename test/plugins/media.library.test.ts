import { createHash } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import t, { type Test } from 'tap'
import { buildWithAdmin, created, login, signInAs } from '../helper.js'
import { gif, jpeg, multipart, notAnImage, type Part, png } from '../media-fixture.js'

/**
 * The media library's routes besides the upload (media.test.ts): listing with filters, sorts
 * and pages; an item with its uses; changing its metadata; replacing its file; deleting it
 * (refused while used, unless forced); who may do what; the audit log.
 */

type App = Awaited<ReturnType<typeof buildWithAdmin>>
type Response = Awaited<ReturnType<App['inject']>>
type Item = Record<string, unknown> & { id: string, hash: string, name: string, url: string, createdAt: string }
type Who = { headers: Record<string, string> }

const MEDIA = '/api/admin/media'
const POSTS = '/api/admin/content-types/post/entries'
const missing = '0195f0a0-0000-7000-8000-000000000001'

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex')

/** The answer's `data`; fails the test unless the status is `status`. */
function ok(res: Response, status = 200) {
  if (res.statusCode !== status) throw new Error(`answered ${res.statusCode}: ${res.body}`)
  return res.json().data
}

async function setUp(t: Test) {
  const app = await buildWithAdmin(t)
  const admin = await login(app)
  const call = (method: string, url: string, payload?: object, who: Who = admin) =>
    app.inject({ method: method as 'GET', url, headers: who.headers, ...(payload === undefined ? {} : { payload }) })
  /** Sends the parts as a multipart body to `url` (uploads by default). */
  const send = (parts: Part[], who: Who = admin, method: 'POST' | 'PUT' = 'POST', url = MEDIA) => {
    const body = multipart(parts)
    return app.inject({ method, url, payload: body.payload, headers: { ...body.headers, ...who.headers } })
  }
  /** Uploads one file: the item. */
  const upload = async (filename: string, data: Buffer | string, who: Who = admin, fields: Part[] = []) =>
    ok(await send([...fields, { name: 'file', filename, data }], who), 201)[0] as Item
  const replace = (id: string, parts: Part[], who: Who = admin) => send(parts, who, 'PUT', `${MEDIA}/${id}/file`)
  const list = async (query = '') => ok(await call('GET', `${MEDIA}?${query}`)) as Item[]
  const get = async (id: string) => ok(await call('GET', `${MEDIA}/${id}`)) as Item
  /** Every stored file (relative to the uploads folder). */
  const stored = async () => {
    const files = await readdir(app.config.GUDANG_UPLOADS_DIR, { recursive: true, withFileTypes: true })
    return files.filter((f) => f.isFile())
      .map((f) => path.relative(app.config.GUDANG_UPLOADS_DIR, path.join(f.parentPath, f.name))).sort()
  }
  return { app, admin, call, send, upload, replace, list, get, stored }
}

type Library = Awaited<ReturnType<typeof setUp>>

/** A content type `post` with media fields, and a post that uses `cover` (and `gallery`), published. */
async function postUsing(library: Library, cover: string, gallery: string[] = []) {
  const { app, admin, call } = library
  if ((await call('GET', '/api/admin/content-types/post')).statusCode === 404) {
    await created(app, admin, '/api/admin/content-types', {
      kind: 'collection', apiId: 'post', singularName: 'post', pluralName: 'posts',
      fields: [
        { name: 'title', type: 'string' },
        { name: 'cover', type: 'media', allowedKinds: ['image'] },
        { name: 'gallery', type: 'media', multiple: true },
      ],
    })
  }
  const post = await created(app, admin, POSTS, { data: { title: 'Hello', cover, gallery } })
  ok(await call('POST', `${POSTS}/${post.documentId}/publish`))
  return post.documentId as string
}

t.test('the library filters, sorts and pages', async (t) => {
  const library = await setUp(t)
  const { call, upload, list } = library
  const items = [
    await upload('a.jpg', await jpeg()),
    await upload('Beach.PNG', await png(), undefined, [{ name: 'folder', data: '/blog/2026' }]),
    await upload('notes.txt', 'ten bytes!', undefined, [{ name: 'folder', data: '/blog/2026' }]),
    await upload('beach-notes.txt', 'twenty bytes of text', undefined, [{ name: 'folder', data: '/blog' }]),
    await upload('zebra.gif', await gif()),
  ]
  const names = (found: Item[]) => found.map((i) => i.name)
  const times = items.map((i) => Date.parse(i.createdAt))
  t.ok(times.every((time, i) => i === 0 || time > (times[i - 1] as number)), 'made one after the other')

  t.same(names(await list()), names(items).reverse(), 'newest first')
  t.same(names(await list('kind=image')), ['zebra.gif', 'Beach.PNG', 'a.jpg'])
  t.same(names(await list('kind=file')), ['beach-notes.txt', 'notes.txt'])
  t.same(names(await list('kind=video')), [])
  t.same(names(await list('folder=/blog/2026')), ['notes.txt', 'Beach.PNG'], 'a folder, not its subfolders')
  t.same(names(await list('folder=/blog')), ['beach-notes.txt'])
  t.same(names(await list('name=BEACH')), ['beach-notes.txt', 'Beach.PNG'], 'part of the name, in any case')
  t.same(names(await list('name=beach&kind=file&folder=/blog')), ['beach-notes.txt'], 'filters combine')
  const third = encodeURIComponent((items[2] as Item).createdAt)
  t.same(names(await list(`createdAfter=${third}`)), ['zebra.gif', 'beach-notes.txt', 'notes.txt'], 'created at or after')
  t.same(names(await list(`createdBefore=${third}`)), ['Beach.PNG', 'a.jpg'], 'created before')
  t.same(names(await list(`createdAfter=${encodeURIComponent((items[1] as Item).createdAt)}&createdBefore=${third}`)), ['Beach.PNG'])

  t.same(names(await list('sort=name:asc')), ['Beach.PNG', 'a.jpg', 'beach-notes.txt', 'notes.txt', 'zebra.gif'])
  const bySize = await list('sort=size:desc')
  t.same(bySize.map((i) => i.size), items.map((i) => i.size as number).sort((a, b) => b - a), 'largest first')
  t.same(names(await list('sort=createdAt:asc')), names(items), 'oldest first')

  const page = await call('GET', `${MEDIA}?pageSize=2&page=2`)
  t.same(page.json().meta, { page: 2, pageSize: 2, total: 5 })
  t.same(names(page.json().data), ['notes.txt', 'Beach.PNG'])
  t.same((await call('GET', `${MEDIA}?kind=file&pageSize=1&page=3`)).json(), { data: [], meta: { page: 3, pageSize: 1, total: 2 } })
  for (const query of ['sort=hash:asc', 'kind=pdf', 'folder=blog', 'createdAfter=yesterday', 'page=0', 'colour=red']) {
    t.equal((await call('GET', `${MEDIA}?${query}`)).statusCode, 400, query)
  }
})

t.test('an item with its uses; its metadata changes; unknown ids are 404', async (t) => {
  const library = await setUp(t)
  const { call, upload, get } = library
  const item = await upload('photo.jpg', await jpeg(), undefined, [{ name: 'alternativeText', data: 'A flag' }])
  t.same((await call('GET', `${MEDIA}/${item.id}`)).json(), { data: item, meta: { usedBy: [] } })

  const post = await postUsing(library, item.id)
  t.same((await call('GET', `${MEDIA}/${item.id}`)).json().meta.usedBy, [
    { apiId: 'post', documentId: post, locale: 'en', status: 'draft', path: '/cover' },
    { apiId: 'post', documentId: post, locale: 'en', status: 'published', path: '/cover' },
  ], 'the draft and the published data')

  const patch = (payload: object, id = item.id) => call('PATCH', `${MEDIA}/${id}`, payload)
  const moved = ok(await patch({ name: 'flag.jpg', folder: '/flags/red', alternativeText: 'A red and blue flag', caption: 'Ours' }))
  t.match(moved, { id: item.id, name: 'flag.jpg', folder: '/flags/red', alternativeText: 'A red and blue flag', caption: 'Ours', focalPoint: null,
    hash: item.hash, url: item.url })
  t.same((await library.list('folder=/flags/red')).map((i) => i.id), [item.id], 'moved to the folder')
  t.same((await library.list('folder=/')).length, 0, 'and out of the root')

  const focused = ok(await patch({ focalPoint: { x: 0.25, y: 1 } }))
  t.same(focused.focalPoint, { x: 0.25, y: 1 })
  t.not(focused.url, item.url, 'the url changes with the focal point')
  t.match(focused, { name: 'flag.jpg', caption: 'Ours' }, 'the rest stays')
  t.same(ok(await patch({ focalPoint: { x: 0, y: 0 } })).focalPoint, { x: 0, y: 0 })
  const cleared = ok(await patch({ focalPoint: null, alternativeText: null, caption: null }))
  t.match(cleared, { focalPoint: null, alternativeText: null, caption: null, name: 'flag.jpg' }, 'null clears')
  t.equal(cleared.url, item.url, 'back to the url without a focal point')
  t.equal((await get(item.id)).folder, '/flags/red')

  for (const [what, payload] of [
    ['a focal point past 1', { focalPoint: { x: 1.5, y: 0.5 } }],
    ['a negative focal point', { focalPoint: { x: 0.5, y: -0.1 } }],
    ['a focal point without y', { focalPoint: { x: 0.5 } }],
    ['an invalid folder', { folder: 'flags' }],
    ['an empty name', { name: '' }],
    ['a text over 1000 characters', { caption: 'x'.repeat(1001) }],
    ['a field that is not metadata', { hash: sha256('x') }],
  ] as const) {
    const res = await patch(payload)
    t.equal(res.statusCode, 400, what)
    t.equal(res.json().code, 'GUDANG_ERR_VALIDATION', what)
  }
  t.same(await get(item.id), cleared, 'nothing changed')

  for (const res of [
    await call('GET', `${MEDIA}/${missing}`),
    await patch({ name: 'x' }, missing),
    await library.replace(missing, [{ name: 'file', filename: 'a.jpg', data: await jpeg() }]),
    await call('DELETE', `${MEDIA}/${missing}`),
  ]) {
    t.equal(res.statusCode, 404)
    t.equal(res.json().code, 'GUDANG_ERR_NOT_FOUND')
  }
  t.equal((await call('GET', `${MEDIA}/not-a-uuid`)).statusCode, 400)
})

t.test('replacing the file keeps the id, metadata and uses; the old file goes with its last holder', async (t) => {
  const library = await setUp(t)
  const { app, call, upload, replace, get, stored } = library
  const small = await jpeg()
  const large = await jpeg({ width: 128, height: 96 })
  const other = await png({ width: 96, height: 96 })
  const first = await upload('small.jpg', small, undefined, [{ name: 'folder', data: '/blog' }, { name: 'caption', data: 'Kept' }])
  const twin = await upload('twin.jpg', small)
  ok(await call('PATCH', `${MEDIA}/${first.id}`, { focalPoint: { x: 0.2, y: 0.8 } }))
  const post = await postUsing(library, first.id)
  t.equal((await app.inject({ url: `/assets/${first.id}?w=64` })).statusCode, 200, 'a rendition of the small file')
  const before = await get(first.id)

  const replaced = ok(await replace(first.id, [{ name: 'file', filename: 'large.jpg', data: large }]))
  t.match(replaced, {
    id: first.id, name: 'large.jpg', folder: '/blog', caption: 'Kept', focalPoint: { x: 0.2, y: 0.8 }, kind: 'image',
    hash: sha256(large), size: large.length, width: 128, height: 96, createdAt: before.createdAt,
  })
  t.not(replaced.url, before.url, 'a new url')
  t.same((await call('GET', `${MEDIA}/${first.id}`)).json().meta.usedBy.map((u: { documentId: string }) => u.documentId), [post, post],
    'the uses stay')
  t.ok((await stored()).includes(`originals/${first.hash}`), 'the small file stays: the twin holds it')
  t.equal((await app.inject({ url: twin.url })).statusCode, 200)

  ok(await replace(twin.id, [{ name: 'file', filename: 'other.png', data: other }]))
  t.same(await stored(), [`originals/${sha256(large)}`, `originals/${sha256(other)}`].sort(),
    'the small file and its renditions went with its last holder')

  // Refused replacements change nothing and keep nothing.
  const text = await upload('notes.txt', notAnImage())
  const files = await stored()
  const items = await library.list()
  const refusals: [string, Response, number][] = [
    ['an image replaced by a text file', await replace(first.id, [{ name: 'file', filename: 'notes.jpg', data: 'not an image' }]), 409],
    ['a text file replaced by an image', await replace(text.id, [{ name: 'file', filename: 'pic.png', data: await png({ variant: 7 }) }]), 409],
    ['two files', await replace(first.id, [
      { name: 'file', filename: 'a.jpg', data: await jpeg({ variant: 1 }) },
      { name: 'file', filename: 'b.jpg', data: await jpeg({ variant: 2 }) },
    ]), 400],
    ['a text field', await replace(first.id, [{ name: 'caption', data: 'New' }, { name: 'file', filename: 'a.jpg', data: await jpeg({ variant: 3 }) }]), 400],
    ['no file', await replace(first.id, [{ name: 'caption', data: 'New' }]), 400],
    ['not multipart', await call('PUT', `${MEDIA}/${first.id}/file`, { file: 'x' }), 415],
  ]
  for (const [what, res, status] of refusals) t.equal(res.statusCode, status, what)
  t.same((refusals[0] as [string, Response, number])[1].json(), {
    statusCode: 409, code: 'GUDANG_ERR_CONFLICT', error: 'Conflict',
    message: 'The item is an image, which only an image may replace: entries may allow only that kind; "notes.jpg" is a file',
  })
  t.match((refusals[1] as [string, Response, number])[1].json().message,
    /^The item is a file, which only a file may replace: .* "pic\.png" is an image$/)
  t.same((refusals[2] as [string, Response, number])[1].json().details, [{ in: 'body', path: '/', message: 'must hold exactly one file part' }])
  t.same((refusals[3] as [string, Response, number])[1].json().details, [{ in: 'body', path: '/caption', message: 'is not accepted here' }])
  t.same(await library.list(), items, 'no item changed')
  t.same(await stored(), files, 'no file kept')
})

t.test('deleting: an unused item goes; a used one is refused unless forced, which unlinks it', async (t) => {
  const library = await setUp(t)
  const { call, upload, stored } = library
  const unused = await upload('unused.txt', 'nobody uses me')
  t.equal((await call('DELETE', `${MEDIA}/${unused.id}`)).statusCode, 204)
  t.same(await stored(), [], 'its file went')
  t.equal((await call('GET', `${MEDIA}/${unused.id}`)).statusCode, 404)

  const cover = await upload('cover.jpg', await jpeg())
  const kept = await upload('kept.png', await png())
  const post = await postUsing(library, cover.id, [cover.id, kept.id])
  const refused = await call('DELETE', `${MEDIA}/${cover.id}`)
  t.equal(refused.statusCode, 409)
  t.match(refused.json(), { code: 'GUDANG_ERR_MEDIA_IN_USE', error: 'Conflict' })
  t.same(refused.json().details.usedBy, ['draft', 'published'].flatMap((status) => ['/cover', '/gallery']
    .map((at) => ({ apiId: 'post', documentId: post, locale: 'en', status, path: at }))), 'every use, draft and published')
  t.ok((await stored()).includes(`originals/${cover.hash}`), 'the file stays')
  t.equal((await call('DELETE', `${MEDIA}/${cover.id}?force=yes`)).statusCode, 400)

  const versions = async () => ok(await call('GET', `${POSTS}/${post}/versions`)) as { action: string, changed: string[] }[]
  const versionsBefore = (await versions()).length
  t.equal((await call('DELETE', `${MEDIA}/${cover.id}?force=true`)).statusCode, 204, 'forced')
  t.equal((await call('GET', `${MEDIA}/${cover.id}`)).statusCode, 404)
  t.same(await stored(), [`originals/${kept.hash}`], 'its file went')
  const draft = ok(await call('GET', `${POSTS}/${post}`))
  t.equal(draft.cover ?? null, null, 'the draft lost the cover')
  t.same(draft.gallery, [kept.id], 'and the gallery the item')
  const published = ok(await call('GET', `${POSTS}/${post}?status=published`))
  t.equal(published.cover ?? null, null, 'so did the published data')
  t.same(published.gallery, [kept.id])
  const after = await versions()
  t.equal(after.length, versionsBefore + 1, 'a new version of the entry')
  t.match(after[0], { action: 'update', changed: ['cover', 'gallery'] })
  t.same((await call('GET', `${MEDIA}/${kept.id}`)).json().meta.usedBy.length, 2, 'the other item is still used')
})

t.test('permissions: sign-in, the media permission, authors own their items; every change is audited', async (t) => {
  const library = await setUp(t)
  const { app, admin, call, send, upload, replace } = library
  const editor = await signInAs(app, admin, 'editor')
  const author = await signInAs(app, admin, 'author')
  const mine = await upload('editor.jpg', await jpeg(), editor)
  const routes: [string, string, (who: Who) => Promise<Response>][] = [
    ['POST', MEDIA, (who) => send([{ name: 'file', filename: 'a.txt', data: 'a' }], who)],
    ['GET', MEDIA, (who) => call('GET', MEDIA, undefined, who)],
    ['GET', `${MEDIA}/:id`, (who) => call('GET', `${MEDIA}/${mine.id}`, undefined, who)],
    ['PATCH', `${MEDIA}/:id`, (who) => call('PATCH', `${MEDIA}/${mine.id}`, { name: 'x' }, who)],
    ['PUT', `${MEDIA}/:id/file`, (who) => replace(mine.id, [{ name: 'file', filename: 'b.jpg', data: 'b' }], who)],
    ['DELETE', `${MEDIA}/:id`, (who) => call('DELETE', `${MEDIA}/${mine.id}`, undefined, who)],
  ]
  ok(await call('POST', '/api/admin/roles', { name: 'Writer', permissions: [{ subject: 'content:*', action: 'read' }] }), 201)
  const writer = await signInAs(app, admin, 'Writer')
  for (const [method, url, request] of routes) {
    const anonymous = await request({ headers: {} })
    t.equal(anonymous.statusCode, 401, `anonymous: ${method} ${url}`)
    t.equal(anonymous.json().code, 'GUDANG_ERR_UNAUTHENTICATED')
    const forbidden = await request(writer)
    t.equal(forbidden.statusCode, 403, `without the media permission: ${method} ${url}`)
    t.equal(forbidden.json().code, 'GUDANG_ERR_FORBIDDEN')
  }
  t.same(await library.list(), [mine], 'nothing changed')

  // An author uploads and reads everything, but changes only their own items.
  const own = await upload('author.jpg', await png(), author)
  t.same((ok(await call('GET', MEDIA, undefined, author)) as Item[]).map((i) => i.id).sort(), [mine.id, own.id].sort())
  t.equal((await call('GET', `${MEDIA}/${mine.id}`, undefined, author)).statusCode, 200)
  for (const [method, url, request] of routes.slice(3)) {
    const res = await request(author)
    t.equal(res.statusCode, 404, `an author's ${method} ${url} on an editor's item: as if missing`)
  }
  t.same(await library.get(mine.id), mine, 'the editor\'s item is as it was')
  t.equal(ok(await call('PATCH', `${MEDIA}/${own.id}`, { caption: 'Mine' }, author)).caption, 'Mine')
  const again = ok(await replace(own.id, [{ name: 'file', filename: 'again.png', data: await png({ variant: 5 }) }], author))
  t.equal(again.id, own.id)
  t.equal((await call('DELETE', `${MEDIA}/${own.id}`, undefined, author)).statusCode, 204)
  // The editor changes anyone's.
  t.equal(ok(await call('PATCH', `${MEDIA}/${mine.id}`, { name: 'renamed.jpg' }, editor)).name, 'renamed.jpg')

  const log = ok(await call('GET', '/api/admin/audit-log?subject=media&pageSize=100')) as
    { action: string, userId: string, details: Record<string, unknown> }[]
  t.same(log.map((e) => [e.action, e.userId]).reverse(), [
    ['media.create', editor.user.id],
    ['media.create', author.user.id],
    ['media.update', author.user.id],
    ['media.replace', author.user.id],
    ['media.delete', author.user.id],
    ['media.update', editor.user.id],
  ], 'who did what, in order')
  const [renamed, deleted, replacedEvent, updated] = log
  t.match(renamed?.details, { id: mine.id, name: 'renamed.jpg', changed: ['name'] })
  t.match(deleted?.details, { id: own.id, name: 'again.png', hash: again.hash })
  t.match(replacedEvent?.details, { id: own.id, name: 'again.png', hash: again.hash, previousHash: own.hash })
  t.match(updated?.details, { id: own.id, changed: ['caption'] })
})
