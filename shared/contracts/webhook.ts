/**
 * Webhooks: the endpoints users register, the state of each notification, and the
 * payload a receiver gets.
 */
import { z } from 'zod'
import { AttachmentInfoSchema, ParsedMessageSchema } from './message.ts'

const EXAMPLE_ENDPOINT_ID = 'wh_0123456789abcdef0123'
/** Longest webhook URL accepted, in characters. */
const MAX_URL_LENGTH = 2048
/** RFC 5321 §4.5.3.1: a path is at most 256 octets; 320 leaves room for display forms. */
export const MAX_ADDRESS_LENGTH = 320

/** Payload formats an endpoint can be sent. */
export const WEBHOOK_FORMATS = ['mailbridge', 'postmark', 'raw'] as const
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number]

/** Longest a receiver may take to answer, in seconds (Svix: 15 s). */
export const DEFAULT_TIMEOUT_SECONDS = 15
export const MAX_TIMEOUT_SECONDS = 30
/** Attachments up to this size (bytes, decoded) are inline in a `mailbridge` payload. */
export const DEFAULT_INLINE_ATTACHMENT_BYTES = 256 * 1024
export const MAX_INLINE_ATTACHMENT_BYTES = 10 * 1024 * 1024
/** Requests in flight to one endpoint at once, per deliverer process. */
export const DEFAULT_CONCURRENCY = 8
export const MAX_CONCURRENCY = 32

/** A key an endpoint still signs with during a rotation's overlap. */
const PreviousKeySchema = z.object({
  /** The old `whsec_` secret. */
  secret: z.string(),
  /** The old `whsk_` key, for an endpoint signing with v1a. */
  signingKey: z.string().optional(),
  /** When the old key stops being used, ISO 8601. */
  until: z.string(),
})

/** An endpoint as stored, with its keys: never returned by a listing. */
export const WebhookEndpointSchema = z.object({
  /** `wh_` and 20 random hex digits. */
  id: z.string().meta({ example: EXAMPLE_ENDPOINT_ID }),
  url: z.string(),
  /** The one mailbox this endpoint hears about, or null for every mailbox. */
  mailbox: z.string().nullable().describe('null: every mailbox'),
  /** Ids of the routes whose notify actions name this endpoint (routing wires them). */
  routes: z.array(z.string()).default([]).describe('Routes this endpoint listens to'),
  /** `mailbridge` (our JSON), `postmark` (Postmark's inbound JSON) or `raw` (message/rfc822). */
  format: z.enum(WEBHOOK_FORMATS).default('mailbridge'),
  /** False: nothing is sent (jobs are recorded as failed, to replay once enabled again). */
  enabled: z.boolean().default(true),
  /** Why the endpoint was disabled by the deliverer (410, days of failures), or null. */
  disabledReason: z.string().nullable().default(null),
  description: z.string().default(''),
  /** How long the receiver may take to answer, in seconds. */
  timeoutSeconds: z.number().int().default(DEFAULT_TIMEOUT_SECONDS),
  /** Attachments up to this many bytes are inline (base64) in `mailbridge` payloads. */
  inlineAttachmentBytes: z.number().int().default(DEFAULT_INLINE_ATTACHMENT_BYTES),
  /** Requests in flight to this endpoint at once, per deliverer process. */
  concurrency: z.number().int().default(DEFAULT_CONCURRENCY),
  /** `v1`: HMAC with the secret; `v1a`: ed25519, receivers verify with `publicKey`. */
  signing: z.enum(['v1', 'v1a']).default('v1'),
  /** Standard Webhooks signing secret: `whsec_` and base64 of 24 random bytes. */
  secret: z.string(),
  /** `whsk_` ed25519 private key (v1a only). */
  signingKey: z.string().optional(),
  /** `whpk_` ed25519 public key (v1a only): what receivers verify with. */
  publicKey: z.string().optional(),
  /** Keys of a rotation still signing until their `until`. */
  previousKeys: z.array(PreviousKeySchema).default([]),
  /** When the current run of failures began (ISO 8601), null after a success. */
  failingSince: z.string().nullable().default(null),
  /** Epoch ms before which nothing is sent (429/502/503 asked to slow down), or 0. */
  pausedUntil: z.number().default(0),
  createdAt: z.string(),
})
export type WebhookEndpoint = z.infer<typeof WebhookEndpointSchema>

/** An endpoint as the API shows it: everything but its secrets. */
export const WebhookSchema = WebhookEndpointSchema.omit({
  secret: true,
  signingKey: true,
  previousKeys: true,
  pausedUntil: true,
})
  .extend({
    /** When the previous key stops signing, during a rotation's overlap; else null. */
    rotatingUntil: z.string().nullable(),
  })
  .meta({ id: 'Webhook' })
export type Webhook = z.infer<typeof WebhookSchema>

const urlField = z
  .url({
    protocol: /^https?$/,
    error: (issue) =>
      issue.input === undefined ? 'is required' : 'must be an absolute http(s) URL',
  })
  .max(MAX_URL_LENGTH)
  .meta({ example: 'https://app.example.com/hooks/mail' })

/** What can be set at creation and changed later. */
const endpointSettings = {
  routes: z.array(z.string().min(1).max(100)).max(100).optional(),
  format: z.enum(WEBHOOK_FORMATS).optional().describe('Payload format; mailbridge by default'),
  enabled: z.boolean().optional(),
  description: z.string().max(500).optional(),
  timeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(MAX_TIMEOUT_SECONDS)
    .optional()
    .describe(`Seconds the receiver may take; ${DEFAULT_TIMEOUT_SECONDS} by default`),
  inlineAttachmentBytes: z
    .number()
    .int()
    .min(0)
    .max(MAX_INLINE_ATTACHMENT_BYTES)
    .optional()
    .describe('Attachments up to this size are inline in mailbridge payloads; others are links'),
  concurrency: z.number().int().min(1).max(MAX_CONCURRENCY).optional(),
}

// Strict: a misspelt `mailbox` would otherwise be dropped and subscribe to every mailbox.
export const CreateWebhookSchema = z
  .strictObject({
    url: urlField,
    mailbox: z
      .string()
      .trim()
      .min(1)
      .max(MAX_ADDRESS_LENGTH)
      .nullable()
      .optional()
      .describe('Only this mailbox; omit or null for every mailbox'),
    signing: z
      .enum(['v1', 'v1a'])
      .optional()
      .describe('v1: HMAC-SHA256 (default); v1a: ed25519, verified with the public key'),
    ...endpointSettings,
  })
  .meta({ id: 'CreateWebhook' })
export type CreateWebhook = z.infer<typeof CreateWebhookSchema>

export const UpdateWebhookSchema = z
  .strictObject({ url: urlField.optional(), ...endpointSettings })
  .meta({ id: 'UpdateWebhook' })
export type UpdateWebhook = z.infer<typeof UpdateWebhookSchema>

/** What creating an endpoint returns: the only time its secret is shown. */
export const CreatedWebhookSchema = WebhookSchema.extend({
  secret: z.string().describe('Standard Webhooks signing secret; shown only here'),
}).meta({ id: 'CreatedWebhook' })

export const RotateSecretSchema = z
  .strictObject({
    overlapSeconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600)
      .optional()
      .describe('How long the old key keeps signing beside the new one; 24 h by default'),
  })
  .meta({ id: 'RotateSecret' })

export const RotatedSecretSchema = z
  .object({
    secret: z.string().describe('The new whsec_ secret; shown only here'),
    publicKey: z.string().optional().describe('The new whpk_ key (v1a endpoints)'),
    rotatingUntil: z.string().describe('Until then both keys sign every webhook'),
  })
  .meta({ id: 'RotatedSecret' })

/** Where one notification (a message for an endpoint) stands. */
export const DeliverySchema = z
  .object({
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
    attempts: z.number().int().nonnegative(),
    updatedAt: z.string(),
    /** HTTP status or error of the last attempt. */
    lastResult: z.string().optional(),
    /** When the next attempt is due (ISO 8601), while one is scheduled. */
    nextAttemptAt: z.string().optional(),
    /** The mailboxes the notification is about (kept from the first attempt, for replay). */
    mailboxes: z.array(z.string()).optional(),
    /** The recipients that led to them. */
    rcptTo: z.array(z.string()).optional(),
  })
  .meta({ id: 'Delivery' })
export type Delivery = z.infer<typeof DeliverySchema>

/** One attempt at sending a webhook, as the attempt log keeps it. */
export const WebhookAttemptSchema = z
  .object({
    endpointId: z.string(),
    /** The message, or null for a test event. */
    messageId: z.string().nullable(),
    /** The `webhook-id` sent: the same for every attempt at one event. */
    webhookId: z.string(),
    /** When the request started, ISO 8601. */
    at: z.string(),
    /** `succeeded` (2xx) or `failed` (any other answer, no answer, or refused). */
    status: z.enum(['succeeded', 'failed']),
    /** The receiver's HTTP status, or null when it did not answer. */
    httpStatus: z.number().int().nullable(),
    /** From the start of the request to the end of the (capped) answer, in ms. */
    latencyMs: z.number().int(),
    /** The first bytes of the answer's body. */
    response: z.string(),
    /** What went wrong without an answer (timeout, refused address, reset), or null. */
    error: z.string().nullable(),
    /** `scheduled` (first try and retries), `replay` or `test`. */
    trigger: z.enum(['scheduled', 'replay', 'test']),
  })
  .meta({ id: 'WebhookAttempt' })
export type WebhookAttempt = z.infer<typeof WebhookAttemptSchema>

export const MESSAGE_RECEIVED = 'message.received'

/** The JSON body of a webhook, shaped as Standard Webhooks recommends. */
export const WebhookPayloadSchema = z
  .object({
    /** Event type; the only one so far is `message.received`. */
    type: z.literal(MESSAGE_RECEIVED),
    /** When the edge received the message, ISO 8601. */
    timestamp: z.string(),
    data: ParsedMessageSchema.extend({
      /** The mailboxes of this endpoint's that the message was stored in. */
      mailboxes: z.array(z.string()),
      /** The plus-address tag of the (first) recipient, as Postmark's MailboxHash, or null. */
      mailboxHash: z.string().nullable().describe('The plus-address tag of the recipient, or null'),
      attachments: z.array(
        AttachmentInfoSchema.extend({
          /**
           * API path of the attachment's bytes, relative to the API's base URL; null when
           * a route notified without storing the message in any mailbox.
           */
          link: z.string().nullable().describe("API path of the attachment's bytes"),
          /** The bytes, base64, when no bigger than the endpoint's inlineAttachmentBytes. */
          content: z
            .string()
            .optional()
            .describe("Base64 bytes, when within the endpoint's inlineAttachmentBytes"),
        }),
      ),
      /**
       * API paths to read the message and its raw source, relative to the API's base URL;
       * null when a route notified without storing the message in any mailbox.
       */
      links: z.object({ message: z.string(), raw: z.string() }).nullable(),
    }),
  })
  .meta({ id: 'WebhookPayload' })
export type WebhookPayload = z.infer<typeof WebhookPayloadSchema>
