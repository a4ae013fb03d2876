/**
 * The stored message and its summary: what ingest writes to a mailbox and what the API
 * and webhooks return. Built from postal-mime's parse, without I/O.
 */
import PostalMime, { type Address, type Email } from 'postal-mime'
import type { QueuedMessage } from './envelope.ts'

// Characters of the text body kept in a summary, enough for a list view.
const SNIPPET_CHARS = 200
// Characters of the text and the HTML body kept in the parsed message (1 Mi): far more
// than people write, and it bounds what the parsed JSON, the API's answer and a webhook
// can grow to (a body of control characters grows sixfold as JSON). A longer body is cut
// there, and said to be; the raw source always has all of it.
export const BODY_CHARS = 1024 * 1024

export interface MailAddress {
  /** The address, as written in the header. */
  address: string
  /** The display name, decoded, or `""`. */
  name: string
}

export interface AttachmentInfo {
  /** Position among the message's attachments, from 0: the `{index}` of the attachment URL. */
  index: number
  filename: string | null
  contentType: string
  /** Decoded size in bytes. */
  size: number
  /** Content-ID without angle brackets, for inline parts referenced from HTML as `cid:`. */
  contentId: string | null
  disposition: string | null
}

/** A message as stored in one mailbox, and as the API returns it. */
export interface StoredMessage {
  /** The id given at the edge (ULID): the same in every mailbox the message went to. */
  id: string
  /** The mailbox (lower-cased address) this copy belongs to. */
  mailbox: string
  receivedAt: string
  /**
   * The LMTP envelope as this mailbox saw it: rcptTo holds only the recipients delivered
   * to this mailbox, so no mailbox learns of another's (Bcc) recipients.
   */
  envelope: { mailFrom: string; rcptTo: string[] }
  /** Size of the raw message in bytes. */
  size: number
  from: MailAddress | null
  to: MailAddress[]
  cc: MailAddress[]
  replyTo: MailAddress[]
  subject: string | null
  /** The Date header, as ISO 8601 when it parses, else as written. */
  date: string | null
  /** The Message-ID header, with angle brackets. */
  messageId: string | null
  inReplyTo: string | null
  /** The text body, its first BODY_CHARS characters when `truncated` says so. */
  text: string | null
  /** The HTML body, its first BODY_CHARS characters when `truncated` says so. */
  html: string | null
  /** Bodies cut at BODY_CHARS characters; set only when one was. Read `raw` for all. */
  truncated?: { text: boolean; html: boolean }
  /** Every header, in order, with its name as written and its value decoded. */
  headers: { name: string; value: string }[]
  attachments: AttachmentInfo[]
  /** Set when the MIME structure could not be parsed: the raw message is still stored. */
  parseError?: string
}

/** The small record that mailbox listings return. */
export interface MessageSummary {
  id: string
  mailbox: string
  receivedAt: string
  size: number
  from: MailAddress | null
  to: MailAddress[]
  subject: string | null
  date: string | null
  /** The start of the text body, whitespace collapsed. */
  snippet: string
  attachments: number
}

/** Parses raw bytes with postal-mime; never throws (a failure is kept in `parseError`). */
export async function parseMail(raw: Uint8Array): Promise<{ email: Email; error?: string }> {
  try {
    return { email: await PostalMime.parse(raw, { attachmentEncoding: 'arraybuffer' }) }
  } catch (error) {
    const empty: Email = { headers: [], headerLines: [], attachments: [] }
    return { email: empty, error: error instanceof Error ? error.message : String(error) }
  }
}

function flatten(addresses: Address[] | undefined): MailAddress[] {
  const out: MailAddress[] = []
  for (const entry of addresses ?? []) {
    if (entry.group) out.push(...entry.group.map(({ address, name }) => ({ address, name })))
    else if (entry.address !== undefined) out.push({ address: entry.address, name: entry.name })
  }
  return out
}

function byteLength(content: ArrayBuffer | Uint8Array | string): number {
  return typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength
}

function cut(body: string | undefined): string | null {
  if (body === undefined) return null
  return body.length > BODY_CHARS ? body.slice(0, BODY_CHARS) : body
}

/** The stored form of a parsed message, as delivered to one mailbox. */
export function buildStoredMessage(
  queued: QueuedMessage,
  mailbox: string,
  rcptTo: string[],
  email: Email,
  parseError?: string,
): StoredMessage {
  const message: StoredMessage = {
    id: queued.id,
    mailbox,
    receivedAt: queued.receivedAt,
    envelope: { mailFrom: queued.envelope.mailFrom, rcptTo },
    size: queued.size,
    from: flatten(email.from ? [email.from] : undefined)[0] ?? null,
    to: flatten(email.to),
    cc: flatten(email.cc),
    replyTo: flatten(email.replyTo),
    subject: email.subject ?? null,
    date: email.date ?? null,
    messageId: email.messageId ?? null,
    inReplyTo: email.inReplyTo ?? null,
    text: cut(email.text),
    html: cut(email.html),
    headers: email.headers.map(({ originalKey, value }) => ({ name: originalKey, value })),
    attachments: email.attachments.map((attachment, index) => ({
      index,
      filename: attachment.filename,
      contentType: attachment.mimeType,
      size: byteLength(attachment.content),
      contentId: attachment.contentId?.replace(/^<|>$/g, '') ?? null,
      disposition: attachment.disposition,
    })),
  }
  const truncated = {
    text: (email.text?.length ?? 0) > BODY_CHARS,
    html: (email.html?.length ?? 0) > BODY_CHARS,
  }
  if (truncated.text || truncated.html) message.truncated = truncated
  if (parseError !== undefined) message.parseError = parseError
  return message
}

export function summarize(message: StoredMessage): MessageSummary {
  return {
    id: message.id,
    mailbox: message.mailbox,
    receivedAt: message.receivedAt,
    size: message.size,
    from: message.from,
    to: message.to,
    subject: message.subject,
    date: message.date,
    snippet: (message.text ?? '').replace(/\s+/g, ' ').trim().slice(0, SNIPPET_CHARS),
    attachments: message.attachments.length,
  }
}
