/**
 * Delivery status notifications (RFC 3464) and feedback reports (ARF, RFC 5965) as data:
 * the bounce's recipients with action, status and diagnostic, the complaint's type and
 * source, and the original message's id when the report carries its headers.
 */
import type { MimePart } from './mime.ts'
import { type FieldGroup, field, fieldGroups, typed } from './report-fields.ts'

export interface BounceRecipient {
  /** Final-Recipient, without its address type. */
  recipient: string | null
  /** Original-Recipient, when the MTA gave it. */
  originalRecipient: string | null
  /** `failed`, `delayed`, `delivered`, `relayed` or `expanded`. */
  action: string | null
  /** The enhanced status code, e.g. `5.1.1`. */
  status: string | null
  /** Diagnostic-Code, without its type: the remote server's answer. */
  diagnostic: string | null
  /** Remote-MTA, without its type. */
  remoteMta: string | null
}

export interface Bounce {
  reportingMta: string | null
  recipients: BounceRecipient[]
  /** The Message-ID of the message that bounced, when the report carries its headers. */
  originalMessageId: string | null
}

export interface Feedback {
  /** `abuse`, `fraud`, `virus`, `not-spam`, `other`... */
  feedbackType: string | null
  userAgent: string | null
  originalMailFrom: string | null
  originalRcptTo: string[]
  arrivalDate: string | null
  sourceIp: string | null
  reportedDomain: string | null
  originalMessageId: string | null
}

const utf8 = new TextDecoder()

function textOf(part: MimePart): string {
  return utf8.decode(part.content)
}

// The headers of the returned message (message/rfc822 or text/rfc822-headers), as fields.
function originalMessageId(parts: MimePart[]): string | null {
  const original = parts.find((p) =>
    ['message/rfc822', 'text/rfc822-headers', 'message/rfc822-headers'].includes(p.contentType),
  )
  if (!original) return null
  const headers = textOf(original).split(/\r?\n\r?\n/, 1)[0] ?? ''
  return field(fieldGroups(headers)[0], 'message-id')
}

function recipient(group: FieldGroup): BounceRecipient {
  return {
    recipient: typed(field(group, 'final-recipient'))?.replace(/^<(.*)>$/, '$1') ?? null,
    originalRecipient: typed(field(group, 'original-recipient')),
    action: field(group, 'action')?.toLowerCase() ?? null,
    status: field(group, 'status')?.match(/\d\.\d{1,3}\.\d{1,3}/)?.[0] ?? null,
    diagnostic: typed(field(group, 'diagnostic-code')),
    remoteMta: typed(field(group, 'remote-mta')),
  }
}

/** The bounce a delivery-status part reports, or null when there is none. */
export function readBounce(parts: MimePart[]): Bounce | null {
  const status = parts.find((p) => p.contentType === 'message/delivery-status')
  if (!status) return null
  // RFC 3464 §2.1: one group of per-message fields, then one per recipient.
  const [perMessage, ...perRecipient] = fieldGroups(textOf(status))
  const groups = perRecipient.length
    ? perRecipient
    : perMessage?.has('final-recipient')
      ? [perMessage]
      : []
  return {
    reportingMta: typed(field(perMessage, 'reporting-mta')),
    recipients: groups.filter((g) => g.has('final-recipient') || g.has('action')).map(recipient),
    originalMessageId: originalMessageId(parts),
  }
}

/** The feedback report (ARF) of a message/feedback-report part, or null. */
export function readFeedback(parts: MimePart[]): Feedback | null {
  const report = parts.find((p) => p.contentType === 'message/feedback-report')
  if (!report) return null
  const group = fieldGroups(textOf(report))[0]
  return {
    feedbackType: field(group, 'feedback-type')?.toLowerCase() ?? null,
    userAgent: field(group, 'user-agent'),
    originalMailFrom: field(group, 'original-mail-from'),
    originalRcptTo: group?.get('original-rcpt-to') ?? [],
    arrivalDate: field(group, 'arrival-date') ?? field(group, 'received-date'),
    sourceIp: field(group, 'source-ip'),
    reportedDomain: field(group, 'reported-domain'),
    originalMessageId: originalMessageId(parts),
  }
}
