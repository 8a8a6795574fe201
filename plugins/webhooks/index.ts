import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { IdParamsSchema, Item, Page, PageQuerySchema } from '../../src/schemas/common.js'
import { errorResponses } from '../../src/schemas/error.js'
import {
  DeliveryDetailSchema,
  DeliveryListQuerySchema,
  DeliveryParamsSchema,
  DeliverySchema,
  WebhookChangesSchema,
  WebhookInputSchema,
  WebhookWithSecretSchema,
} from '../../src/schemas/webhooks.js'
import type { Action } from '../../src/services/access-control.js'
import { actorOf } from '../../src/services/audit.js'

function webhooks(action: Action) {
  return { access: { subject: 'webhooks', action } }
}

const CALLS = 'Each event is a JSON `POST` of `{ id, event, createdAt, contentType, locale, events, data }`, '
  + 'signed as Standard Webhooks specify (https://www.standardwebhooks.com): headers `webhook-id` (the delivery, '
  + 'the same on every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature` '
  + '(`v1,` and the base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` keyed with the base64-decoded '
  + 'secret after `whsec_`). A 2xx answer is success; anything else is retried with exponential backoff.'

/** Webhooks (permission subject `webhooks`): registration, the delivery log, redelivery, a ping. */
const webhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const Webhook = Type.Ref('Webhook')
  const tags = ['webhooks']

  app.get(
    '/',
    {
      config: webhooks('read'),
      schema: { tags, summary: 'List webhooks, newest first', querystring: PageQuerySchema, response: { 200: Page(Webhook), ...errorResponses(400) } },
    },
    async (request) => app.webhooks.list(request.query),
  )

  app.post(
    '/',
    {
      config: webhooks('create'),
      schema: {
        tags,
        summary: 'Register a webhook',
        description: `${CALLS} The answer is the only one that shows the secret.`,
        body: WebhookInputSchema,
        response: { 201: Item(WebhookWithSecretSchema), ...errorResponses(400) },
      },
    },
    async (request, reply) => {
      const data = await app.webhooks.create(request.body, actorOf(request.principal))
      return reply.status(201).send({ data })
    },
  )

  app.get(
    '/:id',
    {
      config: webhooks('read'),
      schema: { tags, summary: 'Read a webhook', params: IdParamsSchema, response: { 200: Item(Webhook), ...errorResponses(400, 404) } },
    },
    async (request) => ({ data: await app.webhooks.get(request.params.id) }),
  )

  app.patch(
    '/:id',
    {
      config: webhooks('update'),
      schema: {
        tags,
        summary: 'Change a webhook; enable one that was disabled',
        params: IdParamsSchema,
        body: WebhookChangesSchema,
        response: { 200: Item(Webhook), ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const data = await app.webhooks.update(request.params.id, request.body, actorOf(request.principal))
      return { data }
    },
  )

  app.post(
    '/:id/secret',
    {
      config: webhooks('update'),
      schema: {
        tags,
        summary: 'Give a webhook a new secret',
        description: 'Calls made from now on are signed with the new secret, shown in this answer only.',
        params: IdParamsSchema,
        response: { 200: Item(WebhookWithSecretSchema), ...errorResponses(400, 404) },
      },
    },
    async (request) => ({ data: await app.webhooks.rotateSecret(request.params.id, actorOf(request.principal)) }),
  )

  app.delete(
    '/:id',
    {
      config: webhooks('delete'),
      schema: {
        tags,
        summary: 'Delete a webhook with its delivery log',
        params: IdParamsSchema,
        response: { 204: { type: 'null' }, ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      await app.webhooks.remove(request.params.id, actorOf(request.principal))
      return reply.status(204).send(null)
    },
  )

  app.post(
    '/:id/ping',
    {
      config: webhooks('update'),
      schema: {
        tags,
        summary: 'Send a webhook.ping event to try the webhook',
        description: 'Queued like any event, and followed in the delivery log; a disabled webhook\'s deliveries '
          + 'wait until it is enabled again.',
        params: IdParamsSchema,
        response: { 202: Item(DeliveryDetailSchema), ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const data = await app.webhooks.ping(request.params.id, actorOf(request.principal))
      return reply.status(202).send({ data })
    },
  )

  app.get(
    '/:id/deliveries',
    {
      config: webhooks('read'),
      schema: {
        tags,
        summary: 'A webhook\'s delivery log, newest first',
        params: IdParamsSchema,
        querystring: DeliveryListQuerySchema,
        response: { 200: Page(DeliverySchema), ...errorResponses(400, 404) },
      },
    },
    async (request) => app.webhooks.deliveries(request.params.id, request.query),
  )

  app.get(
    '/:id/deliveries/:deliveryId',
    {
      config: webhooks('read'),
      schema: {
        tags,
        summary: 'A delivery, with its event and every attempt',
        params: DeliveryParamsSchema,
        response: { 200: Item(DeliveryDetailSchema), ...errorResponses(400, 404) },
      },
    },
    async (request) => ({ data: await app.webhooks.delivery(request.params.id, request.params.deliveryId) }),
  )

  app.post(
    '/:id/deliveries/:deliveryId/redeliver',
    {
      config: webhooks('update'),
      schema: {
        tags,
        summary: 'Send a past delivery\'s event again',
        description: 'A new delivery of the same event, with a new `webhook-id`; a delivery still under way cannot be (409).',
        params: DeliveryParamsSchema,
        response: { 202: Item(DeliveryDetailSchema), ...errorResponses(400, 404, 409) },
      },
    },
    async (request, reply) => {
      const { id, deliveryId } = request.params
      const data = await app.webhooks.redeliver(id, deliveryId, actorOf(request.principal))
      return reply.status(202).send({ data })
    },
  )
}

export default webhookRoutes
