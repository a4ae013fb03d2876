/**
 * Webhooks: the endpoints users register, the state of each notification, and the
 * payload a receiver gets.
 */
import * as z from 'zod/mini'
import { AttachmentInfoSchema, ParsedMessageSchema } from './message.ts'
import { described, meta } from './zod-mini.ts'

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
  signingKey: z.optional(z.string()),
  /** When the old key stops being used, ISO 8601. */
  until: z.string(),
})

/** An endpoint as stored, with its keys: never returned by a listing. */
export const WebhookEndpointSchema = z.object({
  /** `wh_` and 20 random hex digits. */
  id: meta(z.string(), { example: EXAMPLE_ENDPOINT_ID }),
  url: z.string(),
  /** The one mailbox this endpoint hears about, or null for every mailbox. */
  mailbox: described(z.nullable(z.string()), 'null: every mailbox'),
  /** Ids of the routes whose notify actions name this endpoint (routing wires them). */
  routes: described(z._default(z.array(z.string()), []), 'Routes this endpoint listens to'),
  /** `mailbridge` (our JSON), `postmark` (Postmark's inbound JSON) or `raw` (message/rfc822). */
  format: z._default(z.enum(WEBHOOK_FORMATS), 'mailbridge'),
  /** False: nothing is sent (jobs are recorded as failed, to replay once enabled again). */
  enabled: z._default(z.boolean(), true),
  /** Why the endpoint was disabled by the deliverer (410, days of failures), or null. */
  disabledReason: z._default(z.nullable(z.string()), null),
  description: z._default(z.string(), ''),
  /** How long the receiver may take to answer, in seconds. */
  timeoutSeconds: z._default(z.int(), DEFAULT_TIMEOUT_SECONDS),
  /** Attachments up to this many bytes are inline (base64) in `mailbridge` payloads. */
  inlineAttachmentBytes: z._default(z.int(), DEFAULT_INLINE_ATTACHMENT_BYTES),
  /** Requests in flight to this endpoint at once, per deliverer process. */
  concurrency: z._default(z.int(), DEFAULT_CONCURRENCY),
  /** `v1`: HMAC with the secret; `v1a`: ed25519, receivers verify with `publicKey`. */
  signing: z._default(z.enum(['v1', 'v1a']), 'v1'),
  /** Standard Webhooks signing secret: `whsec_` and base64 of 24 random bytes. */
  secret: z.string(),
  /** `whsk_` ed25519 private key (v1a only). */
  signingKey: z.optional(z.string()),
  /** `whpk_` ed25519 public key (v1a only): what receivers verify with. */
  publicKey: z.optional(z.string()),
  /** Keys of a rotation still signing until their `until`. */
  previousKeys: z._default(z.array(PreviousKeySchema), []),
  /** When the current run of failures began (ISO 8601), null after a success. */
  failingSince: z._default(z.nullable(z.string()), null),
  /** Epoch ms before which nothing is sent (429/502/503 asked to slow down), or 0. */
  pausedUntil: z._default(z.number(), 0),
  createdAt: z.string(),
})
export type WebhookEndpoint = z.infer<typeof WebhookEndpointSchema>

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

/** What can be set at creation and changed later. */
const endpointSettings = {
  routes: z.optional(
    z.array(z.string().check(z.minLength(1), z.maxLength(100))).check(z.maxLength(100)),
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
        z.nullable(z.string().check(z.trim(), z.minLength(1), z.maxLength(MAX_ADDRESS_LENGTH))),
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

export const MESSAGE_RECEIVED = 'message.received'

/** The JSON body of a webhook, shaped as Standard Webhooks recommends. */
export const WebhookPayloadSchema = meta(
  z.object({
    /** Event type; the only one so far is `message.received`. */
    type: z.literal(MESSAGE_RECEIVED),
    /** When the edge received the message, ISO 8601. */
    timestamp: z.string(),
    data: z.extend(ParsedMessageSchema, {
      /** The mailboxes of this endpoint's that the message was stored in. */
      mailboxes: z.array(z.string()),
      /** The plus-address tag of the (first) recipient, as Postmark's MailboxHash, or null. */
      mailboxHash: described(
        z.nullable(z.string()),
        'The plus-address tag of the recipient, or null',
      ),
      attachments: z.array(
        z.extend(AttachmentInfoSchema, {
          /**
           * API path of the attachment's bytes, relative to the API's base URL; null when
           * a route notified without storing the message in any mailbox.
           */
          link: described(z.nullable(z.string()), "API path of the attachment's bytes"),
          /** The bytes, base64, when no bigger than the endpoint's inlineAttachmentBytes. */
          content: described(
            z.optional(z.string()),
            "Base64 bytes, when within the endpoint's inlineAttachmentBytes",
          ),
        }),
      ),
      /**
       * API paths to read the message and its raw source, relative to the API's base URL;
       * null when a route notified without storing the message in any mailbox.
       */
      links: z.nullable(z.object({ message: z.string(), raw: z.string() })),
    }),
  }),
  { id: 'WebhookPayload' },
)
export type WebhookPayload = z.infer<typeof WebhookPayloadSchema>
