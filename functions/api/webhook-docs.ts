/**
 * The `webhooks` section of the OpenAPI document (OpenAPI 3.1): what mailbridge POSTs to
 * an endpoint, so a receiver's types can be generated like a client's. The `mailbridge`
 * format's JSON Schema is WebhookPayloadSchema, the same zod schema the payload is typed by.
 */
import type { OpenAPIHono } from '@hono/zod-openapi'
import * as z from 'zod/mini'
import { meta } from '../../shared/contracts/zod-mini.ts'
import { routeParameters, WebhookPayloadSchema } from './schemas.ts'

const SignatureHeadersSchema = routeParameters(
  z.object({
    'webhook-id': meta(z.string(), {
      description: 'The same for every attempt and every replay of one event: dedupe on it',
      example: 'msg_01JQ7Z8X9Y0A1B2C3D4E5F6G7H_wh_0123456789abcdef0123',
    }),
    'webhook-timestamp': meta(z.string(), { description: 'Unix seconds of this attempt' }),
    'webhook-signature': meta(z.string(), {
      description:
        'Space-separated `v1,<base64 HMAC-SHA256>` (or `v1a,<base64 ed25519>`) of ' +
        '`{id}.{timestamp}.{body}`; two during a secret rotation, either verifies',
    }),
  }),
)

const answers = {
  200: { description: 'Any 2xx: delivered, not sent again' },
  410: { description: 'Gone: the endpoint is disabled, nothing more is sent' },
  429: { description: 'Slow down: Retry-After (up to an hour) is honoured' },
}

export function webhookDocs(app: OpenAPIHono): void {
  app.openAPIRegistry.registerWebhook({
    method: 'post',
    path: 'message.received',
    summary: 'A message arrived in a mailbox the endpoint listens to (format `mailbridge`)',
    description:
      "Endpoints of format `postmark` get Postmark's inbound JSON instead, and `raw` ones the " +
      'message as message/rfc822 with `mailbridge-*` headers for the envelope. Failed ' +
      'attempts are retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h.',
    request: {
      headers: SignatureHeadersSchema,
      body: { required: true, content: { 'application/json': { schema: WebhookPayloadSchema } } },
    },
    responses: answers,
  })
}
