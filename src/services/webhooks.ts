import { createHmac, randomBytes } from 'node:crypto'
import http from 'node:http'
import https from 'node:https'
import dns from 'node:dns'
import { isIP, type LookupFunction, type TcpNetConnectOpts } from 'node:net'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import ipaddr from 'ipaddr.js'
import type { Config } from '../config.js'
import { ConflictError, invalid, NotFoundError } from '../errors.js'
import { Prisma, type Webhook } from '../generated/prisma/client.js'
import { type Actor, audit, type AuditRecord } from './audit.js'

/** What a webhook can be told about. */
export const WEBHOOK_EVENTS = [
  'entry.create', 'entry.update', 'entry.delete', 'entry.publish', 'entry.unpublish',
  'media.create', 'media.update', 'media.delete',
  'content-type.create', 'content-type.update', 'content-type.delete',
  'component.create', 'component.update', 'component.delete',
] as const
export type WebhookEventName = (typeof WEBHOOK_EVENTS)[number]

/** The changes (audit actions) that are events, and the event each one is. */
const EVENT_OF: Partial<Record<string, WebhookEventName | 'webhook.ping'>> = {
  ...Object.fromEntries(WEBHOOK_EVENTS.map((event) => [event, event])),
  'entry.restore': 'entry.update',
  'entry.discard': 'entry.update',
  'media.replace': 'media.update',
}

/** Bytes of a receiver's answer kept in the attempt log; the rest is not read. */
const EXCERPT_BYTES = 1024
/** A debounced call waits while events keep coming, but never more than this many debounce periods after the first. */
const DEBOUNCE_CAP = 10
/** Headers Gudang sets on every call, which a webhook's own headers cannot replace. */
const RESERVED_HEADERS = new RegExp('^(content-(type|length|encoding)|host|connection|keep-alive|transfer-encoding'
  + '|te|trailer|upgrade|expect|user-agent|webhook-.*|proxy-.*)$', 'i')
const USER_AGENT = 'Gudang-Webhooks/1'
const SECRET_PREFIX = 'whsec_'

export interface WebhookInput {
  name: string
  url: string
  events: WebhookEventName[]
  contentTypes?: string[]
  locales?: string[]
  headers?: Record<string, string>
  enabled?: boolean
  debounceSeconds?: number
  secret?: string
}

export function newSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64')
}

/**
 * The `webhook-signature` header (Standard Webhooks, https://www.standardwebhooks.com):
 * HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` with the secret's key, base64.
 */
export function signature(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64')
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`
}

/** Writes a change's event to the outbox, in the change's transaction, for every webhook that wants it. */
export async function enqueue(tx: Prisma.TransactionClient, record: AuditRecord): Promise<void> {
  const event = EVENT_OF[record.action]
  if (event === undefined) return
  const { subject, details, content } = record
  const contentType = subject.startsWith('content:') ? subject.slice('content:'.length) : details.apiId ?? null
  const locale = details.locale ?? null
  const wanted = Prisma.sql`
    SELECT id, debounce_seconds FROM webhooks
    WHERE enabled AND ${event} = ANY(events)
      AND (cardinality(content_types) = 0 OR ${contentType}::text IS NULL OR ${contentType} = ANY(content_types))
      AND (cardinality(locales) = 0 OR ${locale}::text IS NULL OR ${locale} = ANY(locales))`
  const payload = content === undefined ? details : { ...details, data: content }
  await outbox(tx, wanted, { event, contentType, locale, payload })
}

/**
 * The event once, and a delivery for each webhook of `hooks`: nothing when no webhook wants
 * it. Only inserts: a change locks no row its webhooks share with other changes. A debounced
 * webhook's delivery stays `open` until the worker gathers its burst into one call.
 */
async function outbox(
  tx: Prisma.TransactionClient,
  hooks: Prisma.Sql,
  event: { event: string, contentType: unknown, locale: unknown, payload: Prisma.InputJsonObject },
): Promise<{ id: string }[]> {
  return tx.$queryRaw`
    WITH hooks AS (${hooks}),
    happened AS (
      INSERT INTO webhook_events (id, event, content_type, locale, payload)
      SELECT gen_random_uuid(), ${event.event}, ${event.contentType}::text, ${event.locale}::text, ${JSON.stringify(event.payload)}::jsonb
      WHERE EXISTS (SELECT 1 FROM hooks)
      RETURNING id)
    INSERT INTO webhook_deliveries (id, webhook_id, event_id, open, next_attempt_at)
    SELECT gen_random_uuid(), hooks.id, happened.id, hooks.debounce_seconds > 0, now() + make_interval(secs => hooks.debounce_seconds)
    FROM hooks, happened
    RETURNING id`
}

/** What came of one call. */
interface Outcome {
  statusCode?: number
  error?: string
  response?: string
}

/** The hosts and private networks webhooks may call (GUDANG_WEBHOOK_ALLOWED_HOSTS, …_NETWORKS). */
function targets(config: Config) {
  const list = (value: string) => value.split(',').filter((item) => item !== '')
  const hosts = list(config.GUDANG_WEBHOOK_ALLOWED_HOSTS).map((host) => host.toLowerCase())
  const networks = list(config.GUDANG_WEBHOOK_ALLOWED_NETWORKS).map((network) => {
    if (ipaddr.isValid(network)) return ipaddr.parseCIDR(`${network}/${ipaddr.parse(network).kind() === 'ipv4' ? 32 : 128}`)
    try {
      return ipaddr.parseCIDR(network)
    } catch {
      throw new Error(`GUDANG_WEBHOOK_ALLOWED_NETWORKS: "${network}" is neither an address nor a CIDR`)
    }
  })
  /** Why an address may not be called, or undefined: private, loopback, reserved… unless allowed. */
  const refusedAddress = (literal: string): string | undefined => {
    const address = ipaddr.process(literal)
    const allowed = networks.some(([net, bits]) => address.kind() === net.kind() && address.match(net, bits))
    return address.range() === 'unicast' || allowed
      ? undefined
      : `${literal} is a private or reserved address; GUDANG_WEBHOOK_ALLOWED_NETWORKS may allow it`
  }
  return {
    /**
     * dns.lookup, refusing the addresses webhooks may not reach. It runs as the connection is
     * made, so a name cannot resolve to one address when checked and another when called.
     */
    lookup: ((hostname, options, callback) => {
      dns.lookup(hostname, { ...options, all: false }, (error, address, family) => {
        const refused = error === null ? refusedAddress(address) : undefined
        callback(refused === undefined ? error : new Error(`${hostname}: ${refused}`), address, family)
      })
    }) as LookupFunction,

    /** Why a URL may not be called, or undefined. Names are checked again, resolved, at each call. */
    refusal(url: URL): string | undefined {
      const host = url.hostname.toLowerCase()
      const listed = hosts.length === 0 || hosts.some((allowed) => allowed.startsWith('*.')
        ? host.endsWith(allowed.slice(1))
        : host === allowed)
      if (!listed) return `${host} is not among GUDANG_WEBHOOK_ALLOWED_HOSTS`
      const literal = host.replace(/^\[(.*)\]$/, '$1')
      return isIP(literal) === 0 ? undefined : refusedAddress(literal)
    },
  }
}

function checkUrl(refusal: (url: URL) => string | undefined, raw: string): void {
  let url: URL | undefined
  try {
    url = new URL(raw)
  } catch {
    // Below: not a URL.
  }
  const problem = url === undefined || !['http:', 'https:'].includes(url.protocol)
    ? 'must be an absolute http or https URL'
    : url.username !== '' || url.password !== ''
      ? 'must not carry credentials: send them in a header of the webhook\'s own'
      : refusal(url)
  if (problem !== undefined) throw invalid('This URL cannot be called', [{ in: 'body', path: '/url', message: problem }])
}

function checkHeaders(headers: Record<string, string>): void {
  const problems = Object.keys(headers)
    .filter((name) => RESERVED_HEADERS.test(name))
    .map((name) => ({ in: 'body' as const, path: `/headers/${name}`, message: 'is set by Gudang' }))
  if (problems.length > 0) throw invalid('These headers cannot be replaced', problems)
}

/** A webhook as the API shows it: without its secret. */
function present(webhook: Webhook) {
  const { secret, createdById, ...rest } = webhook
  return { ...rest, headers: webhook.headers as Record<string, string> }
}

/** A webhook with its secret: only when the secret is new. */
function revealed(webhook: Webhook) {
  return { ...present(webhook), secret: webhook.secret }
}

function createWebhooks(app: FastifyInstance) {
  const { prisma, config } = app
  const { lookup, refusal } = targets(config)
  // One address, resolved and checked by `lookup` (not several tried in turn).
  const connection: Pick<TcpNetConnectOpts, 'lookup' | 'autoSelectFamily'> = { lookup, autoSelectFamily: false }
  const leaseSeconds = Math.ceil(config.GUDANG_WEBHOOK_TIMEOUT / 1000) + 60

  async function find(id: string): Promise<Webhook> {
    const webhook = await prisma.webhook.findUnique({ where: { id } })
    if (webhook === null) throw new NotFoundError(`No webhook ${id}`)
    return webhook
  }

  /** The webhook, locked against deletion until the transaction ends; 404 if there is none. */
  async function held(tx: Prisma.TransactionClient, id: string): Promise<void> {
    const [found] = await tx.$queryRaw<unknown[]>`SELECT 1 FROM webhooks WHERE id = ${id}::uuid FOR SHARE`
    if (found === undefined) throw new NotFoundError(`No webhook ${id}`)
  }

  async function findDelivery(client: Prisma.TransactionClient, id: string, deliveryId: string) {
    const delivery = await client.webhookDelivery.findFirst({
      where: { id: deliveryId, webhookId: id },
      include: { event: true, log: { orderBy: { number: 'asc' } } },
    })
    if (delivery === null) throw new NotFoundError(`No delivery ${deliveryId} of webhook ${id}`)
    return delivery
  }

  async function change(id: string, changes: Partial<WebhookInput>, actor: Actor): Promise<Webhook> {
    if (changes.url !== undefined) checkUrl(refusal, changes.url)
    if (changes.headers !== undefined) checkHeaders(changes.headers)
    await find(id)
    return prisma.$transaction(async (tx) => {
      const enabling = changes.enabled === true ? { disabledReason: null, failedDeliveries: 0 } : {}
      const updated = await tx.webhook.update({ where: { id }, data: { ...changes, ...enabling } })
      // The secret itself stays out of the audit log.
      await audit(tx, { action: 'webhook.update', subject: 'webhooks', actor, details: { id, changed: Object.keys(changes).sort() } })
      return updated
    })
  }

  /**
   * Gathers each burst of a debounced webhook that is over (no event for its debounce period,
   * or the first DEBOUNCE_CAP periods ago) into one delivery: the last event's, counting them.
   * The webhooks are locked while this is done, so two instances never split a burst; one
   * statement sees the burst once, and an event committed meanwhile opens the next burst.
   */
  async function coalesce(): Promise<void> {
    await prisma.$transaction(async (tx) => {
      const over = await tx.$queryRaw<{ id: string }[]>`
        SELECT w.id FROM webhooks w
        JOIN (SELECT webhook_id, min(created_at) AS first, max(created_at) AS last
              FROM webhook_deliveries WHERE open GROUP BY webhook_id) burst ON burst.webhook_id = w.id
        WHERE w.enabled AND (burst.last + make_interval(secs => w.debounce_seconds) <= now()
          OR burst.first + make_interval(secs => w.debounce_seconds * ${DEBOUNCE_CAP}) <= now())
        FOR UPDATE OF w SKIP LOCKED`
      await tx.$executeRaw`
        WITH burst AS (
          SELECT webhook_id, count(*)::int AS events, (array_agg(id ORDER BY created_at DESC, id DESC))[1] AS last, array_agg(id) AS ids
          FROM webhook_deliveries
          WHERE open AND webhook_id = ANY(${over.map((hook) => hook.id)}::uuid[])
          GROUP BY webhook_id),
        kept AS (
          UPDATE webhook_deliveries d SET open = false, events = burst.events, next_attempt_at = now()
          FROM burst WHERE d.id = burst.last)
        DELETE FROM webhook_deliveries
        WHERE id IN (SELECT unnest(ids) FROM burst) AND id NOT IN (SELECT last FROM burst)`
    })
  }

  /** Claims up to `limit` due deliveries, and those whose instance gave no sign within the lease. */
  async function claim(limit: number) {
    return prisma.$queryRaw<{ id: string, attempts: number }[]>`
      UPDATE webhook_deliveries d SET status = 'delivering', attempts = d.attempts + 1,
        locked_until = now() + make_interval(secs => ${leaseSeconds})
      FROM (
        SELECT due.id FROM webhook_deliveries due JOIN webhooks w ON w.id = due.webhook_id
        WHERE w.enabled AND NOT due.open AND due.next_attempt_at <= now()
          AND (due.status = 'pending' OR (due.status = 'delivering' AND due.locked_until < now()))
        ORDER BY due.next_attempt_at, due.id
        LIMIT ${limit}
        FOR UPDATE OF due SKIP LOCKED) claimed
      WHERE d.id = claimed.id
      RETURNING d.id, d.attempts`
  }

  /** One signed POST; whatever happens, an outcome (never a throw). */
  function call(webhook: Webhook, id: string, body: string): Promise<Outcome> {
    const url = new URL(webhook.url)
    const refused = refusal(url)
    if (refused !== undefined) return Promise.resolve({ error: refused })
    const timestamp = Math.floor(Date.now() / 1000)
    const headers = {
      ...webhook.headers as Record<string, string>,
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signature(webhook.secret, id, timestamp, body),
    }
    const secure = url.protocol === 'https:'
    const timeout = config.GUDANG_WEBHOOK_TIMEOUT
    return new Promise((resolve) => {
      const request = (secure ? https : http).request(url, {
        method: 'POST',
        headers,
        ...connection,
        // A connection of its own, never one pooled by other code without the address check.
        agent: false,
        signal: AbortSignal.timeout(timeout),
      }, (response) => {
        const chunks: Buffer[] = []
        let size = 0
        const answered = () => resolve({
          statusCode: response.statusCode,
          // Text columns take no NUL.
          response: Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8').replaceAll('\u0000', '\uFFFD'),
        })
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk)
          size += chunk.length
          if (size >= EXCERPT_BYTES) {
            answered()
            response.destroy()
          }
        })
        response.on('end', answered)
        response.on('error', answered)
      })
      request.on('error', (error) => {
        resolve({ error: error.name === 'AbortError' ? `No answer within ${timeout} ms` : error.message })
      })
      request.end(body)
    })
  }

  /** The wait before the next call: doubling from GUDANG_WEBHOOK_RETRY_DELAY, capped, half of it random. */
  function backoff(attempt: number): number {
    const doubled = config.GUDANG_WEBHOOK_RETRY_DELAY * 2 ** (attempt - 1)
    const delay = Math.min(doubled, config.GUDANG_WEBHOOK_RETRY_MAX_DELAY)
    return delay / 2 + Math.random() * delay / 2
  }

  /** Records a call, and what follows from it: success, a retry later, or failure for good. */
  async function settle(
    delivery: { id: string, webhookId: string },
    number: number,
    outcome: Outcome,
    startedAt: Date,
    durationMs: number,
  ): Promise<void> {
    const succeeded = outcome.statusCode !== undefined && outcome.statusCode >= 200 && outcome.statusCode < 300
    const last = number >= config.GUDANG_WEBHOOK_MAX_ATTEMPTS
    await prisma.$transaction(async (tx) => {
      // A delivery deleted with its webhook during the call leaves nothing to record.
      const [kept] = await tx.$queryRaw<unknown[]>`SELECT 1 FROM webhook_deliveries WHERE id = ${delivery.id}::uuid FOR UPDATE`
      if (kept === undefined) return
      await tx.webhookAttempt.create({ data: { deliveryId: delivery.id, number, startedAt, durationMs, ...outcome } })
      // Only while the claim is still this call's: an instance that took longer than its lease finds it gone.
      const mine = { id: delivery.id, status: 'delivering' as const, attempts: number }
      const hook = { id: delivery.webhookId }
      if (succeeded) {
        await tx.webhookDelivery.updateMany({ where: mine, data: { status: 'succeeded', finishedAt: new Date(), lockedUntil: null } })
        await tx.webhook.updateMany({ where: { ...hook, failedDeliveries: { gt: 0 } }, data: { failedDeliveries: 0 } })
      } else if (!last) {
        const nextAttemptAt = new Date(Date.now() + backoff(number))
        await tx.webhookDelivery.updateMany({ where: mine, data: { status: 'pending', nextAttemptAt, lockedUntil: null } })
      } else {
        const { count } = await tx.webhookDelivery.updateMany({ where: mine, data: { status: 'failed', finishedAt: new Date(), lockedUntil: null } })
        if (count === 0) return
        await tx.webhook.updateMany({ where: hook, data: { failedDeliveries: { increment: 1 } } })
        await disableIfFailing(tx, delivery.webhookId, outcome)
      }
    })
  }

  /** A webhook whose deliveries keep failing for good is disabled, once, with the reason. */
  async function disableIfFailing(tx: Prisma.TransactionClient, id: string, outcome: Outcome): Promise<void> {
    const last = outcome.statusCode === undefined ? outcome.error : `HTTP ${outcome.statusCode}`
    const failed = config.GUDANG_WEBHOOK_DISABLE_AFTER
    const reason = `Disabled after ${failed} deliveries in a row failed, `
      + `${config.GUDANG_WEBHOOK_MAX_ATTEMPTS} attempts each; the last answer: ${last}`
    const { count } = await tx.webhook.updateMany({
      where: { id, enabled: true, failedDeliveries: { gte: failed } },
      data: { enabled: false, disabledReason: reason },
    })
    if (count > 0) await audit(tx, { action: 'webhook.disable', subject: 'webhooks', actor: {}, details: { id, reason } })
  }

  /** Makes the calls of claimed deliveries; one deleted with its webhook since is left out. */
  async function deliver(claimed: { id: string, attempts: number }[]): Promise<void> {
    const deliveries = await prisma.webhookDelivery.findMany({
      where: { id: { in: claimed.map((c) => c.id) } },
      include: { webhook: true, event: true },
    })
    await Promise.all(deliveries.map(async (delivery) => {
      const { event, webhook } = delivery
      const body = JSON.stringify({
        id: event.id,
        event: event.event,
        createdAt: event.createdAt,
        contentType: event.contentType,
        locale: event.locale,
        events: delivery.events,
        data: event.payload,
      })
      const startedAt = new Date()
      const outcome = delivery.attempts > config.GUDANG_WEBHOOK_MAX_ATTEMPTS
        ? { error: 'The instance making the last attempt stopped before it ended' }
        : await call(webhook, delivery.id, body)
      await settle(delivery, delivery.attempts, outcome, startedAt, Date.now() - startedAt.getTime())
    }))
  }

  let timer: NodeJS.Timeout | undefined
  let running: Promise<number> | undefined
  let lastPrune = 0
  let stopping = false

  const webhooks = {
    /** Makes every due call, GUDANG_WEBHOOK_CONCURRENCY at a time; answers how many were made. */
    async runDue(): Promise<number> {
      let count = 0
      // Once stopping, nothing more is claimed: a claim would wait out its lease before another instance could take it.
      while (!stopping) {
        await coalesce()
        const batch = await claim(config.GUDANG_WEBHOOK_CONCURRENCY)
        if (batch.length === 0) break
        await deliver(batch)
        count += batch.length
      }
      return count
    },

    /** Forgets finished deliveries older than GUDANG_WEBHOOK_LOG_DAYS, and events none is left for. */
    async prune(): Promise<void> {
      const days = config.GUDANG_WEBHOOK_LOG_DAYS
      await prisma.$executeRaw`
        DELETE FROM webhook_deliveries
        WHERE status IN ('succeeded', 'failed') AND finished_at < now() - make_interval(days => ${days})`
      await prisma.$executeRaw`
        DELETE FROM webhook_events e
        WHERE created_at < now() - make_interval(days => ${days})
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)`
    },

    async list(query: { page: number, pageSize: number }) {
      const [rows, total] = await prisma.$transaction([
        prisma.webhook.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], skip: (query.page - 1) * query.pageSize, take: query.pageSize }),
        prisma.webhook.count(),
      ])
      return { data: rows.map((row) => present(row)), meta: { ...query, total } }
    },

    async get(id: string) {
      return present(await find(id))
    },

    async create(input: WebhookInput, actor: Actor) {
      checkUrl(refusal, input.url)
      checkHeaders(input.headers ?? {})
      const webhook = await prisma.$transaction(async (tx) => {
        const data = { ...input, secret: input.secret ?? newSecret(), createdById: actor.userId }
        const created = await tx.webhook.create({ data })
        await audit(tx, { action: 'webhook.create', subject: 'webhooks', actor, details: { id: created.id, url: created.url } })
        return created
      })
      return revealed(webhook)
    },

    /** Changes a webhook; enabling it again clears why it was disabled and its count of failures. */
    async update(id: string, changes: Partial<WebhookInput>, actor: Actor) {
      return present(await change(id, changes, actor))
    },

    /** A new secret, shown once; calls made from now on are signed with it. */
    async rotateSecret(id: string, actor: Actor) {
      return revealed(await change(id, { secret: newSecret() }, actor))
    },
    async remove(id: string, actor: Actor): Promise<void> {
      await find(id)
      await prisma.$transaction(async (tx) => {
        await tx.webhook.delete({ where: { id } })
        await audit(tx, { action: 'webhook.delete', subject: 'webhooks', actor, details: { id } })
      })
    },

    /** A webhook's deliveries, newest first. */
    async deliveries(id: string, query: { page: number, pageSize: number, status?: 'pending' | 'delivering' | 'succeeded' | 'failed' }) {
      await find(id)
      const { page, pageSize, status } = query
      const where = { webhookId: id, ...(status === undefined ? {} : { status }) }
      const [rows, total] = await prisma.$transaction([
        prisma.webhookDelivery.findMany({
          where,
          include: { event: { select: { event: true, contentType: true, locale: true } } },
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
          skip: (page - 1) * pageSize,
          take: pageSize,
        }),
        prisma.webhookDelivery.count({ where }),
      ])
      return { data: rows, meta: { page, pageSize, total } }
    },

    /** A delivery with its event and every attempt. */
    async delivery(id: string, deliveryId: string) {
      return findDelivery(prisma, id, deliveryId)
    },

    /** Sends a delivery's event again, as a new delivery; one still under way is refused (409). */
    async redeliver(id: string, deliveryId: string, actor: Actor) {
      const created = await prisma.$transaction(async (tx) => {
        await held(tx, id)
        const past = await findDelivery(tx, id, deliveryId)
        if (past.status === 'pending' || past.status === 'delivering') {
          throw new ConflictError(`The delivery is ${past.status}: only a finished one can be sent again`)
        }
        const data = { webhookId: id, eventId: past.eventId, events: past.events, redeliveryOf: past.id }
        const delivery = await tx.webhookDelivery.create({ data })
        await audit(tx, { action: 'webhook.redeliver', subject: 'webhooks', actor, details: { id, deliveryId, redelivery: delivery.id } })
        return delivery
      })
      return findDelivery(prisma, id, created.id)
    },

    /** Sends a `webhook.ping` event to this webhook alone; a disabled one's waits until it is enabled. */
    async ping(id: string, actor: Actor) {
      const [delivery] = await prisma.$transaction(async (tx) => {
        await held(tx, id)
        const hooks = Prisma.sql`SELECT id, 0 AS debounce_seconds FROM webhooks WHERE id = ${id}::uuid`
        const ids = await outbox(tx, hooks, { event: 'webhook.ping', contentType: null, locale: null, payload: { webhookId: id } })
        await audit(tx, { action: 'webhook.ping', subject: 'webhooks', actor, details: { id } })
        return ids
      })
      return findDelivery(prisma, id, (delivery as { id: string }).id)
    },

    start(intervalMs: number): void {
      const tick = () => {
        running ??= (async () => {
          if (Date.now() - lastPrune > 3_600_000) {
            lastPrune = Date.now()
            await webhooks.prune()
          }
          return webhooks.runDue()
        })().catch((error: unknown) => {
          app.log.error({ err: error }, 'the webhook worker failed')
          return 0
        }).finally(() => {
          running = undefined
        })
      }
      tick()
      timer = setInterval(tick, intervalMs)
      timer.unref()
    },

    /** Stops checking; the calls under way end (GUDANG_WEBHOOK_TIMEOUT at most) and are recorded. */
    async stop(): Promise<void> {
      stopping = true
      clearInterval(timer)
      await running
    },
  }
  return webhooks
}

declare module 'fastify' {
  interface FastifyInstance {
    webhooks: ReturnType<typeof createWebhooks>
  }
}

async function webhooksPlugin(app: FastifyInstance): Promise<void> {
  const webhooks = createWebhooks(app)
  app.decorate('webhooks', webhooks)
  const interval = app.config.GUDANG_WEBHOOK_INTERVAL
  if (interval > 0) {
    app.addHook('onReady', async () => webhooks.start(interval))
    app.addHook('preClose', async () => webhooks.stop())
  }
}

export default fp(webhooksPlugin, { name: 'webhooks', dependencies: ['prisma'] })
