/**
 * Trace headers, as Dovecot's LMTP server adds them at final delivery (RFC 5321 §4.4):
 * `Return-Path`, `Delivered-To` and `Received`. They are prepended to the message as it
 * came in; not a byte of it is changed. Pure: tested directly.
 */

export interface TraceInfo {
  /** The message id given by the edge; the `id` of the Received header. */
  id: string
  /** MAIL FROM, `""` for the null sender. */
  mailFrom: string
  /** Every accepted RCPT TO. */
  rcptTo: readonly string[]
  /** The LMTP client: its address (none over a UNIX socket), and the name it gave in LHLO. */
  client: { address?: string; lhlo?: string }
  /** Our name, as in the greeting. */
  hostname: string
  receivedAt: Date
}

// Anything that could end or fold a header line. smtp-server already refuses control
// characters in addresses and the LHLO name; this is the backstop, since a header
// injected here would be trusted as our own.
function clean(text: string): string {
  let out = ''
  for (const char of text) {
    const code = char.charCodeAt(0)
    out += code < 0x20 || code === 0x7f ? '?' : char
  }
  return out
}

/**
 * An RFC 5322 §3.3 date-time in UTC, e.g. `Wed, 25 Nov 2026 10:00:00 +0000`: what
 * toUTCString() gives (ECMA-262 fixes its form), with the numeric zone RFC 5322 prefers.
 */
export function rfc5322Date(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000')
}

/**
 * The header block to prepend, CRLF-terminated. `Delivered-To` and the `for` clause of
 * `Received` name the recipient only when there is exactly one: the same bytes are stored
 * for every recipient of the transaction, and naming them all would tell each mailbox who
 * else got the message, Bcc recipients included.
 */
export function traceHeaders(info: TraceInfo): string {
  const sender = clean(info.mailFrom)
  const single = info.rcptTo.length === 1 ? clean(info.rcptTo[0] ?? '') : undefined
  const from = [
    info.client.lhlo ? clean(info.client.lhlo) : undefined,
    info.client.address ? `([${clean(info.client.address)}])` : undefined,
  ]
    .filter(Boolean)
    .join(' ')
  const lines = [`Return-Path: <${sender}>`]
  if (single) lines.push(`Delivered-To: ${single}`)
  lines.push(
    `Received: from ${from || 'unknown'}`,
    `\tby ${clean(info.hostname)} with LMTP id ${info.id}`,
    `\t(envelope-from <${sender}>)`,
  )
  const date = rfc5322Date(info.receivedAt)
  if (single) lines.push(`\tfor <${single}>; ${date}`)
  else lines[lines.length - 1] += `; ${date}`
  return `${lines.join('\r\n')}\r\n`
}
