/**
 * The `raw` format: the message itself as `message/rfc822`, byte for byte as received,
 * with the envelope and our ids in request headers (the body stays untouched, so the
 * signature and any DKIM signature in it still verify). Pure.
 */
import { type PayloadMessage, recipientHash } from '../../../shared/webhook-payload.ts'

/**
 * A header value that HTTP carries safely: printable ASCII kept, anything else (an
 * SMTPUTF8 address, a control character) percent-encoded as UTF-8, and `%` itself too.
 */
export function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x24\x26-\x7e]/gu, (char) => encodeURIComponent(char))
}

/** The request headers of a raw webhook; list values are comma-separated. */
export function rawHeaders(
  message: PayloadMessage,
  mailboxes: string[],
  rcptTo: string[],
  event: string,
): Record<string, string> {
  const hash = recipientHash(message, rcptTo)
  return {
    'content-type': 'message/rfc822',
    'mailbridge-event': event,
    'mailbridge-message-id': message.id,
    'mailbridge-received-at': message.receivedAt,
    'mailbridge-mail-from': headerSafe(message.envelope.mailFrom),
    'mailbridge-rcpt-to': headerSafe(rcptTo.join(',')),
    'mailbridge-mailboxes': headerSafe(mailboxes.join(',')),
    ...(hash !== null && { 'mailbridge-mailbox-hash': headerSafe(hash) }),
  }
}
