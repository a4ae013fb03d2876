/**
 * Spots a client's retry of a message that is already queued. When the edge's SQS send
 * times out, SQS may still have stored the message; the edge must answer 451 all the
 * same, and Postfix delivers the same queue file again later under a new edge id.
 * Without this, the mailbox would get it twice and every webhook would fire twice.
 *
 * A retry carries the very bytes of the first try (Postfix's own Received header, with
 * its queue id, first); only the edge's trace headers in front differ. So each
 * mailbox remembers, per fingerprint of the sender and those bytes, which message it got
 * (shared/store/fingerprints.ts). The record is written after the message is
 * stored and its webhooks are queued, so a fingerprint never points at a half-stored
 * message. Two tries ingested at the same moment can still both be stored: a duplicate,
 * never a loss. Postfix retries minutes apart, so that is rare.
 */
import { createHash } from 'node:crypto'
import type { QueuedMessage } from '../../shared/contracts/queue.ts'
import type { Received } from '../../shared/store/fingerprints.ts'

// How far back a retry is looked for: Postfix's maximal_queue_lifetime default, the
// longest it keeps retrying one message. Fingerprints expire after 7 days.
export const RETRY_WINDOW_MS = 5 * 24 * 60 * 60 * 1000

// What an MTA puts first: its own Received line, with the queue id that makes two
// identical deliveries one message tried twice.
const MTA_RECEIVED = /^Received:/i

/**
 * sha256 of the envelope sender and the bytes the client sent, hex. Undefined when the
 * queued message does not say where the edge's trace headers end, or when the client's
 * bytes do not begin with a Received line: a script that sends the same bytes twice means
 * two messages.
 */
export function fingerprint(queued: QueuedMessage, raw: Uint8Array): string | undefined {
  if (queued.traceBytes === undefined || queued.traceBytes > raw.length) return undefined
  const sent = raw.subarray(queued.traceBytes)
  if (!MTA_RECEIVED.test(Buffer.from(sent.subarray(0, 9)).toString('latin1'))) return undefined
  return createHash('sha256')
    .update(queued.envelope.mailFrom)
    .update('\0')
    .update(sent)
    .digest('hex')
}

/**
 * True when `other` is another message received within the retry window of `queued`,
 * before or after it: the first try may be ingested after the retry.
 */
export function isRetryOf(other: Received | undefined, queued: QueuedMessage): boolean {
  if (other === undefined || other.messageId === queued.id) return false
  const apart = Math.abs(Date.parse(queued.receivedAt) - Date.parse(other.receivedAt))
  return apart <= RETRY_WINDOW_MS
}
