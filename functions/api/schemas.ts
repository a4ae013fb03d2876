/**
 * The API's own wire shapes (parameters, pages, problems); the records it returns are the
 * schemas of shared/contracts/, so the store, the queues and the OpenAPI document share
 * one definition of each.
 */
import { z } from '@hono/zod-openapi'
import {
  MailboxSchema,
  MessageSchema,
  MessageSummarySchema as MessageSummaryContract,
} from '../../shared/contracts/message.ts'
import { WebhookPayloadSchema as WebhookPayloadContract } from '../../shared/contracts/payload.ts'
import {
  QuotaSchema as QuotaContract,
  RouteInputSchema as RouteInputContract,
} from '../../shared/contracts/route.ts'
import { MAX_ADDRESS_LENGTH } from '../../shared/contracts/webhook.ts'
import {
  CreatedWebhookSchema as CreatedWebhookContract,
  CreateWebhookSchema as CreateWebhookContract,
  DeliverySchema,
  RotatedSecretSchema as RotatedSecretContract,
  RotateSecretSchema as RotateSecretContract,
  UpdateWebhookSchema as UpdateWebhookContract,
  WebhookAttemptSchema,
  WebhookSchema as WebhookContract,
} from '../../shared/contracts/webhook-api.ts'

/** Page size when `limit` is not given. */
export const DEFAULT_PAGE_SIZE = 50
/** Largest page: one query, and a mailbox list page is one batch read per 100. */
export const MAX_PAGE_SIZE = 200

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

/**
 * A shared contract as a route's request or response schema. The contracts are zod/mini
 * (shared/contracts/zod-mini.ts), and @hono/zod-openapi types a route's schemas as classic
 * zod's ZodType, whose chainable methods (`.optional()`, `.openapi()`...) a mini schema lacks.
 * What a route does with its schemas reads any zod 4 schema: its validator calls
 * `safeParseAsync`, and zod-to-openapi reads the definition and zod's global registry
 * (patches/@asteasolutions+zod-to-openapi+9.1.0.patch). So this is the same object, typed as
 * a route wants it: call none of classic zod's methods on it. (Classic schemas compose mini
 * ones as they are: `z.array(MailboxSchema)`.)
 */
function routeSchema<T extends z.core.$ZodType>(schema: T): z.ZodType<z.output<T>, z.input<T>> {
  return schema as unknown as z.ZodType<z.output<T>, z.input<T>>
}

export const StoredMessageSchema = routeSchema(MessageSchema)
export const MessageSummarySchema = routeSchema(MessageSummaryContract)
export const WebhookSchema = routeSchema(WebhookContract)
export const CreateWebhookSchema = routeSchema(CreateWebhookContract)
export const CreatedWebhookSchema = routeSchema(CreatedWebhookContract)
export const UpdateWebhookSchema = routeSchema(UpdateWebhookContract)
export const RotateSecretSchema = routeSchema(RotateSecretContract)
export const RotatedSecretSchema = routeSchema(RotatedSecretContract)
export const RouteInputSchema = routeSchema(RouteInputContract)
export const QuotaSchema = routeSchema(QuotaContract)
export const WebhookPayloadSchema = routeSchema(WebhookPayloadContract)

const nextCursor = z
  .string()
  .nullable()
  .openapi({ description: 'Pass as `cursor` for the next page; null on the last page' })

export const MailboxListSchema = z
  .object({
    mailboxes: z.array(MailboxSchema).openapi({ description: 'In address order' }),
    nextCursor,
  })
  .openapi('MailboxList')

export const MessagePageSchema = z
  .object({
    messages: z.array(MessageSummarySchema).openapi({ description: 'Newest first' }),
    nextCursor,
  })
  .openapi('MessagePage')

export const UpdateMessageSchema = z
  .strictObject({ seen: z.boolean().openapi({ description: 'Mark as read (true) or unread' }) })
  .openapi('UpdateMessage')

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

export const PageQuerySchema = z.object({
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

export const WebhookListSchema = z
  .object({ webhooks: z.array(WebhookSchema) })
  .openapi('WebhookList')

export const WebhookParamsSchema = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: 'wh_0123456789abcdef0123' }),
})

export const AttemptPageSchema = z
  .object({
    attempts: z.array(WebhookAttemptSchema).openapi({ description: 'Newest first' }),
    nextCursor,
  })
  .openapi('WebhookAttemptPage')

export const AttemptQuerySchema = PageQuerySchema.extend({
  status: z
    .enum(['succeeded', 'failed'])
    .optional()
    .openapi({
      param: { name: 'status', in: 'query' },
      description: 'Only attempts of this status',
    }),
})

export const ReplaySchema = z
  .union([
    z.strictObject({
      messageId: z.string().openapi({ description: 'Replay the notification of this message' }),
    }),
    z.strictObject({
      since: z.iso.datetime({ offset: true }).openapi({
        description: 'Replay every failed notification of messages received since then',
      }),
    }),
  ])
  .openapi('WebhookReplay')

export const ReplayedSchema = z
  .object({ replayed: z.array(z.string()).openapi({ description: 'Message ids queued again' }) })
  .openapi('WebhookReplayed')

export const TestResultSchema = z
  .object({
    ok: z.boolean().openapi({ description: 'The receiver answered 2xx' }),
    webhookId: z.string(),
    httpStatus: z.number().int().nullable(),
    latencyMs: z.number().int(),
    response: z.string().openapi({ description: 'The first bytes of the answer' }),
    error: z.string().nullable(),
  })
  .openapi('WebhookTestResult')

export const DeliveryListSchema = z
  .object({ deliveries: z.array(DeliverySchema) })
  .openapi('DeliveryList')

/** A documented error response, for a route's `responses`. */
export function problemContent(description: string) {
  return {
    description,
    content: { 'application/problem+json': { schema: ProblemSchema } },
  } as const
}
