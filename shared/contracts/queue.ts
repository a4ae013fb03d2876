/**
 * Wire type of the ingest queue: what the edge sends to ingest, validated when read (as
 * Powertools' batch parser does), so a malformed record is reported, never guessed at.
 * What ingest sends to deliver is in webhook-job.ts: each function builds only the schema
 * it reads. queue-body.ts writes both.
 */
import * as z from 'zod/mini'
import { parseJson } from './parse.ts'

/** Where the raw message is: inline in the queue message, or staged in S3 by the edge. */
export const RawRefSchema = z.union([
  z.object({
    /** The raw message, base64: SQS bodies must be XML-legal text, mail need not be. */
    base64: z.string(),
  }),
  z.object({
    /** Bucket and key of the staged raw message. */
    s3: z.object({
      bucket: z.string().check(z.minLength(1)),
      key: z.string().check(z.minLength(1)),
    }),
  }),
])
export type RawRef = z.infer<typeof RawRefSchema>

/** A count or a size: a whole number, 0 or more. */
const count = () => z.int().check(z.nonnegative())

export const QueuedMessageSchema = z.object({
  /** Format version: a later edge may change the shape without confusing an older ingest. */
  v: z.literal(1),
  /** Time-sortable message id (ULID) given at the edge; the key of idempotent storage. */
  id: z.string().check(z.length(26)),
  /** When the edge received the end of DATA, ISO 8601. */
  receivedAt: z.iso.datetime(),
  envelope: z.object({
    /** MAIL FROM, `""` for the null sender of bounces (`MAIL FROM:<>`). */
    mailFrom: z.string(),
    /** Every accepted RCPT TO, in the order given. */
    rcptTo: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
  }),
  /** Size of the raw message in bytes, as received after DATA. */
  size: count(),
  raw: RawRefSchema,
  /**
   * Bytes of trace headers the edge put before what the client sent. Ingest hashes what
   * follows to recognise a client's retry of a message already queued (see
   * functions/ingest/retries.ts). Absent from an edge that predates it: no such check.
   */
  traceBytes: z.optional(count()),
  /**
   * The version of the routes the edge accepted the recipients under: ingest routes with
   * that version or a later one, never an older copy. Absent from an edge without routes.
   */
  routesVersion: z.optional(count()),
  /**
   * The plus-address delimiters the edge decided the recipients with (its
   * MAILBRIDGE_RECIPIENT_DELIMITER; "" for none): ingest splits with the same, so that a
   * recipient is stored in the mailbox whose quota the edge checked, whatever the functions'
   * own setting. Absent from an edge without routes, or one that predates it: ingest's own.
   */
  delimiters: z.optional(z.string().check(z.maxLength(8))),
  /** The LMTP client, for logs and trace headers. */
  client: z.optional(
    z.object({
      address: z.string(),
      hostname: z.optional(z.string()),
      lhlo: z.optional(z.string()),
    }),
  ),
})
/** One LMTP transaction, as queued by the edge for ingest. */
export type QueuedMessage = z.infer<typeof QueuedMessageSchema>

export function parseQueuedMessage(body: string): QueuedMessage {
  return parseJson(QueuedMessageSchema, body, 'queued message')
}

export { queueBody, queueStringBytes } from './queue-body.ts'
