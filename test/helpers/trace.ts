/**
 * Splits what the edge stored into the trace headers it prepended (edge/trace-headers.ts)
 * and the message exactly as the client sent it.
 */

// Return-Path, an optional Delivered-To, and a Received header whose last line ends in
// the RFC 5322 date; each line CRLF-terminated, folded lines starting with a tab.
const TRACE =
  /^Return-Path: <[^\r\n]*>\r\n(?:Delivered-To: [^\r\n]+\r\n)?Received: [^\r\n]*\r\n(?:\t[^\r\n]*\r\n)*?\t[^\r\n]*; [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d \+0000\r\n/

export interface Traced {
  /** The prepended header block. */
  trace: string
  /** The bytes after it: the message as received. */
  message: Buffer
}

/** Throws when `raw` does not begin with the edge's trace headers. */
export function splitTrace(raw: Uint8Array): Traced {
  const bytes = Buffer.from(raw)
  // latin1 maps each byte to one character, so lengths match byte offsets.
  const match = TRACE.exec(bytes.toString('latin1'))
  if (!match)
    throw new Error(`no trace headers at the start of:\n${bytes.toString('latin1', 0, 400)}`)
  return { trace: match[0], message: bytes.subarray(match[0].length) }
}
