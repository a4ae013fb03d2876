/**
 * What the API takes and returns about webhooks: an endpoint without its secrets, what
 * creates, changes and rotates one, and where each notification and attempt stands.
 */
import * as z from 'zod/mini'
import { ROUTE_ID } from './route.ts'
import {
  DEFAULT_TIMEOUT_SECONDS,
  MAX_ADDRESS_LENGTH,
  MAX_CONCURRENCY,
  MAX_INLINE_ATTACHMENT_BYTES,
  MAX_TIMEOUT_SECONDS,
  MAX_URL_LENGTH,
  WEBHOOK_FORMATS,
  WebhookEndpointSchema,
} from './webhook.ts'
import { described, meta } from './zod-mini.ts'

/** An endpoint as the API shows it: everything but its secrets. */
export const WebhookSchema = meta(
  z.extend(
    z.omit(WebhookEndpointSchema, {
      secret: true,
      signingKey: true,
      previousKeys: true,
      pausedUntil: true,
    }),
    {
      /** When the previous key stops signing, during a rotation's overlap; else null. */
      rotatingUntil: z.nullable(z.string()),
    },
  ),
  { id: 'Webhook' },
)
export type Webhook = z.infer<typeof WebhookSchema>

const urlField = meta(
  z
    .url({
      protocol: /^https?$/,
      error: (issue) =>
        issue.input === undefined ? 'is required' : 'must be an absolute http(s) URL',
    })
    .check(z.maxLength(MAX_URL_LENGTH)),
  { example: 'https://app.example.com/hooks/mail' },
)

// A mailbox is named by an address: something, `@`, a domain; no control characters.
const MAILBOX_ADDRESS = /^[^\p{Cc}]+@[^\p{Cc}@]+$/u

/** What can be set at creation and changed later. */
const endpointSettings = {
  routes: described(
    z.optional(
      z.array(z.string().check(z.regex(ROUTE_ID, 'is not a route id'))).check(z.maxLength(100)),
    ),
    'Routes whose recipients this endpoint hears of (without a mailbox, only those); each must exist',
  ),
  format: described(z.optional(z.enum(WEBHOOK_FORMATS)), 'Payload format; mailbridge by default'),
  enabled: z.optional(z.boolean()),
  description: z.optional(z.string().check(z.maxLength(500))),
  timeoutSeconds: described(
    z.optional(z.int().check(z.gte(1), z.lte(MAX_TIMEOUT_SECONDS))),
    `Seconds the receiver may take; ${DEFAULT_TIMEOUT_SECONDS} by default`,
  ),
  inlineAttachmentBytes: described(
    z.optional(z.int().check(z.gte(0), z.lte(MAX_INLINE_ATTACHMENT_BYTES))),
    'Attachments up to this size are inline in mailbridge payloads; others are links',
  ),
  concurrency: z.optional(z.int().check(z.gte(1), z.lte(MAX_CONCURRENCY))),
}

// Strict: a misspelt `mailbox` would otherwise be dropped and subscribe to every mailbox.
export const CreateWebhookSchema = meta(
  z.strictObject({
    url: urlField,
    mailbox: described(
      z.optional(
        z.nullable(
          z
            .string()
            .check(
              z.trim(),
              z.maxLength(MAX_ADDRESS_LENGTH),
              z.regex(MAILBOX_ADDRESS, 'must be an address (local@domain, no control characters)'),
            ),
        ),
      ),
      'Only this mailbox; omit or null for every mailbox',
    ),
    signing: described(
      z.optional(z.enum(['v1', 'v1a'])),
      'v1: HMAC-SHA256 (default); v1a: ed25519, verified with the public key',
    ),
    ...endpointSettings,
  }),
  { id: 'CreateWebhook' },
)
export type CreateWebhook = z.infer<typeof CreateWebhookSchema>

export const UpdateWebhookSchema = meta(
  z.strictObject({ url: z.optional(urlField), ...endpointSettings }),
  { id: 'UpdateWebhook' },
)
export type UpdateWebhook = z.infer<typeof UpdateWebhookSchema>

/** What creating an endpoint returns: the only time its secret is shown. */
export const CreatedWebhookSchema = meta(
  z.extend(WebhookSchema, {
    secret: described(z.string(), 'Standard Webhooks signing secret; shown only here'),
  }),
  { id: 'CreatedWebhook' },
)

export const RotateSecretSchema = meta(
  z.strictObject({
    overlapSeconds: described(
      z.optional(z.int().check(z.gte(0), z.lte(7 * 24 * 3600))),
      'How long the old key keeps signing beside the new one; 24 h by default',
    ),
  }),
  { id: 'RotateSecret' },
)

export const RotatedSecretSchema = meta(
  z.object({
    secret: described(z.string(), 'The new whsec_ secret; shown only here'),
    publicKey: described(z.optional(z.string()), 'The new whpk_ key (v1a endpoints)'),
    rotatingUntil: described(z.string(), 'Until then both keys sign every webhook'),
  }),
  { id: 'RotatedSecret' },
)

/** Where one notification (a message for an endpoint) stands. */
export const DeliverySchema = meta(
  z.object({
    messageId: z.string(),
    endpointId: z.string(),
    /**
     * `claimed` while ingest sends the job (one invocation claims it, so a record handled
     * twice at once queues it once), `queued` once sent, `delivered` when a receiver
     * answered 2xx, `failed` when the last attempt of the schedule failed, the receiver
     * answered 410 or the endpoint is disabled (replay sends it again).
     */
    status: z.enum(['claimed', 'queued', 'delivered', 'failed']),
    /** Attempts made so far. */
    attempts: z.int().check(z.nonnegative()),
    updatedAt: z.string(),
    /** HTTP status or error of the last attempt. */
    lastResult: z.optional(z.string()),
    /** When the next attempt is due (ISO 8601), while one is scheduled. */
    nextAttemptAt: z.optional(z.string()),
    /** The mailboxes the notification is about (kept from the first attempt, for replay). */
    mailboxes: z.optional(z.array(z.string())),
    /** The recipients that led to them. */
    rcptTo: z.optional(z.array(z.string())),
  }),
  { id: 'Delivery' },
)
export type Delivery = z.infer<typeof DeliverySchema>

/** One attempt at sending a webhook, as the attempt log keeps it. */
export const WebhookAttemptSchema = meta(
  z.object({
    endpointId: z.string(),
    /** The message, or null for a test event. */
    messageId: z.nullable(z.string()),
    /** The `webhook-id` sent: the same for every attempt at one event. */
    webhookId: z.string(),
    /** When the request started, ISO 8601. */
    at: z.string(),
    /** `succeeded` (2xx) or `failed` (any other answer, no answer, or refused). */
    status: z.enum(['succeeded', 'failed']),
    /** The receiver's HTTP status, or null when it did not answer. */
    httpStatus: z.nullable(z.int()),
    /** From the start of the request to the end of the (capped) answer, in ms. */
    latencyMs: z.int(),
    /** The first bytes of the answer's body. */
    response: z.string(),
    /** What went wrong without an answer (timeout, refused address, reset), or null. */
    error: z.nullable(z.string()),
    /** `scheduled` (first try and retries), `replay` or `test`. */
    trigger: z.enum(['scheduled', 'replay', 'test']),
  }),
  { id: 'WebhookAttempt' },
)
export type WebhookAttempt = z.infer<typeof WebhookAttemptSchema>
