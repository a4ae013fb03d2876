/**
 * The parsed message and its summary: what ingest stores and what the API and webhooks
 * return (shapes in contracts/message.ts). Built from postal-mime's parse, without I/O.
 */
import type { Address } from 'postal-mime'
import type { MailAddress, MessageSummary, ParsedMessage } from './contracts/message.ts'
import type { QueuedMessage } from './contracts/queue.ts'
import { combineAuthentication, readAuthentication } from './parse/auth-results.ts'
import { readCalendar } from './parse/calendar.ts'
import type { CharsetUse } from './parse/charset.ts'
import type { DkimVerification } from './parse/dkim.ts'
import type { MailParse, MimePart } from './parse/mime.ts'
import { stripReply } from './parse/reply.ts'
import { readBounce, readFeedback } from './parse/reports.ts'
import { withTnefContents } from './parse/tnef.ts'

// Characters of the text body kept in a summary, enough for a list view.
const SNIPPET_CHARS = 200
// How much of the text a snippet is looked for in: whitespace is collapsed there only, not
// in a body of up to BODY_CHARS.
const SNIPPET_SCAN_CHARS = 20 * SNIPPET_CHARS
// A summary is an item in the mailbox index, which DynamoDB caps at 400 KB: it keeps the
// first addresses of To and the start of the subject (RFC 5322's line length), and the
// message itself has all of them.
const SUMMARY_ADDRESSES = 50
const SUMMARY_SUBJECT_CHARS = 998
const SUMMARY_ADDRESS_CHARS = 320
// Characters of the text and the HTML body kept in the parsed message (1 Mi): far more
// than people write, and it bounds what the parsed JSON, the API's answer and a webhook
// can grow to (a body of control characters grows sixfold as JSON). A longer body is cut
// there, and said to be; the raw source always has all of it.
export const BODY_CHARS = 1024 * 1024

export { inMailbox } from './mailbox-view.ts'
export { type DkimOptions, type TxtResolver, verifyDkim } from './parse/dkim.ts'
export { type MailParse, parseMail } from './parse/mime.ts'
export { type MessageFile, withTnefContents } from './parse/tnef.ts'

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

/**
 * How the body of one kind was decoded: the charset of its first part, guessed when any of
 * its parts was guessed.
 */
function charsetOf(parts: MimePart[], type: string): CharsetUse | null {
  const used = parts.filter((p) => p.contentType === type && p.charset).map((p) => p.charset)
  const first = used[0]
  if (first === undefined) return null
  return { charset: first.charset, guessed: used.some((u) => u?.guessed) }
}

export interface BuildOptions {
  /** The authserv-id of the mail host's MTA (MAILBRIDGE_AUTHSERV_ID), whose verdicts are trusted. */
  authservId?: string | undefined
  /**
   * Ingest's own check of the DKIM signatures (`verifyDkim`): null for an unsigned message,
   * undefined when it did not run.
   */
  dkim?: DkimVerification[] | null | undefined
}

/** The stored form of a parsed message: one per message, whatever its mailboxes. */
export function buildParsedMessage(
  queued: QueuedMessage,
  parse: MailParse,
  options: BuildOptions = {},
): ParsedMessage {
  const { email, parts } = parse
  const parseError = parse.error
  const headers = email.headers.map(({ originalKey, value }) => ({ name: originalKey, value }))
  const message: ParsedMessage = {
    id: queued.id,
    receivedAt: queued.receivedAt,
    envelope: {
      mailFrom: queued.envelope.mailFrom,
      rcptTo: uniqueRecipients(queued.envelope.rcptTo),
    },
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
    strippedText: cut(stripReply(email.text ?? null) ?? undefined),
    headers,
    authentication: combineAuthentication(
      readAuthentication(headers, options.authservId),
      options.dkim,
    ),
    bounce: readBounce(parts),
    feedback: readFeedback(parts),
    calendar: readCalendar(parts),
    charsets: {
      text: charsetOf(parts, 'text/plain'),
      html: charsetOf(parts, 'text/html'),
    },
    attachments: withTnefContents(email.attachments).map((attachment, index) => ({
      index,
      filename: attachment.filename,
      contentType: attachment.mimeType,
      size: byteLength(attachment.content),
      contentId: attachment.contentId?.replace(/^<|>$/g, '') ?? null,
      disposition: attachment.disposition,
      ...(attachment.parent !== undefined && { parent: attachment.parent }),
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

/**
 * Each recipient once, compared case-insensitively as mailbox names are, in first-seen
 * order and first spelling. The edge answers every RCPT (RFC 2033: one reply each after
 * DATA), so a client repeating one address queues it as often as it repeated it.
 */
function uniqueRecipients(rcptTo: string[]): string[] {
  const seen = new Set<string>()
  return rcptTo.filter((rcpt) => {
    const key = rcpt.toLowerCase()
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

function shortAddress({ address, name }: MailAddress): MailAddress {
  return {
    address: address.slice(0, SUMMARY_ADDRESS_CHARS),
    name: name.slice(0, SUMMARY_ADDRESS_CHARS),
  }
}

/** A mailbox's summary of a new (unseen) message, bounded in size whatever the headers. */
export function summarize(
  message: ParsedMessage,
  mailbox: string,
  mailboxHash: string | null = null,
): MessageSummary {
  return {
    id: message.id,
    mailbox,
    receivedAt: message.receivedAt,
    size: message.size,
    from: message.from && shortAddress(message.from),
    to: message.to.slice(0, SUMMARY_ADDRESSES).map(shortAddress),
    subject: message.subject?.slice(0, SUMMARY_SUBJECT_CHARS) ?? null,
    date: message.date?.slice(0, SUMMARY_SUBJECT_CHARS) ?? null,
    snippet: (message.text ?? '')
      .slice(0, SNIPPET_SCAN_CHARS)
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, SNIPPET_CHARS),
    attachments: message.attachments.length,
    seen: false,
    mailboxHash,
  }
}
