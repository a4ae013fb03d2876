/**
 * Webhooks: the endpoints users register, as stored, and what every function reads about
 * them. What the API takes and returns about them is in webhook-api.ts, the payload a
 * receiver gets in payload.ts: only the API builds those schemas, so the functions that
 * import this file alone do not construct them at cold start.
 */
import * as z from 'zod/mini'
import { described, meta } from './zod-mini.ts'

const EXAMPLE_ENDPOINT_ID = 'wh_0123456789abcdef0123'
/** Longest webhook URL accepted, in characters. */
export const MAX_URL_LENGTH = 2048
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

/** The event of a message that arrived, the only one so far. */
export const MESSAGE_RECEIVED = 'message.received'
