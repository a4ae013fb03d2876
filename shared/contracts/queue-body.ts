/**
 * The body of a queue message, for both queues: no schema here, so that whoever writes a
 * record need not build the schema of the one who reads it.
 */
import type { QueuedMessage } from './queue.ts'
import type { WebhookJob } from './webhook-job.ts'

/**
 * A queue message body: the JSON of `value` in pure ASCII, every other UTF-16 unit escaped
 * as `\uXXXX`, which JSON.parse turns back into the same string. SQS takes only XML-legal
 * characters (no U+FFFE, U+FFFF; the emulator no emoji either) and refuses a whole message
 * for one of them, while smtp-server accepts any of them in an address. The length of the
 * result is its size in bytes, as SQS counts it.
 */
export function queueBody(value: QueuedMessage | WebhookJob): string {
  return JSON.stringify(value).replace(NON_ASCII, escapeUnit)
}

/** What queueBody makes of one string, quotes included: its share of a body, in bytes. */
export function queueStringBytes(text: string): number {
  return JSON.stringify(text).replace(NON_ASCII, escapeUnit).length
}

// DEL and above; JSON.stringify already escapes the control characters below space. Without
// the `u` flag each half of a surrogate pair is matched, and escaped, on its own.
const NON_ASCII = /[\u007f-\uffff]/g

function escapeUnit(unit: string): string {
  return `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`
}
