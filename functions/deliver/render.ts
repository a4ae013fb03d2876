/**
 * The body and headers of a webhook in the endpoint's format. Pure but for `loadRaw`,
 * which is called only when the format needs the message's bytes: `raw` always, the
 * others when attachments go inline.
 */
import type { WebhookEndpoint } from '../../shared/contracts/webhook.ts'
import { buildWebhookPayload, type PayloadMessage } from '../../shared/webhook-payload.ts'
import { buildPostmarkPayload } from './formats/postmark.ts'
import { rawHeaders } from './formats/raw.ts'

export interface RenderedWebhook {
  headers: Record<string, string>
  body: Uint8Array | string
}

export interface RenderInput {
  message: PayloadMessage
  mailboxes: string[]
  rcptTo: string[]
  /** The event type: `message.received`, or `webhook.test` for a test ping. */
  event: string
  loadRaw: () => Promise<Uint8Array | undefined>
}

/** Attachment bytes by index, from the raw message, for the indexes `wanted` says. */
async function attachmentContents(
  input: RenderInput,
  wanted: (size: number) => boolean,
): Promise<Array<Uint8Array | undefined>> {
  if (!input.message.attachments.some((attachment) => wanted(attachment.size))) return []
  const raw = await input.loadRaw()
  if (raw === undefined) return []
  // The parser only for inline attachments: deliver's bundle loads it then, not at cold start.
  const { parseMail, withTnefContents } = await import('../../shared/message.ts')
  const { email } = await parseMail(raw)
  // The same list as the message's `attachments`: a winmail.dat's files after it.
  return withTnefContents(email.attachments).map((attachment) => {
    const content = attachment.content
    const bytes =
      typeof content === 'string' ? Buffer.from(content) : new Uint8Array(content as ArrayBuffer)
    return wanted(bytes.byteLength) ? bytes : undefined
  })
}

const JSON_HEADERS = { 'content-type': 'application/json' }

export async function renderWebhook(
  endpoint: Pick<WebhookEndpoint, 'format' | 'inlineAttachmentBytes'>,
  input: RenderInput,
): Promise<RenderedWebhook> {
  const { message, mailboxes, rcptTo, event } = input
  switch (endpoint.format) {
    case 'raw': {
      const raw = await input.loadRaw()
      if (raw === undefined) throw new Error(`raw source of message ${message.id} is missing`)
      return { headers: rawHeaders(message, mailboxes, rcptTo, event), body: raw }
    }
    case 'postmark': {
      // Postmark sends every attachment inline, whatever its size.
      const contents = await attachmentContents(input, () => true)
      return {
        headers: JSON_HEADERS,
        body: JSON.stringify(buildPostmarkPayload(message, rcptTo, contents)),
      }
    }
    default: {
      const limit = endpoint.inlineAttachmentBytes
      const contents = await attachmentContents(input, (size) => size <= limit)
      const payload = buildWebhookPayload(message, mailboxes, rcptTo, contents)
      const body = event === payload.type ? payload : { ...payload, type: event }
      return { headers: JSON_HEADERS, body: JSON.stringify(body) }
    }
  }
}
