/** Mailboxes and their messages: list, read as JSON, raw source, attachments, delete. */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { InvalidCursorError } from '../../shared/errors.ts'
import { mailboxName } from '../../shared/mailbox-layout.ts'
import type { MailboxStore } from '../../shared/mailbox-store.ts'
import { parseMail } from '../../shared/message.ts'
import { isMessageId } from '../../shared/message-id.ts'
import { attachmentDisposition, safeContentType } from './content-disposition.ts'
import { BadRequestError, NotFoundError } from './errors.ts'
import {
  AttachmentParamsSchema,
  ListMessagesQuerySchema,
  MailboxListSchema,
  MailboxParamsSchema,
  MessagePageSchema,
  MessageParamsSchema,
  problemContent,
  StoredMessageSchema,
} from './schemas.ts'

// Served bytes come from untrusted mail: never let a browser sniff them into HTML or run them.
const UNTRUSTED_CONTENT_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; sandbox",
}

const badRequest = problemContent('An invalid parameter')
const unauthorized = problemContent('No API key, or a wrong one')
const notFound = problemContent('No such message')
const binary = z.string().openapi({ format: 'binary' })

const listMailboxes = createRoute({
  method: 'get',
  path: '/v1/mailboxes',
  summary: 'List mailboxes with their message counts',
  responses: {
    200: {
      description: 'Mailboxes',
      content: { 'application/json': { schema: MailboxListSchema } },
    },
    401: unauthorized,
  },
})

const listMessages = createRoute({
  method: 'get',
  path: '/v1/mailboxes/{address}/messages',
  summary: 'List the messages of a mailbox, newest first',
  request: { params: MailboxParamsSchema, query: ListMessagesQuerySchema },
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
      description: "The attachment's bytes, with its own content type",
      content: { 'application/octet-stream': { schema: binary } },
    },
    400: badRequest,
    401: unauthorized,
    404: problemContent('No such message or attachment'),
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

export function registerMailboxRoutes(app: OpenAPIHono, mailboxes: MailboxStore): void {
  app.openapi(listMailboxes, async (c) => {
    const names = await mailboxes.mailboxes()
    const counts = await Promise.all(names.map((name) => mailboxes.count(name)))
    return c.json(
      { mailboxes: names.map((address, i) => ({ address, messages: counts[i] ?? 0 })) },
      200,
    )
  })

  app.openapi(listMessages, async (c) => {
    const { address } = c.req.valid('param')
    const { limit, cursor } = c.req.valid('query')
    try {
      return c.json(await mailboxes.list(mailboxName(address), limit, cursor), 200)
    } catch (error) {
      if (error instanceof InvalidCursorError) throw new BadRequestError('cursor is not valid')
      throw error
    }
  })

  app.openapi(getMessage, async (c) => {
    const { mailbox, id } = messageRef(c.req.valid('param'))
    const message = await mailboxes.get(mailbox, id)
    if (message === undefined) throw new NotFoundError(`No message ${id} in ${mailbox}`)
    return c.json(message, 200)
  })

  app.openapi(getRaw, async (c) => {
    const { mailbox, id } = messageRef(c.req.valid('param'))
    const raw = await mailboxes.getRaw(mailbox, id)
    if (raw === undefined) throw new NotFoundError(`No message ${id} in ${mailbox}`)
    return c.body(toBytes(raw), 200, {
      ...UNTRUSTED_CONTENT_HEADERS,
      'Content-Type': 'message/rfc822',
    })
  })

  app.openapi(getAttachment, async (c) => {
    const params = c.req.valid('param')
    const { mailbox, id } = messageRef(params)
    const raw = await mailboxes.getRaw(mailbox, id)
    if (raw === undefined) throw new NotFoundError(`No message ${id} in ${mailbox}`)
    // Only canonical indexes name an attachment: "01" or "+1" would alias "1".
    const index = /^(0|[1-9][0-9]{0,5})$/.test(params.index) ? Number(params.index) : -1
    const attachment = index < 0 ? undefined : (await parseMail(raw)).email.attachments[index]
    if (attachment === undefined) {
      throw new NotFoundError(`Message ${id} has no attachment ${params.index}`)
    }
    return c.body(toBytes(attachment.content), 200, {
      ...UNTRUSTED_CONTENT_HEADERS,
      'Content-Type': safeContentType(attachment.mimeType),
      'Content-Disposition': attachmentDisposition(attachment.filename, `attachment-${index}`),
    })
  })

  app.openapi(deleteMessage, async (c) => {
    const { mailbox, id } = messageRef(c.req.valid('param'))
    if (!(await mailboxes.delete(mailbox, id))) {
      throw new NotFoundError(`No message ${id} in ${mailbox}`)
    }
    return c.body(null, 204)
  })
}
