import { once } from 'node:events'
import path from 'node:path'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { cliRunner } from '../cli-runner.js'
import { testConfig } from '../helper.js'

const { workdir, gudang, runProcess, databaseEnv, runHere } = cliRunner(t)

t.test('admin create makes an administrator who can sign in; the password is asked for when not given', async (t) => {
  const env = await databaseEnv(t)
  const child = gudang(['admin', 'create', '--email', 'Boss@Example.com', '--name', 'The Boss'], env)
  child.stdin?.end('a long password here\n')
  const [code] = await once(child, 'exit')
  t.equal(code, 0, child.output())
  t.match(child.output(), /Password \(12 characters or more\): /)
  t.match(child.output(), /Created the administrator boss@example\.com/)

  const again = await runProcess(['admin', 'create', '--email', 'boss@example.com', '--password', 'another long one'], env)
  t.equal(again.code, 2)
  t.match(again.output, /A user with the email boss@example\.com exists already/)

  const dataDir = env.GUDANG_DATA_DIR === undefined ? {} : { GUDANG_DATA_DIR: path.join(workdir, env.GUDANG_DATA_DIR) }
  const app = buildApp(testConfig({ ...env, ...dataDir }), { logger: false })
  t.teardown(() => app.close())
  const login = await app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email: 'boss@example.com', password: 'a long password here' },
  })
  t.equal(login.statusCode, 200, login.body)
  t.match(login.json().data.user, { displayName: 'The Boss', role: { key: 'administrator' } })
})

t.test('admin create refuses a missing email and a short password before touching the database', async (t) => {
  const noEmail = await runHere(t, ['admin', 'create', '--password', 'a long password here'])
  t.equal(noEmail.code, 2)
  t.match(noEmail.output, /admin create needs --email <email>/)
  const short = await runHere(t, ['admin', 'create', '--email', 'a@example.com', '--password', 'short'])
  t.equal(short.code, 2)
  t.match(short.output, /12 to 256 characters/)
})
