import t from 'tap'
import { ADMIN, bearer, build, buildWithAdmin, login, signInAs } from '../helper.js'

t.test('login answers an access token, a refresh token and the user, without any hash', async (t) => {
  const app = await buildWithAdmin(t)
  const res = await app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email: 'ADMIN@Example.COM', password: ADMIN.password },
  })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  const { data } = res.json()
  t.match(data, {
    accessToken: /^[\w-]+\.[\w-]+\.[\w-]+$/,
    tokenType: 'Bearer',
    expiresIn: 900,
    refreshToken: /^gdr_[\w-]{43}$/,
    refreshTokenExpiresAt: String,
    user: { email: ADMIN.email, displayName: 'Administrator', isActive: true, role: { key: 'administrator' } },
  })
  t.notOk('passwordHash' in data.user)
  t.notMatch(res.body, /scrypt/)
  const stored = await app.prisma.refreshToken.findMany()
  t.equal(stored.length, 1)
  t.not(stored[0]?.tokenHash, data.refreshToken, 'only a hash of the refresh token is stored')
})

t.test('a wrong password, an unknown email and a disabled account answer alike', async (t) => {
  const app = await buildWithAdmin(t)
  const admin = await login(app)
  const editor = await signInAs(app, admin, 'editor')
  await app.inject({ method: 'PATCH', url: `/api/admin/users/${editor.user.id}`, headers: admin.headers, payload: { isActive: false } })
  const attempts = [
    { email: ADMIN.email, password: 'wrong password' },
    { email: 'nobody@example.com', password: ADMIN.password },
    { email: editor.user.email, password: 'a long enough password' },
  ]
  const answers = []
  for (const payload of attempts) {
    const res = await app.inject({ method: 'POST', url: '/auth/login', payload })
    t.equal(res.statusCode, 401)
    const { statusCode, code, error, message } = res.json()
    answers.push({ statusCode, code, error, message, keys: Object.keys(res.json()) })
  }
  t.same(answers[1], answers[0])
  t.same(answers[2], answers[0])
  t.match(answers[0], { code: 'GUDANG_ERR_INVALID_CREDENTIALS', message: 'Wrong email or password' })
})

t.test('login validates its body', async (t) => {
  const app = await buildWithAdmin(t)
  const res = await app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'not-an-email', extra: 1 } })
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'GUDANG_ERR_VALIDATION')
  const paths = res.json().details.map((d: { in: string, path: string }) => `${d.in} ${d.path}`).sort()
  t.same(paths, ['body /email', 'body /extra', 'body /password'])
})

t.test('login is limited per account: past the limit it answers 429, even with the right password', async (t) => {
  const app = await buildWithAdmin(t, { GUDANG_LOGIN_MAX_ATTEMPTS: 3 })
  for (let attempt = 1; attempt <= 3; attempt++) {
    const res = await app.inject({ method: 'POST', url: '/auth/login', payload: { email: ADMIN.email, password: 'guess number x' } })
    t.equal(res.statusCode, 401, `attempt ${attempt}`)
  }
  const limited = await app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'Admin@Example.com', password: ADMIN.password } })
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().code, 'GUDANG_ERR_TOO_MANY_REQUESTS')
  t.ok(Number(limited.headers['retry-after']) > 0)
  const other = await app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'other@example.com', password: 'x' } })
  t.equal(other.statusCode, 401, 'another account is not limited')
})

t.test('successful logins do not count against the account', async (t) => {
  const app = await buildWithAdmin(t, { GUDANG_LOGIN_MAX_ATTEMPTS: 2 })
  for (let attempt = 1; attempt <= 3; attempt++) await login(app)
  const wrong = () => app.inject({ method: 'POST', url: '/auth/login', payload: { email: ADMIN.email, password: 'wrong guess' } })
  t.equal((await wrong()).statusCode, 401)
  t.equal((await wrong()).statusCode, 401)
  t.equal((await wrong()).statusCode, 429, 'the failures do')
})

t.test('guessing the current password when changing it is limited too', async (t) => {
  const app = await buildWithAdmin(t, { GUDANG_LOGIN_MAX_ATTEMPTS: 2 })
  const session = await login(app)
  const change = (currentPassword: string) => app.inject({
    method: 'PUT',
    url: '/auth/me/password',
    headers: session.headers,
    payload: { currentPassword, newPassword: 'a brand new password' },
  })
  t.equal((await change('guess one')).statusCode, 400)
  t.equal((await change('guess two')).statusCode, 400)
  const limited = await change(ADMIN.password)
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().code, 'GUDANG_ERR_TOO_MANY_REQUESTS')
  await login(app, ADMIN.email, ADMIN.password)
})

t.test('login is limited per IP across accounts', async (t) => {
  const app = await buildWithAdmin(t, { GUDANG_LOGIN_MAX_ATTEMPTS_PER_IP: 2 })
  for (const email of ['a@example.com', 'b@example.com']) {
    t.equal((await app.inject({ method: 'POST', url: '/auth/login', payload: { email, password: 'x' } })).statusCode, 401)
  }
  const limited = await app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'c@example.com', password: 'x' } })
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().code, 'GUDANG_ERR_TOO_MANY_REQUESTS')
  const elsewhere = await app.inject({
    method: 'POST',
    url: '/auth/login',
    remoteAddress: '192.0.2.7',
    payload: { email: ADMIN.email, password: ADMIN.password },
  })
  t.equal(elsewhere.statusCode, 200, 'another IP is not limited')
})

t.test('refresh rotates the refresh token; presenting a used one revokes the whole session', async (t) => {
  const app = await buildWithAdmin(t)
  const first = await login(app)
  const refresh = (refreshToken: string) => app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken } })

  const second = await refresh(first.refreshToken)
  t.equal(second.statusCode, 200)
  const rotated = second.json().data
  t.not(rotated.refreshToken, first.refreshToken)
  t.match(rotated.user, { email: ADMIN.email })
  t.equal((await app.inject({ url: '/auth/me', headers: bearer(rotated.accessToken) })).statusCode, 200)

  const reuse = await refresh(first.refreshToken)
  t.equal(reuse.statusCode, 401)
  t.match(reuse.json(), { code: 'GUDANG_ERR_INVALID_TOKEN', message: /already used; the session is revoked/ })
  const afterTheft = await refresh(rotated.refreshToken)
  t.equal(afterTheft.statusCode, 401, 'the newest refresh token of the chain is revoked too')
  t.equal((await app.inject({ url: '/auth/me', headers: bearer(rotated.accessToken) })).statusCode, 401, 'and its access tokens')
  t.equal((await app.inject({ url: '/auth/me', headers: first.headers })).statusCode, 401)

  const other = await login(app)
  t.equal((await refresh(other.refreshToken)).statusCode, 200, 'another session is not affected')
})

t.test('an expired or unknown refresh token is refused', async (t) => {
  const app = await buildWithAdmin(t)
  const session = await login(app)
  await app.prisma.refreshToken.updateMany({ data: { expiresAt: new Date(Date.now() - 1000) } })
  const expired = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: session.refreshToken } })
  t.equal(expired.statusCode, 401)
  t.match(expired.json(), { code: 'GUDANG_ERR_INVALID_TOKEN', message: /expired/ })
  const unknown = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: 'gdr_nothing' } })
  t.equal(unknown.statusCode, 401)
  t.match(unknown.json(), { code: 'GUDANG_ERR_INVALID_TOKEN', message: /unknown or revoked/ })
})

t.test('logout revokes the session: its refresh and access tokens stop at once', async (t) => {
  const app = await buildWithAdmin(t)
  const session = await login(app)
  const other = await login(app)
  const res = await app.inject({ method: 'POST', url: '/auth/logout', payload: { refreshToken: session.refreshToken } })
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')
  t.equal((await app.inject({ url: '/auth/me', headers: session.headers })).statusCode, 401)
  const refresh = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: session.refreshToken } })
  t.equal(refresh.statusCode, 401)
  t.equal((await app.inject({ url: '/auth/me', headers: other.headers })).statusCode, 200, 'other sessions continue')
  const again = await app.inject({ method: 'POST', url: '/auth/logout', payload: { refreshToken: session.refreshToken } })
  t.equal(again.statusCode, 204, 'logging out twice is no error')
  const unknown = await app.inject({ method: 'POST', url: '/auth/logout', payload: { refreshToken: 'gdr_unknown' } })
  t.equal(unknown.statusCode, 204)
})

t.test('GET /auth/me answers the user with the permissions of their role', async (t) => {
  const app = await buildWithAdmin(t)
  const admin = await login(app)
  const author = await signInAs(app, admin, 'author')
  const res = await app.inject({ url: '/auth/me', headers: author.headers })
  t.equal(res.statusCode, 200)
  const { data } = res.json()
  t.match(data, { id: author.user.id, email: author.user.email, role: { key: 'author', name: 'Author' } })
  t.notOk('passwordHash' in data)
  t.match(data.role.permissions, [])
  t.ok(data.role.permissions.some((p: object) =>
    JSON.stringify(p) === JSON.stringify({ subject: 'content:*', action: 'update', ownOnly: true, fields: null })))
  t.notOk(data.role.permissions.some((p: { action: string }) => p.action === 'publish'), 'authors do not publish')
})

t.test('users change their own password; their other sessions end', async (t) => {
  const app = await buildWithAdmin(t)
  const here = await login(app)
  const elsewhere = await login(app)
  const change = (payload: object) => app.inject({ method: 'PUT', url: '/auth/me/password', headers: here.headers, payload })

  const wrong = await change({ currentPassword: 'not my password', newPassword: 'a brand new password' })
  t.equal(wrong.statusCode, 400)
  t.match(wrong.json(), { code: 'GUDANG_ERR_WRONG_PASSWORD', details: [{ path: '/currentPassword' }] })
  const short = await change({ currentPassword: ADMIN.password, newPassword: 'short' })
  t.equal(short.statusCode, 400)
  t.match(short.json().details, [{ path: '/newPassword' }])
  t.equal((await app.inject({ url: '/auth/me', headers: elsewhere.headers })).statusCode, 200, 'refused changes end nothing')

  t.equal((await change({ currentPassword: ADMIN.password, newPassword: 'a brand new password' })).statusCode, 204)
  t.equal((await app.inject({ url: '/auth/me', headers: here.headers })).statusCode, 200, 'this session continues')
  t.equal((await app.inject({ url: '/auth/me', headers: elsewhere.headers })).statusCode, 401, 'the others end')
  const old = await app.inject({ method: 'POST', url: '/auth/login', payload: { email: ADMIN.email, password: ADMIN.password } })
  t.equal(old.statusCode, 401)
  await login(app, ADMIN.email, 'a brand new password')
})

t.test('the first administrator is created once, on the first start of an empty database', async (t) => {
  const app = await build(t)
  await app.ready()
  t.equal(await app.prisma.user.count(), 0, 'without GUDANG_ADMIN_EMAIL, nobody')
  // Two instances starting at once: both find no user, then take turns.
  await Promise.all([app.users.bootstrap(ADMIN.email, ADMIN.password), app.users.bootstrap('other@example.com', ADMIN.password)])
  t.equal(await app.prisma.user.count(), 1)
  await app.users.bootstrap('third@example.com', ADMIN.password)
  t.equal(await app.prisma.user.count(), 1, 'a database with users gets no second one')
})

t.test('token lifetimes come from the configuration', async (t) => {
  const app = await buildWithAdmin(t, { GUDANG_ACCESS_TOKEN_TTL: 60, GUDANG_REFRESH_TOKEN_TTL: 3600 })
  const before = Date.now()
  const res = await app.inject({ method: 'POST', url: '/auth/login', payload: { email: ADMIN.email, password: ADMIN.password } })
  const { accessToken, expiresIn, refreshTokenExpiresAt } = res.json().data
  t.equal(expiresIn, 60)
  const claims = JSON.parse(Buffer.from(String(accessToken.split('.')[1]), 'base64url').toString())
  t.equal(claims.exp - claims.iat, 60, 'the access token says so too')
  // An hour from some moment of the request, however slow the machine.
  const expires = Date.parse(refreshTokenExpiresAt)
  t.ok(expires >= before + 3_600_000 - 1000 && expires <= Date.now() + 3_600_000, `the refresh token lives an hour (${expires - before} ms)`)
})

t.test('rotation prunes the session\'s expired refresh tokens', async (t) => {
  const app = await buildWithAdmin(t)
  const first = await login(app)
  const second = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: first.refreshToken } })
  t.equal(await app.prisma.refreshToken.count(), 2, 'the used token is kept to recognise its reuse')
  const past = new Date(Date.now() - 1000)
  await app.prisma.refreshToken.updateMany({ where: { usedAt: { not: null } }, data: { expiresAt: past } })
  const refreshToken = second.json().data.refreshToken
  const third = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken } })
  t.equal(third.statusCode, 200)
  t.equal(await app.prisma.refreshToken.count(), 2, 'the expired one is gone; the one just used and the new one stay')
})
