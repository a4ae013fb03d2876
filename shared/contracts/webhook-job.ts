/**
 * Wire type of the webhook queue: one notification to send, as ingest, deliver's retries
 * and the API's replays queue it. Validated when read, like every queue record.
 */
import * as z from 'zod/mini'
import type { ParsedMessage } from './message.ts'
import { parseJson } from './parse.ts'

/** A count or a size: a whole number, 0 or more. */
const count = () => z.int().check(z.nonnegative())

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export const WebhookJobSchema = z.object({
  v: z.literal(1),
  /** The message this notification is about. */
  messageId: z.string().check(z.length(26)),
  /** The endpoint to notify. */
  endpointId: z.string().check(z.minLength(1)),
  /**
   * The mailboxes the message was stored in that concern this endpoint: those it
   * subscribes to, and those of the recipients whose routes notify it (none for a route
   * that notifies without storing).
   */
  mailboxes: z.array(z.string().check(z.minLength(1))),
  /** The RCPT TO addresses that concern this endpoint, as the client wrote them. */
  rcptTo: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
  /** The plus-address tag of the first of them (Postmark's MailboxHash); absent before routing. */
  mailboxHash: z.optional(z.nullable(z.string())),
  /**
   * Attempts recorded for this notification when the job was queued (0 when absent: the
   * first job, from ingest). A job whose count is behind the record's is a stale copy.
   */
  attempts: z.optional(count()),
  /** Attempts made in this run of the retry schedule (a replay starts a new run). */
  run: z.optional(count()),
  /**
   * When the job is due, epoch ms. SQS delays a message 15 minutes at most, so a job
   * received early goes back on the queue with the rest of its wait.
   */
  dueAt: z.optional(count()),
  /** Why the job exists beyond the first try: a replay asked through the API. */
  trigger: z.optional(z.enum(['scheduled', 'replay'])),
  /**
   * Set by ingest on the job of a notification it claimed at its first try: no other job for
   * it had been sent. At SQS's first receive of such a job (ApproximateReceiveCount 1),
   * deliver POSTs without reading the delivery record (functions/deliver/deliver.ts says
   * what that costs). Dropped whenever a job is put back.
   */
  sole: z.optional(z.literal(true)),
  /**
   * The parsed message as ingest stored it, when the job fits in 64 KiB with it
   * (INLINE_JOB_BYTES, shared/webhook-queue.ts; left out otherwise). Used at the job's first receive only, so that the
   * first attempt reads nothing from S3; any later receive reads the message as it is then.
   * Trusted as the stored copy is (MessageStore.getParsed): the same ingest wrote both.
   * Dropped whenever a job is put back.
   */
  message: z.optional(z.custom<ParsedMessage>(isObject)),
})
/** One notification to send: a message for one endpoint. */
export type WebhookJob = z.infer<typeof WebhookJobSchema>

export function parseWebhookJob(body: string): WebhookJob {
  return parseJson(WebhookJobSchema, body, 'webhook job')
}
