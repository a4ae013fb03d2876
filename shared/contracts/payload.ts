/** The JSON body of a webhook in the `mailbridge` format: what a receiver gets. */
import * as z from 'zod/mini'
import { AttachmentInfoSchema, ParsedMessageSchema } from './message.ts'
import { MESSAGE_RECEIVED } from './webhook.ts'
import { described, meta } from './zod-mini.ts'

/** Shaped as Standard Webhooks recommends. */
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
