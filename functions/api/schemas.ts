/**
 * The API's own wire shapes (parameters, pages, problems); the records it returns are the
 * schemas of shared/contracts/, so the store, the queues and the OpenAPI document share
 * one definition of each. Written with zod/mini like the contracts: classic zod builds
 * every schema with its whole API on it, and the API's cold start compiled and ran it
 * (scripts/bundle-options.ts leaves it out of the bundle). Each schema's documentation is in
 * zod's global registry (`meta`), where zod-to-openapi reads what `.openapi()` put.
 */
import type { ZodObject, ZodType } from 'zod'
import * as z from 'zod/mini'
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
import { meta } from '../../shared/contracts/zod-mini.ts'

/** Page size when `limit` is not given. */
export const DEFAULT_PAGE_SIZE = 50
/** Largest page: one query, and a mailbox list page is one batch read per 100. */
export const MAX_PAGE_SIZE = 200

const EXAMPLE_ID = '01JQ7Z8X9Y0A1B2C3D4E5F6G7H'

/**
 * A zod/mini schema as a route's request or response schema. @hono/zod-openapi types a
 * route's schemas as classic zod's ZodType, whose chainable methods (`.optional()`,
 * `.openapi()`...) a mini schema lacks. What a route does with its schemas reads any zod 4
 * schema: its validator calls `safeParseAsync`, and zod-to-openapi reads the definition and
 * zod's global registry (patches/@asteasolutions+zod-to-openapi+9.1.0.patch). So this is the
 * same object, typed as a route wants it: call none of classic zod's methods on it.
 */
export function routeSchema<T extends z.core.$ZodType>(
  schema: T,
): ZodType<z.output<T>, z.input<T>> {
  return schema as unknown as ZodType<z.output<T>, z.input<T>>
}

/** The same for a route's path or query parameters, which a route types as a ZodObject. */
export function routeParameters<S extends z.core.$ZodShape>(
  schema: z.ZodMiniObject<S>,
): ZodObject<S> {
  return schema as unknown as ZodObject<S>
}

const int = () => z.number().check(z.int())

const ProblemContract = meta(
  z.object({
    type: meta(z.string(), {
      description: 'A URI naming the problem type',
      example: 'about:blank',
    }),
    title: meta(z.string(), { description: 'The HTTP status phrase', example: 'Not Found' }),
    status: meta(int(), { description: 'The HTTP status code', example: 404 }),
    detail: meta(z.string(), { description: 'What went wrong, for a human' }),
  }),
  { id: 'Problem', description: 'An RFC 9457 problem details object' },
)
export const ProblemSchema = routeSchema(ProblemContract)

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

const nextCursor = meta(z.nullable(z.string()), {
  description: 'Pass as `cursor` for the next page; null on the last page',
})

export const MailboxListSchema = routeSchema(
  meta(
    z.object({
      mailboxes: meta(z.array(MailboxSchema), { description: 'In address order' }),
      nextCursor,
    }),
    { id: 'MailboxList' },
  ),
)

export const MessagePageSchema = routeSchema(
  meta(
    z.object({
      messages: meta(z.array(MessageSummaryContract), { description: 'Newest first' }),
      nextCursor,
    }),
    { id: 'MessagePage' },
  ),
)

export const UpdateMessageSchema = routeSchema(
  meta(
    z.strictObject({
      seen: meta(z.boolean(), { description: 'Mark as read (true) or unread' }),
    }),
    { id: 'UpdateMessage' },
  ),
)

const MailboxParams = z.object({
  address: meta(z.string().check(z.minLength(1), z.maxLength(MAX_ADDRESS_LENGTH)), {
    description: 'The mailbox address, URL-encoded; case does not matter',
    example: 'bob@example.com',
    param: { name: 'address', in: 'path' },
  }),
})
export const MailboxParamsSchema = routeParameters(MailboxParams)

const MessageParams = z.extend(MailboxParams, {
  id: meta(z.string(), {
    description: 'Message id (ULID); anything else is not found',
    example: EXAMPLE_ID,
    param: { name: 'id', in: 'path' },
  }),
})
export const MessageParamsSchema = routeParameters(MessageParams)

export const AttachmentParamsSchema = routeParameters(
  z.extend(MessageParams, {
    index: meta(z.string(), {
      description: 'Attachment position from 0, as in `attachments[].index`',
      example: '0',
      param: { name: 'index', in: 'path' },
    }),
  }),
)

const PageQuery = z.object({
  limit: meta(
    z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(MAX_PAGE_SIZE)), DEFAULT_PAGE_SIZE),
    {
      description: `Page size, 1 to ${MAX_PAGE_SIZE}`,
      example: DEFAULT_PAGE_SIZE,
      param: { name: 'limit', in: 'query' },
    },
  ),
  cursor: meta(z.optional(z.string().check(z.minLength(1))), {
    description: 'The `nextCursor` of the previous page',
    param: { name: 'cursor', in: 'query' },
  }),
})
export const PageQuerySchema = routeParameters(PageQuery)

export const WebhookListSchema = routeSchema(
  meta(z.object({ webhooks: z.array(WebhookContract) }), { id: 'WebhookList' }),
)

export const WebhookParamsSchema = routeParameters(
  z.object({
    id: meta(z.string(), {
      example: 'wh_0123456789abcdef0123',
      param: { name: 'id', in: 'path' },
    }),
  }),
)

export const AttemptPageSchema = routeSchema(
  meta(
    z.object({
      attempts: meta(z.array(WebhookAttemptSchema), { description: 'Newest first' }),
      nextCursor,
    }),
    { id: 'WebhookAttemptPage' },
  ),
)

export const AttemptQuerySchema = routeParameters(
  z.extend(PageQuery, {
    status: meta(z.optional(z.enum(['succeeded', 'failed'])), {
      description: 'Only attempts of this status',
      param: { name: 'status', in: 'query' },
    }),
  }),
)

export const ReplaySchema = routeSchema(
  meta(
    z.union([
      z.strictObject({
        messageId: meta(z.string(), { description: 'Replay the notification of this message' }),
      }),
      z.strictObject({
        since: meta(z.iso.datetime({ offset: true }), {
          description: 'Replay every failed notification of messages received since then',
        }),
      }),
    ]),
    { id: 'WebhookReplay' },
  ),
)

export const ReplayedSchema = routeSchema(
  meta(
    z.object({
      replayed: meta(z.array(z.string()), { description: 'Message ids queued again' }),
    }),
    { id: 'WebhookReplayed' },
  ),
)

export const TestResultSchema = routeSchema(
  meta(
    z.object({
      ok: meta(z.boolean(), { description: 'The receiver answered 2xx' }),
      webhookId: z.string(),
      httpStatus: z.nullable(int()),
      latencyMs: int(),
      response: meta(z.string(), { description: 'The first bytes of the answer' }),
      error: z.nullable(z.string()),
    }),
    { id: 'WebhookTestResult' },
  ),
)

export const DeliveryListSchema = routeSchema(
  meta(z.object({ deliveries: z.array(DeliverySchema) }), { id: 'DeliveryList' }),
)

/** A documented error response, for a route's `responses`. */
export function problemContent(description: string) {
  return {
    description,
    content: { 'application/problem+json': { schema: ProblemSchema } },
  } as const
}
