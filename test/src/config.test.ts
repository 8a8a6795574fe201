import t from 'tap'
import { ConfigError, loadConfig, trustProxy } from '../../src/config.js'

const load = (values: Record<string, unknown>) => loadConfig({ values, fromEnvironment: false })

t.test('every setting has a default, and no database URL means the embedded database', async (t) => {
  const config = load({})
  t.same(config, {
    PORT: 3000,
    HOST: 'localhost',
    LOG_LEVEL: 'info',
    GUDANG_DATA_DIR: 'data/pglite',
    GUDANG_MIGRATE_ON_START: true,
    GUDANG_CORS_ORIGIN: '*',
    GUDANG_BODY_LIMIT: 1_048_576,
    GUDANG_TRUST_PROXY: 'false',
    GUDANG_SHUTDOWN_TIMEOUT: 10_000,
    GUDANG_ACCESS_TOKEN_TTL: 900,
    GUDANG_REFRESH_TOKEN_TTL: 2_592_000,
    GUDANG_LOGIN_MAX_ATTEMPTS: 10,
    GUDANG_LOGIN_MAX_ATTEMPTS_PER_IP: 50,
    GUDANG_LOGIN_WINDOW: 900,
    GUDANG_ENTRY_VERSIONS: 100,
    GUDANG_TRANSACTION_TIMEOUT: 60_000,
    GUDANG_SCHEDULER_INTERVAL: 10_000,
    GUDANG_READ_CACHE_TTL: 1000,
    GUDANG_DELIVERY_MAX_PAGE_SIZE: 100,
    GUDANG_DELIVERY_MAX_DEPTH: 4,
    GUDANG_RESPONSE_CACHE_SIZE: 16_777_216,
    GUDANG_CACHE_MAX_AGE: 0,
    GUDANG_CACHE_S_MAXAGE: 60,
    GUDANG_CACHE_STALE_WHILE_REVALIDATE: 60,
    GUDANG_UPLOADS_DIR: 'uploads',
    GUDANG_MEDIA_MAX_FILE_SIZE: 52_428_800,
    GUDANG_MEDIA_MAX_FILES: 10,
    GUDANG_MEDIA_MAX_REQUEST_SIZE: 209_715_200,
    GUDANG_MEDIA_ALLOWED_KINDS: 'image,video,audio,file',
    GUDANG_MEDIA_MAX_PIXELS: 100_000_000,
    GUDANG_MEDIA_CONCURRENCY: 2,
    GUDANG_MEDIA_WIDTHS: '64,128,256,320,480,640,768,1024,1280,1600,1920,2560',
    GUDANG_MEDIA_QUALITY: 80,
    GUDANG_MEDIA_KEEP_METADATA: false,
    GUDANG_WEBHOOK_INTERVAL: 1000,
    GUDANG_WEBHOOK_CONCURRENCY: 4,
    GUDANG_WEBHOOK_TIMEOUT: 10_000,
    GUDANG_WEBHOOK_MAX_ATTEMPTS: 10,
    GUDANG_WEBHOOK_RETRY_DELAY: 30_000,
    GUDANG_WEBHOOK_RETRY_MAX_DELAY: 3_600_000,
    GUDANG_WEBHOOK_DISABLE_AFTER: 5,
    GUDANG_WEBHOOK_ALLOWED_HOSTS: '',
    GUDANG_WEBHOOK_ALLOWED_NETWORKS: '',
    GUDANG_WEBHOOK_LOG_DAYS: 30,
  })
})

t.test('the first administrator needs an email and a password of 12 characters or more, together', async (t) => {
  const both = load({ GUDANG_ADMIN_EMAIL: 'admin@example.com', GUDANG_ADMIN_PASSWORD: 'twelve chars' })
  t.equal(both.GUDANG_ADMIN_EMAIL, 'admin@example.com')
  t.throws(() => load({ GUDANG_ADMIN_EMAIL: 'admin@example.com' }), {
    name: 'ConfigError',
    message: 'invalid configuration: GUDANG_ADMIN_EMAIL and GUDANG_ADMIN_PASSWORD go together',
  })
  t.throws(() => load({ GUDANG_ADMIN_PASSWORD: 'twelve chars' }), { message: /go together/ })
  t.throws(() => load({ GUDANG_ADMIN_EMAIL: 'admin@example.com', GUDANG_ADMIN_PASSWORD: 'short' }), {
    message: /GUDANG_ADMIN_PASSWORD must NOT have fewer than 12 characters/,
  })
  t.throws(() => load({ GUDANG_ADMIN_EMAIL: 'admin', GUDANG_ADMIN_PASSWORD: 'twelve chars' }), {
    message: /GUDANG_ADMIN_EMAIL must match pattern/,
  })
})

t.test('a JWT secret must be long enough to resist guessing', async (t) => {
  t.throws(() => load({ GUDANG_JWT_SECRET: 'secret' }), { message: /GUDANG_JWT_SECRET must NOT have fewer than 32 characters/ })
})

t.test('values given as environment strings are converted', async (t) => {
  const config = load({
    PORT: '8080',
    GUDANG_MIGRATE_ON_START: 'false',
    DATABASE_URL: 'postgresql://u@db:5432/cms',
  })
  t.equal(config.PORT, 8080)
  t.equal(config.GUDANG_MIGRATE_ON_START, false)
  t.equal(config.DATABASE_URL, 'postgresql://u@db:5432/cms')
})

t.test('a bad value stops the start with a message naming the variable', async (t) => {
  t.throws(() => load({ PORT: 'eighty' }), new ConfigError('invalid configuration: PORT must be integer'))
  t.throws(() => load({ DATABASE_URL: 'mysql://localhost/x' }), {
    name: 'ConfigError',
    message: /DATABASE_URL/,
  })
  t.throws(() => load({ LOG_LEVEL: 'loud' }), {
    message:
      'invalid configuration: LOG_LEVEL must be equal to one of the allowed values: fatal, error, warn, info, debug, trace, silent',
  })
  t.throws(() => load({ PORT: 70000, GUDANG_BODY_LIMIT: 0 }), { message: /PORT .*; GUDANG_BODY_LIMIT/ })
})

t.test('a DATABASE_URL that is no URL is refused without repeating it', async (t) => {
  const error = t.throws(() => load({ DATABASE_URL: 'postgresql://gudang:pa#ss@db/cms' }))
  t.match(error, {
    name: 'ConfigError',
    message: /^invalid configuration: DATABASE_URL is not a valid URL \(percent-encode special characters/,
  })
  t.notMatch(String(error), /pa#ss/)
})

t.test('an unreadable .env file is reported as such', async (t) => {
  const cwd = process.cwd()
  process.chdir(t.testdir({ '.env': {} }))
  t.teardown(() => process.chdir(cwd))
  t.throws(() => loadConfig(), { code: 'EISDIR' })
})

t.test('unknown variables are ignored', async (t) => {
  t.notOk('SOMETHING_ELSE' in load({ SOMETHING_ELSE: 'x' }))
})

t.test('GUDANG_TRUST_PROXY takes the proxies\' addresses, as well as true and false', async (t) => {
  t.equal(trustProxy(load({}).GUDANG_TRUST_PROXY), false)
  t.equal(trustProxy(load({ GUDANG_TRUST_PROXY: 'true' }).GUDANG_TRUST_PROXY), true)
  t.equal(trustProxy(load({ GUDANG_TRUST_PROXY: 'loopback' }).GUDANG_TRUST_PROXY), 'loopback')
  t.equal(trustProxy(load({ GUDANG_TRUST_PROXY: '10.0.0.0/8, ::1' }).GUDANG_TRUST_PROXY), '10.0.0.0/8, ::1')
  t.throws(() => load({ GUDANG_TRUST_PROXY: 'yes please' }), { message: /GUDANG_TRUST_PROXY must match pattern/ })
})
