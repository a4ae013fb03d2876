/**
 * How many bytes of a queue message an envelope takes. Pure.
 *
 * A raw message too big for a queue message is staged in S3, but the envelope always goes
 * in the queue message itself. Left unchecked, many or long recipients (an address may be
 * as long as smtp-server's 16 KiB command line, and escaping can triple it) make a body SQS
 * refuses after DATA on every retry. The edge counts at RCPT time instead, and answers a
 * recipient that would not fit `452 4.5.3`: the client sends it in a later transaction.
 */
import { queueStringBytes } from '../shared/contracts/queue.ts'

// Bytes of a queue message besides the strings counted here, at most: the format version,
// id, times, size, trace bytes, the routes' version and delimiters, the client's address,
// and the S3 reference of a staged message (a bucket name has at most 63 bytes, an
// incoming/ key about 40), with room.
const FIXED_BYTES = 1024

/**
 * Bytes of a staged queue message before any recipient: the fixed fields and the strings
 * given (the sender, the client's hostname and LHLO name).
 */
export function envelopeBaseBytes(...texts: string[]): number {
  return texts.reduce((sum, text) => sum + queueStringBytes(text) + 1, FIXED_BYTES)
}

/** Bytes one more recipient adds: the address, quoted and escaped, and a comma. */
export function recipientBytes(address: string): number {
  return queueStringBytes(address) + 1
}
