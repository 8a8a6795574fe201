import { envSchema } from 'env-schema'
import { type Static, Type } from 'typebox'
import { EMAIL_PATTERN } from './schemas/common.js'

/**
 * Every setting Gudang reads, with its default. This module is the only reader of
 * `process.env`; `.env.example` and the README's configuration table list the same names.
 */
export const ConfigSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ minLength: 1, default: 'localhost' }),
  DATABASE_URL: Type.Optional(
    Type.String({
      pattern: '^postgres(ql)?://',
      description: 'PostgreSQL connection string; unset means the embedded database',
    }),
  ),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    default: 'info',
  }),
  GUDANG_DATA_DIR: Type.String({ minLength: 1, default: 'data/pglite' }),
  GUDANG_MIGRATE_ON_START: Type.Boolean({ default: true }),
  GUDANG_CORS_ORIGIN: Type.String({ minLength: 1, default: '*' }),
  GUDANG_BODY_LIMIT: Type.Integer({ minimum: 1, default: 1_048_576 }),
  GUDANG_TRUST_PROXY: Type.String({
    pattern: '^(true|false|[\\w.:/]+(\\s*,\\s*[\\w.:/]+)*)$',
    default: 'false',
    description: 'false, the proxies\' addresses or CIDRs (comma-separated; loopback, uniquelocal…), or true (any)',
  }),
  GUDANG_SHUTDOWN_TIMEOUT: Type.Integer({ minimum: 1, default: 10_000 }),
  GUDANG_JWT_SECRET: Type.Optional(
    Type.String({
      minLength: 32,
      description: 'Signs access tokens; unset means a random secret kept in the database',
    }),
  ),
  GUDANG_ACCESS_TOKEN_TTL: Type.Integer({ minimum: 1, default: 900 }),
  GUDANG_REFRESH_TOKEN_TTL: Type.Integer({ minimum: 1, default: 2_592_000 }),
  GUDANG_LOGIN_MAX_ATTEMPTS: Type.Integer({ minimum: 1, default: 10 }),
  GUDANG_LOGIN_MAX_ATTEMPTS_PER_IP: Type.Integer({ minimum: 1, default: 50 }),
  GUDANG_LOGIN_WINDOW: Type.Integer({ minimum: 1, default: 900 }),
  GUDANG_TRANSACTION_TIMEOUT: Type.Integer({ minimum: 100, default: 60_000, description: 'Milliseconds a transaction may take, waiting included' }),
  GUDANG_SCHEDULER_INTERVAL: Type.Integer({ minimum: 0, default: 10_000, description: 'Milliseconds between runs of due scheduled jobs; 0: none' }),
  GUDANG_ENTRY_VERSIONS: Type.Integer({ minimum: 1, default: 100, description: 'Versions kept per entry and locale' }),
  GUDANG_READ_CACHE_TTL: Type.Integer({
    minimum: 0,
    default: 1000,
    description: 'Milliseconds the content model and the Public role\'s permissions are kept in memory; 0: read on every request',
  }),
  GUDANG_DELIVERY_MAX_PAGE_SIZE: Type.Integer({ minimum: 1, default: 100, description: 'The largest pageSize of the delivery API' }),
  GUDANG_DELIVERY_MAX_DEPTH: Type.Integer({ minimum: 1, default: 4, description: 'How many relations deep a delivery query may populate' }),
  GUDANG_RESPONSE_CACHE_SIZE: Type.Integer({
    minimum: 0,
    default: 16_777_216,
    description: 'Bytes of published delivery answers kept in memory, by ETag; 0: none',
  }),
  GUDANG_CACHE_MAX_AGE: Type.Integer({ minimum: 0, default: 0, description: 'Seconds browsers may keep published content (Cache-Control max-age)' }),
  GUDANG_CACHE_S_MAXAGE: Type.Integer({ minimum: 0, default: 60, description: 'Seconds CDNs may keep published content (s-maxage)' }),
  GUDANG_CACHE_STALE_WHILE_REVALIDATE: Type.Integer({ minimum: 0, default: 60, description: 'Seconds a stale answer may be served while revalidating' }),
  GUDANG_UPLOADS_DIR: Type.String({ minLength: 1, default: 'uploads', description: 'Where the local storage keeps media files' }),
  GUDANG_MEDIA_MAX_FILE_SIZE: Type.Integer({ minimum: 1, default: 52_428_800, description: 'Bytes one uploaded file may have' }),
  GUDANG_MEDIA_MAX_FILES: Type.Integer({ minimum: 1, default: 10, description: 'Files one upload request may carry' }),
  GUDANG_MEDIA_MAX_REQUEST_SIZE: Type.Integer({ minimum: 1, default: 209_715_200, description: 'Bytes one upload request may carry' }),
  GUDANG_MEDIA_ALLOWED_KINDS: Type.String({
    pattern: '^(image|video|audio|file)(,(image|video|audio|file))*$',
    default: 'image,video,audio,file',
    description: 'The kinds of file that may be uploaded (comma-separated)',
  }),
  GUDANG_MEDIA_MAX_PIXELS: Type.Integer({ minimum: 1, default: 100_000_000, description: 'Pixels an uploaded image may have (width × height)' }),
  GUDANG_MEDIA_CONCURRENCY: Type.Integer({ minimum: 1, default: 2, description: 'Images processed at once; the others wait their turn' }),
  GUDANG_MEDIA_WIDTHS: Type.String({
    pattern: '^[1-9]\\d{0,4}(,[1-9]\\d{0,4})*$',
    default: '64,128,256,320,480,640,768,1024,1280,1600,1920,2560',
    description: 'The widths and heights a rendition may have; also the widths of a srcset',
  }),
  GUDANG_MEDIA_QUALITY: Type.Integer({ minimum: 1, maximum: 100, default: 80, description: 'The quality of renditions that do not ask for one' }),
  GUDANG_MEDIA_KEEP_METADATA: Type.Boolean({ default: false, description: 'Serve images with their EXIF data (location included); false strips it' }),
  GUDANG_WEBHOOK_INTERVAL: Type.Integer({ minimum: 0, default: 1000, description: 'Milliseconds between checks for due webhook deliveries; 0: none on this instance' }),
  GUDANG_WEBHOOK_CONCURRENCY: Type.Integer({ minimum: 1, default: 4, description: 'Webhook calls one instance makes at once' }),
  GUDANG_WEBHOOK_TIMEOUT: Type.Integer({ minimum: 100, default: 10_000, description: 'Milliseconds a receiver has to answer a call' }),
  GUDANG_WEBHOOK_MAX_ATTEMPTS: Type.Integer({ minimum: 1, default: 10, description: 'Calls of one delivery before it fails for good' }),
  GUDANG_WEBHOOK_RETRY_DELAY: Type.Integer({ minimum: 1, default: 30_000, description: 'Milliseconds before the first retry; each next one waits twice as long (with jitter)' }),
  GUDANG_WEBHOOK_RETRY_MAX_DELAY: Type.Integer({ minimum: 1, default: 3_600_000, description: 'The longest wait between two calls of a delivery' }),
  GUDANG_WEBHOOK_DISABLE_AFTER: Type.Integer({ minimum: 1, default: 5, description: 'Deliveries in a row that fail for good before the webhook is disabled' }),
  GUDANG_WEBHOOK_ALLOWED_HOSTS: Type.String({
    pattern: '^([\\w.*-]+(,[\\w.*-]+)*)?$',
    default: '',
    description: 'The hosts webhooks may call (comma-separated; `*.example.com` for subdomains); empty: any',
  }),
  GUDANG_WEBHOOK_ALLOWED_NETWORKS: Type.String({
    pattern: '^([\\da-fA-F.:/]+(,[\\da-fA-F.:/]+)*)?$',
    default: '',
    description: 'Private addresses or CIDRs webhooks may call anyway (`10.0.0.0/8,127.0.0.1`); others are refused',
  }),
  GUDANG_WEBHOOK_LOG_DAYS: Type.Integer({ minimum: 1, default: 30, description: 'Days finished webhook deliveries are kept in the log' }),
  GUDANG_ADMIN_EMAIL: Type.Optional(Type.String({ pattern: EMAIL_PATTERN })),
  GUDANG_ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 12, maxLength: 256 })),
})

export type Config = Static<typeof ConfigSchema>

/**
 * Fastify's `trustProxy` from GUDANG_TRUST_PROXY. `true` trusts every hop, so a client could
 * choose its own address (X-Forwarded-For); naming the proxies' addresses cannot be fooled.
 */
export function trustProxy(value: string): boolean | string {
  return value === 'true' || value === 'false' ? value === 'true' : value
}

export interface LoadConfigOptions {
  /** Values that take precedence over the environment (tests pass everything here). */
  values?: Record<string, unknown>
  /** Read `process.env` and a `.env` file in the working directory. */
  fromEnvironment?: boolean
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

interface ConfigIssue {
  instancePath: string
  message: string
  params: { allowedValues?: unknown[] }
}

function describe(issue: ConfigIssue): string {
  const allowed = issue.params.allowedValues ? `: ${issue.params.allowedValues.join(', ')}` : ''
  return `${issue.instancePath.slice(1)} ${issue.message}${allowed}`
}

/** Validates the configuration; a bad value throws a ConfigError that names the variable. */
export function loadConfig({ values = {}, fromEnvironment = true }: LoadConfigOptions = {}): Config {
  let config: Config
  try {
    config = envSchema<Config>({ schema: ConfigSchema, data: values, env: fromEnvironment, dotenv: fromEnvironment })
  } catch (error) {
    const issues = (error as { errors?: ConfigIssue[] }).errors
    // Not a validation error: an unreadable .env file, say.
    if (issues === undefined) throw error
    throw new ConfigError(`invalid configuration: ${issues.map(describe).join('; ')}`)
  }
  // The value is not repeated: it may hold a password.
  if (config.DATABASE_URL !== undefined && !URL.canParse(config.DATABASE_URL)) {
    throw new ConfigError(
      'invalid configuration: DATABASE_URL is not a valid URL (percent-encode special characters in the password; '
      + 'for a Unix socket: postgresql://user@localhost/db?host=/run/postgresql)',
    )
  }
  if ((config.GUDANG_ADMIN_EMAIL === undefined) !== (config.GUDANG_ADMIN_PASSWORD === undefined)) {
    throw new ConfigError('invalid configuration: GUDANG_ADMIN_EMAIL and GUDANG_ADMIN_PASSWORD go together')
  }
  return config
}
