/** Mailboxes and their messages: list, read as JSON, raw source, attachments, mark read, delete. */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import * as z from 'zod/mini'
import type { Stores } from '../../shared/compose.ts'
import { meta } from '../../shared/contracts/zod-mini.ts'
import { InvalidCursorError } from '../../shared/errors.ts'
import { inMailbox } from '../../shared/mailbox-view.ts'
import { isMessageId } from '../../shared/message-id.ts'
import { mailboxName } from '../../shared/store/keys.ts'
import type { Entry } from '../../shared/store/mailboxes.ts'
import { attachmentDisposition, safeContentType } from './content-disposition.ts'
import { BadRequestError, NotFoundError } from './errors.ts'
import {
  AttachmentParamsSchema,
  MailboxListSchema,
  MailboxParamsSchema,
  MessagePageSchema,
  MessageParamsSchema,
  MessageSummarySchema,
  PageQuerySchema,
  problemContent,
  routeSchema,
  StoredMessageSchema,
  UpdateMessageSchema,
} from './schemas.ts'

// Served bytes come from untrusted mail: never let a browser sniff them into HTML or run them.
const UNTRUSTED_CONTENT_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; sandbox",
}

const badRequest = problemContent('An invalid parameter')
const unauthorized = problemContent('No API key, or a wrong one')
const notFound = problemContent('No such message')
const binary = routeSchema(meta(z.string(), { format: 'binary' }))

const listMailboxes = createRoute({
  method: 'get',
  path: '/v1/mailboxes',
  summary: 'List mailboxes with their counters',
  request: { query: PageQuerySchema },
  responses: {
    200: {
      description: 'A page of mailboxes',
      content: { 'application/json': { schema: MailboxListSchema } },
    },
    400: problemContent('Invalid limit or cursor'),
    401: unauthorized,
  },
})

const listMessages = createRoute({
  method: 'get',
  path: '/v1/mailboxes/{address}/messages',
  summary: 'List the messages of a mailbox, newest first',
  request: { params: MailboxParamsSchema, query: PageQuerySchema },
  responses: {
    200: { description: 'A page', content: { 'application/json': { schema: MessagePageSchema } } },
    400: problemContent('Invalid limit or cursor'),
    401: unauthorized,
  },
})

const getMessage = createRoute({
  method: 'get',
  path: '/v1/mailboxes/{address}/messages/{id}',
  summary: 'Read a message as JSON',
  request: { params: MessageParamsSchema },
  responses: {
    200: {
      description: 'The message',
      content: { 'application/json': { schema: StoredMessageSchema } },
    },
    400: badRequest,
    401: unauthorized,
    404: notFound,
  },
})

const getRaw = createRoute({
  method: 'get',
  path: '/v1/mailboxes/{address}/messages/{id}/raw',
  summary: 'The raw message, byte for byte as received',
  request: { params: MessageParamsSchema },
  responses: {
    200: { description: 'RFC 5322 source', content: { 'message/rfc822': { schema: binary } } },
    400: badRequest,
    401: unauthorized,
    404: notFound,
  },
})

const getAttachment = createRoute({
  method: 'get',
  path: '/v1/mailboxes/{address}/messages/{id}/attachments/{index}',
  summary: 'Download one attachment, decoded',
  request: { params: AttachmentParamsSchema },
  responses: {
    200: {
      description:
        "The attachment's bytes, under its own content type when well formed (application/octet-stream otherwise)",
      content: { '*/*': { schema: binary } },
    },
    400: badRequest,
    401: unauthorized,
    404: problemContent('No such message or attachment'),
  },
})

const updateMessage = createRoute({
  method: 'patch',
  path: '/v1/mailboxes/{address}/messages/{id}',
  summary: 'Mark a message read or unread',
  request: {
    params: MessageParamsSchema,
    body: { required: true, content: { 'application/json': { schema: UpdateMessageSchema } } },
  },
  responses: {
    200: {
      description: 'The updated summary',
      content: { 'application/json': { schema: MessageSummarySchema } },
    },
    400: badRequest,
    401: unauthorized,
    404: notFound,
    415: problemContent('The body is not application/json'),
  },
})

const deleteMessage = createRoute({
  method: 'delete',
  path: '/v1/mailboxes/{address}/messages/{id}',
  summary: 'Delete a message',
  request: { params: MessageParamsSchema },
  responses: {
    204: { description: 'Deleted' },
    400: badRequest,
    401: unauthorized,
    404: notFound,
  },
})

/** The mailbox and message id of a path, or NotFoundError for an id that cannot exist. */
function messageRef(params: { address: string; id: string }): { mailbox: string; id: string } {
  if (!isMessageId(params.id)) throw new NotFoundError(`No message ${params.id}`)
  return { mailbox: mailboxName(params.address), id: params.id }
}

function toBytes(content: ArrayBuffer | Uint8Array | string): Uint8Array<ArrayBuffer> {
  if (typeof content === 'string') return new Uint8Array(Buffer.from(content, 'utf8'))
  return content instanceof ArrayBuffer ? new Uint8Array(content) : new Uint8Array(content)
}

/** A cursor this API did not hand out is the client's error. */
async function paged<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (error) {
    if (error instanceof InvalidCursorError) throw new BadRequestError('cursor is not valid')
    throw error
  }
}

export function registerMailboxRoutes(
  app: OpenAPIHono,
  { mailboxes, messages }: Pick<Stores, 'mailboxes' | 'messages'>,
): void {
  /** The mailbox's entry for a message, or NotFoundError: a message is read only through one. */
  async function entryOf(params: { address: string; id: string }): Promise<Entry> {
    const { mailbox, id } = messageRef(params)
    const entry = await mailboxes.get(mailbox, id)
    if (entry === undefined) throw new NotFoundError(`No message ${id} in ${mailbox}`)
    return entry
  }

  async function rawOf(params: { address: string; id: string }): Promise<Uint8Array> {
    const entry = await entryOf(params)
    const raw = await messages.getRaw(entry.id)
    if (raw === undefined) throw new NotFoundError(`No message ${entry.id} in ${entry.mailbox}`)
    return raw
  }

  app.openapi(listMailboxes, async (c) => {
    const { limit, cursor } = c.req.valid('query')
    const page = await paged(() => mailboxes.mailboxes(limit, cursor))
    return c.json({ mailboxes: page.items, nextCursor: page.nextCursor }, 200)
  })

  app.openapi(listMessages, async (c) => {
    const { address } = c.req.valid('param')
    const { limit, cursor } = c.req.valid('query')
    const page = await paged(() => mailboxes.page(mailboxName(address), limit, cursor))
    return c.json({ messages: page.items, nextCursor: page.nextCursor }, 200)
  })

  app.openapi(getMessage, async (c) => {
    const entry = await entryOf(c.req.valid('param'))
    const parsed = await messages.getParsed(entry.id)
    if (parsed === undefined) throw new NotFoundError(`No message ${entry.id} in ${entry.mailbox}`)
    return c.json(inMailbox(parsed, entry), 200)
  })

  app.openapi(getRaw, async (c) => {
    const raw = await rawOf(c.req.valid('param'))
    return c.body(toBytes(raw), 200, {
      ...UNTRUSTED_CONTENT_HEADERS,
      'Content-Type': 'message/rfc822',
    })
  })

  app.openapi(getAttachment, async (c) => {
    const params = c.req.valid('param')
    const raw = await rawOf(params)
    // Only canonical indexes name an attachment: "01" or "+1" would alias "1".
    const index = /^(0|[1-9][0-9]{0,5})$/.test(params.index) ? Number(params.index) : -1
    // The MIME parser is loaded here, on the first attachment asked for: no other route
    // parses, so the API's cold start does not compile it (as deliver's render.ts).
    const { parseMail, withTnefContents } = await import('../../shared/message.ts')
    // Counted as the stored message counts them: the files unpacked from TNEF come after.
    const attachment =
      index < 0 ? undefined : withTnefContents((await parseMail(raw)).email.attachments)[index]
    if (attachment === undefined) {
      throw new NotFoundError(`Message ${params.id} has no attachment ${params.index}`)
    }
    return c.body(toBytes(attachment.content), 200, {
      ...UNTRUSTED_CONTENT_HEADERS,
      'Content-Type': safeContentType(attachment.mimeType),
      'Content-Disposition': attachmentDisposition(attachment.filename, `attachment-${index}`),
    })
  })

  app.openapi(updateMessage, async (c) => {
    const { mailbox, id } = messageRef(c.req.valid('param'))
    const entry = await mailboxes.setSeen(mailbox, id, c.req.valid('json').seen)
    if (entry === undefined) throw new NotFoundError(`No message ${id} in ${mailbox}`)
    const { rcptTo: _rcptTo, ...summary } = entry
    return c.json(summary, 200)
  })

  app.openapi(deleteMessage, async (c) => {
    const { mailbox, id } = messageRef(c.req.valid('param'))
    const entry = await mailboxes.remove(mailbox, id)
    if (entry === undefined) throw new NotFoundError(`No message ${id} in ${mailbox}`)
    // The entry first, so a half-done delete never lists a message that cannot be read.
    await messages.release(id, mailbox)
    return c.body(null, 204)
  })
}
