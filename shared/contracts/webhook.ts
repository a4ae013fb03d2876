/**
 * Webhooks: the endpoints users register, the state of each notification, and the
 * payload a receiver gets.
 */
import { z } from 'zod'
import { ParsedMessageSchema } from './message.ts'

const EXAMPLE_ENDPOINT_ID = 'wh_0123456789abcdef0123'
/** Longest webhook URL accepted, in characters. */
const MAX_URL_LENGTH = 2048
/** RFC 5321 §4.5.3.1: a path is at most 256 octets; 320 leaves room for display forms. */
export const MAX_ADDRESS_LENGTH = 320

/** An endpoint as stored, with its secret: never returned by a listing. */
export const WebhookEndpointSchema = z.object({
  /** `wh_` and 20 random hex digits. */
  id: z.string().meta({ example: EXAMPLE_ENDPOINT_ID }),
  url: z.string(),
  /** The one mailbox this endpoint hears about, or null for every mailbox. */
  mailbox: z.string().nullable().describe('null: every mailbox'),
  /** Standard Webhooks signing secret: `whsec_` and base64 of 24 random bytes. */
  secret: z.string(),
  createdAt: z.string(),
})
export type WebhookEndpoint = z.infer<typeof WebhookEndpointSchema>

/** An endpoint as the API lists it: everything but the secret. */
export const WebhookSchema = WebhookEndpointSchema.omit({ secret: true }).meta({ id: 'Webhook' })
export type Webhook = z.infer<typeof WebhookSchema>

// Strict: a misspelt `mailbox` would otherwise be dropped and subscribe to every mailbox.
export const CreateWebhookSchema = z
  .strictObject({
    url: z
      .url({
        protocol: /^https?$/,
        error: (issue) =>
          issue.input === undefined ? 'is required' : 'must be an absolute http(s) URL',
      })
      .max(MAX_URL_LENGTH)
      .meta({ example: 'https://app.example.com/hooks/mail' }),
    mailbox: z
      .string()
      .trim()
      .min(1)
      .max(MAX_ADDRESS_LENGTH)
      .nullable()
      .optional()
      .describe('Only this mailbox; omit or null for every mailbox'),
  })
  .meta({ id: 'CreateWebhook' })

/** What creating an endpoint returns: the only time its secret is shown. */
export const CreatedWebhookSchema = WebhookEndpointSchema.pick({
  id: true,
  url: true,
  mailbox: true,
  secret: true,
})
  .extend({ secret: z.string().describe('Standard Webhooks signing secret; shown only here') })
  .meta({ id: 'CreatedWebhook' })

/** Where one notification (a message for an endpoint) stands. */
export const DeliverySchema = z.object({
  messageId: z.string(),
  endpointId: z.string(),
  /**
   * `claimed` while ingest sends the job (one invocation claims it, so a record handled
   * twice at once queues it once), `queued` once sent, `delivered` when a receiver
   * answered 2xx.
   */
  status: z.enum(['claimed', 'queued', 'delivered']),
  /** Attempts made so far. */
  attempts: z.number().int().nonnegative(),
  updatedAt: z.string(),
  /** HTTP status or error of the last attempt. */
  lastResult: z.string().optional(),
})
export type Delivery = z.infer<typeof DeliverySchema>

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
      mailboxHash: z.string().nullable(),
      /**
       * API paths to read the message and its raw source, relative to the API's base URL;
       * null when a route notified without storing it in any mailbox.
       */
      links: z.object({ message: z.string(), raw: z.string() }).nullable(),
    }),
  })
  .meta({ id: 'WebhookPayload' })
export type WebhookPayload = z.infer<typeof WebhookPayloadSchema>
