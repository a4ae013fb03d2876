/**
 * The API's wire shapes, in one place: they validate requests and generate the OpenAPI
 * document. Response shapes mirror shared/message.ts and shared/webhook-store.ts; the
 * routes return those types through these schemas, so the compiler keeps them in step.
 */
import { z } from '@hono/zod-openapi'

/** Page size when `limit` is not given. */
export const DEFAULT_PAGE_SIZE = 50
/** Largest page: each summary is a separate S3 read. */
export const MAX_PAGE_SIZE = 200
/** Longest webhook URL accepted, in characters. */
const MAX_URL_LENGTH = 2048
/** RFC 5321 §4.5.3.1: a path is at most 256 octets; 320 leaves room for display forms. */
const MAX_ADDRESS_LENGTH = 320

const EXAMPLE_ID = '01JQ7Z8X9Y0A1B2C3D4E5F6G7H'

export const ProblemSchema = z
  .object({
    type: z
      .string()
      .openapi({ description: 'A URI naming the problem type', example: 'about:blank' }),
    title: z.string().openapi({ description: 'The HTTP status phrase', example: 'Not Found' }),
    status: z.number().int().openapi({ description: 'The HTTP status code', example: 404 }),
    detail: z.string().openapi({ description: 'What went wrong, for a human' }),
  })
  .openapi('Problem', { description: 'An RFC 9457 problem details object' })

export const MailAddressSchema = z
  .object({
    address: z.string().openapi({ description: 'The address, as written in the header' }),
    name: z.string().openapi({ description: 'The display name, decoded, or ""' }),
  })
  .openapi('MailAddress')

export const AttachmentInfoSchema = z
  .object({
    index: z.number().int().openapi({ description: 'Position among the attachments, from 0' }),
    filename: z.string().nullable(),
    contentType: z.string(),
    size: z.number().int().openapi({ description: 'Decoded size in bytes' }),
    contentId: z.string().nullable().openapi({ description: 'Content-ID without angle brackets' }),
    disposition: z.string().nullable(),
  })
  .openapi('AttachmentInfo')

export const MessageSummarySchema = z
  .object({
    id: z.string().openapi({ description: 'Message id (ULID)', example: EXAMPLE_ID }),
    mailbox: z.string().openapi({ description: 'The mailbox: a lower-cased address' }),
    receivedAt: z.string().openapi({ description: 'When the edge received it, ISO 8601' }),
    size: z.number().int().openapi({ description: 'Size of the raw message in bytes' }),
    from: MailAddressSchema.nullable(),
    to: z.array(MailAddressSchema),
    subject: z.string().nullable(),
    date: z
      .string()
      .nullable()
      .openapi({ description: 'The Date header, ISO 8601 when it parses' }),
    snippet: z.string().openapi({ description: 'The start of the text body' }),
    attachments: z.number().int().openapi({ description: 'Number of attachments' }),
  })
  .openapi('MessageSummary')

export const StoredMessageSchema = z
  .object({
    id: z.string().openapi({ example: EXAMPLE_ID }),
    mailbox: z.string(),
    receivedAt: z.string(),
    envelope: z.object({
      mailFrom: z.string().openapi({ description: 'MAIL FROM; "" for bounces' }),
      rcptTo: z.array(z.string()).openapi({ description: 'Recipients delivered to this mailbox' }),
    }),
    size: z.number().int(),
    from: MailAddressSchema.nullable(),
    to: z.array(MailAddressSchema),
    cc: z.array(MailAddressSchema),
    replyTo: z.array(MailAddressSchema),
    subject: z.string().nullable(),
    date: z.string().nullable(),
    messageId: z.string().nullable().openapi({ description: 'Message-ID header, with brackets' }),
    inReplyTo: z.string().nullable(),
    text: z.string().nullable(),
    html: z.string().nullable(),
    truncated: z.object({ text: z.boolean(), html: z.boolean() }).optional().openapi({
      description: 'Set when a body was cut at 1 Mi characters; the raw source has all of it',
    }),
    headers: z
      .array(z.object({ name: z.string(), value: z.string() }))
      .openapi({ description: 'Every header in order, value decoded' }),
    attachments: z.array(AttachmentInfoSchema),
    parseError: z
      .string()
      .optional()
      .openapi({ description: 'Set when the MIME structure could not be parsed' }),
  })
  .openapi('Message')

export const MailboxListSchema = z
  .object({
    mailboxes: z.array(
      z.object({
        address: z.string().openapi({ example: 'bob@example.com' }),
        messages: z.number().int().openapi({ description: 'Messages in the mailbox' }),
      }),
    ),
  })
  .openapi('MailboxList')

export const MessagePageSchema = z
  .object({
    messages: z.array(MessageSummarySchema).openapi({ description: 'Newest first' }),
    nextCursor: z
      .string()
      .nullable()
      .openapi({ description: 'Pass as `cursor` for the next page; null on the last page' }),
  })
  .openapi('MessagePage')

export const MailboxParamsSchema = z.object({
  address: z
    .string()
    .min(1)
    .max(MAX_ADDRESS_LENGTH)
    .openapi({
      param: { name: 'address', in: 'path' },
      description: 'The mailbox address, URL-encoded; case does not matter',
      example: 'bob@example.com',
    }),
})

const messageIdParam = z.string().openapi({
  param: { name: 'id', in: 'path' },
  description: 'Message id (ULID); anything else is not found',
  example: EXAMPLE_ID,
})

export const MessageParamsSchema = MailboxParamsSchema.extend({ id: messageIdParam })

export const AttachmentParamsSchema = MessageParamsSchema.extend({
  index: z.string().openapi({
    param: { name: 'index', in: 'path' },
    description: 'Attachment position from 0, as in `attachments[].index`',
    example: '0',
  }),
})

export const ListMessagesQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_SIZE)
    .default(DEFAULT_PAGE_SIZE)
    .openapi({
      param: { name: 'limit', in: 'query' },
      description: `Page size, 1 to ${MAX_PAGE_SIZE}`,
      example: DEFAULT_PAGE_SIZE,
    }),
  cursor: z
    .string()
    .min(1)
    .optional()
    .openapi({
      param: { name: 'cursor', in: 'query' },
      description: 'The `nextCursor` of the previous page',
    }),
})

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
      .openapi({ example: 'https://app.example.com/hooks/mail' }),
    mailbox: z
      .string()
      .trim()
      .min(1)
      .max(MAX_ADDRESS_LENGTH)
      .nullable()
      .optional()
      .openapi({ description: 'Only this mailbox; omit or null for every mailbox' }),
  })
  .openapi('CreateWebhook')

export const CreatedWebhookSchema = z
  .object({
    id: z.string().openapi({ example: 'wh_0123456789abcdef0123' }),
    secret: z
      .string()
      .openapi({ description: 'Standard Webhooks signing secret; shown only here' }),
    url: z.string(),
    mailbox: z.string().nullable(),
  })
  .openapi('CreatedWebhook')

export const WebhookSchema = z
  .object({
    id: z.string().openapi({ example: 'wh_0123456789abcdef0123' }),
    url: z.string(),
    mailbox: z.string().nullable().openapi({ description: 'null: every mailbox' }),
    createdAt: z.string(),
  })
  .openapi('Webhook')

export const WebhookListSchema = z
  .object({ webhooks: z.array(WebhookSchema) })
  .openapi('WebhookList')

export const WebhookParamsSchema = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: 'wh_0123456789abcdef0123' }),
})

/** A documented error response, for a route's `responses`. */
export function problemContent(description: string) {
  return {
    description,
    content: { 'application/problem+json': { schema: ProblemSchema } },
  } as const
}
