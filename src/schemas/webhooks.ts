import { Type } from 'typebox'
import { WEBHOOK_EVENTS } from '../services/webhooks.js'
import { DateTime, PageQuerySchema, StrictObject, Uuid } from './common.js'
import { ApiIdSchema } from './content-model.js'
import { LocaleCode } from './entries.js'

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()])

const Events = Type.Array(Type.Enum(WEBHOOK_EVENTS), {
  minItems: 1,
  uniqueItems: true,
  description: 'The events to send: `entry.create|update|delete|publish|unpublish`, `media.create|update|delete`, '
    + '`content-type.create|update|delete`, `component.create|update|delete`',
})
const ContentTypes = Type.Array(ApiIdSchema, {
  maxItems: 100,
  uniqueItems: true,
  description: 'Only events of these content types (API ids); empty: all. Media and component events have none and always pass',
})
const Locales = Type.Array(LocaleCode, {
  maxItems: 100,
  uniqueItems: true,
  description: 'Only entry events of these locales; empty: all',
})
const Headers = Type.Record(
  Type.String({ pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]{1,100}$' }),
  // What HTTP allows in a value: tab, visible ASCII and Latin-1 (no line breaks, no other controls).
  Type.String({ pattern: '^[\\t\\u0020-\\u007e\\u0080-\\u00ff]*$', maxLength: 2000 }),
  { maxProperties: 20, description: 'Headers sent with every call (an Authorization, say); Gudang\'s own cannot be replaced' },
)
const Debounce = Type.Integer({
  minimum: 0,
  maximum: 3600,
  description: 'Seconds to gather a burst of events into one call (the last event, with `events` counting them); '
    + 'the call waits until no event came for this long, 10 times this at most. 0: a call per event',
})
const Secret = Type.String({
  pattern: '^whsec_[A-Za-z0-9+/]{32,}={0,2}$',
  description: 'A Standard Webhooks secret: `whsec_` and the base64 of 24 or more random bytes. Unset: Gudang makes one',
})

export const WebhookInputSchema = StrictObject({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  url: Type.String({ minLength: 1, maxLength: 2000, description: 'An http(s) URL; private addresses only where GUDANG_WEBHOOK_ALLOWED_NETWORKS allows' }),
  events: Events,
  contentTypes: Type.Optional(ContentTypes),
  locales: Type.Optional(Locales),
  headers: Type.Optional(Headers),
  enabled: Type.Optional(Type.Boolean({ default: true })),
  debounceSeconds: Type.Optional(Debounce),
  secret: Type.Optional(Secret),
})

export const WebhookChangesSchema = StrictObject({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  url: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
  events: Type.Optional(Events),
  contentTypes: Type.Optional(ContentTypes),
  locales: Type.Optional(Locales),
  headers: Type.Optional(Headers),
  enabled: Type.Optional(Type.Boolean({ description: 'true also clears `disabledReason` and the count of failures' })),
  debounceSeconds: Type.Optional(Debounce),
})

const WebhookProperties = {
  id: Uuid,
  name: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  contentTypes: Type.Array(Type.String()),
  locales: Type.Array(Type.String()),
  headers: Type.Record(Type.String(), Type.String()),
  enabled: Type.Boolean(),
  disabledReason: nullable(Type.String({ description: 'Why Gudang disabled the webhook, when it did' })),
  debounceSeconds: Type.Integer(),
  failedDeliveries: Type.Integer({ description: 'Deliveries in a row that failed for good, since the last successful call' }),
  createdAt: DateTime,
  updatedAt: DateTime,
}

export const WebhookSchema = Type.Object(WebhookProperties, { $id: 'Webhook' })

export const WebhookWithSecretSchema = Type.Object({
  ...WebhookProperties,
  secret: Type.String({ description: 'Shown here only: keep it to verify the `webhook-signature` header' }),
})

const DELIVERY_STATUSES = ['pending', 'delivering', 'succeeded', 'failed'] as const

const DeliveryProperties = {
  id: Uuid,
  webhookId: Uuid,
  eventId: Uuid,
  status: Type.Enum(DELIVERY_STATUSES),
  events: Type.Integer({ description: 'How many events the call stands for (more than 1 when debounced)' }),
  attempts: Type.Integer(),
  nextAttemptAt: DateTime,
  redeliveryOf: nullable(Uuid),
  createdAt: DateTime,
  finishedAt: nullable(DateTime),
}

export const DeliverySchema = Type.Object({
  ...DeliveryProperties,
  event: Type.Object({ event: Type.String(), contentType: nullable(Type.String()), locale: nullable(Type.String()) }),
})

export const DeliveryDetailSchema = Type.Object({
  ...DeliveryProperties,
  event: Type.Object({
    id: Uuid,
    event: Type.String(),
    contentType: nullable(Type.String()),
    locale: nullable(Type.String()),
    payload: Type.Unknown({ description: 'The `data` of the call' }),
    createdAt: DateTime,
  }),
  log: Type.Array(Type.Object({
    number: Type.Integer(),
    startedAt: DateTime,
    durationMs: Type.Integer(),
    statusCode: nullable(Type.Integer()),
    error: nullable(Type.String({ description: 'Why no answer came: a refused address, a timeout, a network error' })),
    response: nullable(Type.String({ description: 'The first 1024 bytes of the answer' })),
  })),
})

export const DeliveryListQuerySchema = StrictObject({
  ...PageQuerySchema.properties,
  status: Type.Optional(Type.Enum(DELIVERY_STATUSES)),
})

export const DeliveryParamsSchema = Type.Object({ id: Uuid, deliveryId: Uuid })
