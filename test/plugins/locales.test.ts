import t, { type Test } from 'tap'
import { buildWithAdmin, login, roleId, type SignedIn, signInAs } from '../helper.js'

type App = Awaited<ReturnType<typeof buildWithAdmin>>

const LOCALES = '/api/admin/locales'
const TYPES = '/api/admin/content-types'

async function setUp(t: Test): Promise<{ app: App, admin: SignedIn }> {
  const app = await buildWithAdmin(t)
  const admin = await login(app)
  return { app, admin }
}

async function addLocale(app: App, admin: SignedIn, payload: object) {
  const res = await app.inject({ method: 'POST', url: LOCALES, headers: admin.headers, payload })
  if (res.statusCode !== 201) throw new Error(`POST ${LOCALES} answered ${res.statusCode}: ${res.body}`)
  return res.json().data
}

async function codes(app: App, admin: SignedIn): Promise<{ code: string, isDefault: boolean }[]> {
  const res = await app.inject({ url: LOCALES, headers: admin.headers })
  return res.json().data.map(({ code, isDefault }: { code: string, isDefault: boolean }) => ({ code, isDefault }))
}

t.test('the locales are listed with the default first; English is there from the start', async (t) => {
  const { app, admin } = await setUp(t)
  const start = await app.inject({ url: LOCALES, headers: admin.headers })
  t.equal(start.statusCode, 200)
  t.same(start.json().meta, { total: 1 })
  t.same(Object.keys(start.json().data[0]).sort(), ['code', 'createdAt', 'isDefault', 'name'])
  t.match(start.json().data[0], { code: 'en', name: 'English', isDefault: true })

  await addLocale(app, admin, { code: 'de', name: 'Deutsch' })
  await addLocale(app, admin, { code: 'ar', name: 'العربية' })
  t.same(await codes(app, admin), [
    { code: 'en', isDefault: true },
    { code: 'ar', isDefault: false },
    { code: 'de', isDefault: false },
  ], 'the default, then by code')

  await addLocale(app, admin, { code: 'fr-CA', name: 'Français (Canada)', isDefault: true })
  const list = await app.inject({ url: LOCALES, headers: admin.headers })
  t.same(list.json().data.map((l: { code: string }) => l.code), ['fr-CA', 'ar', 'de', 'en'])
  t.same(list.json().meta, { total: 4 })
})

t.test('a locale is created as given; a code taken in any letter case is a conflict', async (t) => {
  const { app, admin } = await setUp(t)
  const res = await app.inject({ method: 'POST', url: LOCALES, headers: admin.headers, payload: { code: 'pt-BR', name: 'Português' } })
  t.equal(res.statusCode, 201)
  t.match(res.json().data, { code: 'pt-BR', name: 'Português', isDefault: false })
  t.ok(!Number.isNaN(Date.parse(res.json().data.createdAt)))

  for (const code of ['pt-BR', 'PT-br', 'EN']) {
    const duplicate = await app.inject({ method: 'POST', url: LOCALES, headers: admin.headers, payload: { code, name: 'Again' } })
    t.equal(duplicate.statusCode, 409, code)
    t.equal(duplicate.json().code, 'GUDANG_ERR_CONFLICT', code)
    t.match(duplicate.json().message, /exists/, code)
  }
  t.same(await codes(app, admin), [{ code: 'en', isDefault: true }, { code: 'pt-BR', isDefault: false }], 'nothing was added')
})

t.test('a new default replaces the old one: exactly one default afterwards', async (t) => {
  const { app, admin } = await setUp(t)
  const created = await addLocale(app, admin, { code: 'fr', name: 'French', isDefault: true })
  t.equal(created.isDefault, true, 'the answer shows it as the default')
  t.same(await codes(app, admin), [{ code: 'fr', isDefault: true }, { code: 'en', isDefault: false }])

  await addLocale(app, admin, { code: 'de', name: 'German', isDefault: false })
  const made = await app.inject({ method: 'PATCH', url: `${LOCALES}/de`, headers: admin.headers, payload: { isDefault: true } })
  t.equal(made.statusCode, 200)
  t.match(made.json().data, { code: 'de', name: 'German', isDefault: true })
  t.same(await codes(app, admin), [
    { code: 'de', isDefault: true },
    { code: 'en', isDefault: false },
    { code: 'fr', isDefault: false },
  ])

  const again = await app.inject({ method: 'PATCH', url: `${LOCALES}/de`, headers: admin.headers, payload: { isDefault: true } })
  t.equal(again.statusCode, 200, 'making the default the default changes nothing')
  t.equal((await codes(app, admin)).filter((l) => l.isDefault).length, 1)

  const undo = await app.inject({ method: 'PATCH', url: `${LOCALES}/de`, headers: admin.headers, payload: { isDefault: false } })
  t.equal(undo.statusCode, 400, 'a default is undone by choosing another')
  t.match(undo.json(), { code: 'GUDANG_ERR_VALIDATION', details: [{ in: 'body', path: '/isDefault' }] })
})

t.test('PATCH renames a locale; unknown locales are 404 and bad bodies 400', async (t) => {
  const { app, admin } = await setUp(t)
  await addLocale(app, admin, { code: 'fr', name: 'Francais' })
  const renamed = await app.inject({ method: 'PATCH', url: `${LOCALES}/fr`, headers: admin.headers, payload: { name: 'Français' } })
  t.equal(renamed.statusCode, 200)
  t.match(renamed.json().data, { code: 'fr', name: 'Français', isDefault: false })
  const list = await app.inject({ url: LOCALES, headers: admin.headers })
  t.equal(list.json().data[1].name, 'Français')
  t.equal(list.json().data[0].isDefault, true, 'renaming leaves the default alone')

  const missing = await app.inject({ method: 'PATCH', url: `${LOCALES}/it`, headers: admin.headers, payload: { name: 'Italiano' } })
  t.equal(missing.statusCode, 404)
  t.match(missing.json(), { code: 'GUDANG_ERR_NOT_FOUND', message: 'No locale "it"' })
  const makeMissingDefault = await app.inject({ method: 'PATCH', url: `${LOCALES}/it`, headers: admin.headers, payload: { isDefault: true } })
  t.equal(makeMissingDefault.statusCode, 404)
  t.same(await codes(app, admin), [{ code: 'en', isDefault: true }, { code: 'fr', isDefault: false }], 'the default is kept')

  const empty = await app.inject({ method: 'PATCH', url: `${LOCALES}/fr`, headers: admin.headers, payload: { name: '' } })
  t.equal(empty.statusCode, 400)
  t.match(empty.json().details, [{ in: 'body', path: '/name' }])
  const code = await app.inject({ method: 'PATCH', url: `${LOCALES}/fr`, headers: admin.headers, payload: { code: 'fr-FR' } })
  t.equal(code.statusCode, 400, 'a code is never changed')
  t.match(code.json().details, [{ in: 'body', path: '/code' }])
})

t.test('codes that are no language tag are refused', async (t) => {
  const { app, admin } = await setUp(t)
  for (const code of ['e', 'english', 'en_US', 'en-', '12', 'fr-CA-x-y-z-w', '']) {
    const res = await app.inject({ method: 'POST', url: LOCALES, headers: admin.headers, payload: { code, name: 'Bad' } })
    t.equal(res.statusCode, 400, code)
    t.match(res.json(), { code: 'GUDANG_ERR_VALIDATION', details: [{ in: 'body', path: '/code' }] }, code)
  }
  const noName = await app.inject({ method: 'POST', url: LOCALES, headers: admin.headers, payload: { code: 'it' } })
  t.equal(noName.statusCode, 400)
  t.match(noName.json().details, [{ in: 'body', path: '/name' }])
  const extra = await app.inject({ method: 'POST', url: LOCALES, headers: admin.headers, payload: { code: 'it', name: 'Italiano', rtl: true } })
  t.equal(extra.statusCode, 400)
  t.match(extra.json().details, [{ in: 'body', path: '/rtl' }])

  const badParam = await app.inject({ method: 'DELETE', url: `${LOCALES}/en_US`, headers: admin.headers })
  t.equal(badParam.statusCode, 400)
  t.match(badParam.json(), { code: 'GUDANG_ERR_VALIDATION', details: [{ in: 'params', path: '/code' }] })
  const badPatch = await app.inject({ method: 'PATCH', url: `${LOCALES}/x`, headers: admin.headers, payload: { name: 'X' } })
  t.equal(badPatch.statusCode, 400)
  t.same(await codes(app, admin), [{ code: 'en', isDefault: true }])
})

t.test('deleting: the default and a locale entries are written in are refused; others go', async (t) => {
  const { app, admin } = await setUp(t)
  await addLocale(app, admin, { code: 'fr', name: 'French' })
  await addLocale(app, admin, { code: 'de', name: 'German' })

  const theDefault = await app.inject({ method: 'DELETE', url: `${LOCALES}/en`, headers: admin.headers })
  t.equal(theDefault.statusCode, 409)
  t.match(theDefault.json(), { code: 'GUDANG_ERR_CONFLICT', message: /"en" is the default locale/ })

  const type = await app.inject({
    method: 'POST',
    url: TYPES,
    headers: admin.headers,
    payload: {
      apiId: 'article',
      kind: 'collection',
      singularName: 'Article',
      pluralName: 'Articles',
      localized: true,
      fields: [{ name: 'title', type: 'string' }],
    },
  })
  t.equal(type.statusCode, 201, type.body)
  for (const title of ['Un', 'Deux']) {
    const entry = await app.inject({
      method: 'POST',
      url: `${TYPES}/article/entries?locale=fr`,
      headers: admin.headers,
      payload: { data: { title } },
    })
    t.equal(entry.statusCode, 201, entry.body)
  }
  const inUse = await app.inject({ method: 'DELETE', url: `${LOCALES}/fr`, headers: admin.headers })
  t.equal(inUse.statusCode, 409)
  t.match(inUse.json(), { code: 'GUDANG_ERR_CONFLICT', message: '2 entries are written in "fr": delete them first' })
  t.same(inUse.json().details, { entries: 2 })

  const unknown = await app.inject({ method: 'DELETE', url: `${LOCALES}/it`, headers: admin.headers })
  t.equal(unknown.statusCode, 404)
  t.match(unknown.json(), { code: 'GUDANG_ERR_NOT_FOUND', message: 'No locale "it"' })

  const gone = await app.inject({ method: 'DELETE', url: `${LOCALES}/de`, headers: admin.headers })
  t.equal(gone.statusCode, 204)
  t.equal(gone.body, '')
  t.same(await codes(app, admin), [{ code: 'en', isDefault: true }, { code: 'fr', isDefault: false }])
  t.equal((await app.inject({ method: 'DELETE', url: `${LOCALES}/de`, headers: admin.headers })).statusCode, 404, 'only once')

  const makeFrDefault = await app.inject({ method: 'PATCH', url: `${LOCALES}/fr`, headers: admin.headers, payload: { isDefault: true } })
  t.equal(makeFrDefault.statusCode, 200)
  const formerDefault = await app.inject({ method: 'DELETE', url: `${LOCALES}/en`, headers: admin.headers })
  t.equal(formerDefault.statusCode, 204, 'the former default, unused, may go once another is the default')
  t.same(await codes(app, admin), [{ code: 'fr', isDefault: true }])
})

t.test('who may: content readers list, `settings` changes, anonymous callers are asked to sign in', async (t) => {
  const { app, admin } = await setUp(t)
  const editor = await signInAs(app, admin, 'editor')
  const list = await app.inject({ url: LOCALES, headers: editor.headers })
  t.equal(list.statusCode, 200, 'an Editor reads content, so reads the locales')
  t.equal(list.json().data[0].code, 'en')

  const attempts = [
    { method: 'POST' as const, url: LOCALES, payload: { code: 'fr', name: 'French' }, action: 'create' },
    { method: 'PATCH' as const, url: `${LOCALES}/en`, payload: { name: 'Anglais' }, action: 'update' },
    { method: 'DELETE' as const, url: `${LOCALES}/en`, action: 'delete' },
  ]
  for (const { action, ...request } of attempts) {
    const res = await app.inject({ ...request, headers: editor.headers })
    t.equal(res.statusCode, 403, `${request.method} by an Editor`)
    t.match(res.json(), {
      code: 'GUDANG_ERR_FORBIDDEN',
      message: `Missing permission settings:${action}`,
      details: { subject: 'settings', action },
    })
    const anonymous = await app.inject(request)
    t.equal(anonymous.statusCode, 401, `${request.method} anonymously`)
    t.equal(anonymous.json().code, 'GUDANG_ERR_UNAUTHENTICATED')
    t.equal(anonymous.headers['www-authenticate'], 'Bearer')
  }
  t.same(await codes(app, admin), [{ code: 'en', isDefault: true }], 'nothing changed')
  t.equal((await app.inject({ url: LOCALES, headers: admin.headers })).json().data[0].name, 'English')

  const anonymous = await app.inject({ url: LOCALES })
  t.equal(anonymous.statusCode, 401, 'the Public role reads nothing yet')
  const role = await app.inject({
    method: 'POST',
    url: '/api/admin/roles',
    headers: admin.headers,
    payload: { name: 'Translator manager', permissions: [{ subject: 'settings', action: 'create' }] },
  })
  t.equal(role.statusCode, 201, role.body)
  const manager = await signInAs(app, admin, 'Translator manager')
  const noRead = await app.inject({ url: LOCALES, headers: manager.headers })
  t.equal(noRead.statusCode, 403, 'listing needs read permission on some content')
  t.match(noRead.json(), { code: 'GUDANG_ERR_FORBIDDEN' })
  const added = await app.inject({ method: 'POST', url: LOCALES, headers: manager.headers, payload: { code: 'fr', name: 'French' } })
  t.equal(added.statusCode, 201, 'settings:create is enough to add one')

  await app.inject({
    method: 'PATCH',
    url: `/api/admin/roles/${await roleId(app, admin, 'public')}`,
    headers: admin.headers,
    payload: { permissions: [{ subject: 'content:article', action: 'read' }] },
  })
  const publicRead = await app.inject({ url: LOCALES })
  t.equal(publicRead.statusCode, 200, 'once the Public role reads some content, anyone lists the locales')
  t.same(publicRead.json().data.map((l: { code: string }) => l.code), ['en', 'fr'])
})
