/**
 * Puts webhook jobs on the webhook queue, now or later: ingest's first job for each
 * endpoint, the deliverer's retries and pauses, and the API's replays. SQS delays a
 * message at most MAX_DELAY_SECONDS; a job due later carries its `dueAt` and is put back
 * with the rest of its wait whenever it is received early (functions/deliver/deliver.ts).
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs'
import type { ParsedMessage } from './contracts/message.ts'
import { queueBody } from './contracts/queue-body.ts'
import type { WebhookJob } from './contracts/webhook-job.ts'

/** The most SQS delays a message (DelaySeconds), in seconds. */
export const MAX_DELAY_SECONDS = 900

/**
 * The most a job's body may hold with the parsed message inside it, in bytes: one 64 KiB
 * chunk, the unit SQS bills a request by, well under the queue's message limit. A bigger
 * message is left out, and deliver reads it from S3.
 */
export const INLINE_JOB_BYTES = 64 * 1024

export interface SendOptions {
  /** Received no sooner than this many seconds from now (at most 900); 0 by default. */
  delaySeconds?: number
  /**
   * The parsed message, carried inside the job when the two fit INLINE_JOB_BYTES: ingest
   * gives it, so that deliver's first attempt reads nothing from S3.
   */
  message?: ParsedMessage
}

export interface WebhookQueue {
  /** Queues `job`, now or after `options.delaySeconds`. */
  send(job: WebhookJob, options?: SendOptions): Promise<void>
}

/** The SQS queue at `queueUrl`. */
export function sqsWebhookQueue(sqs: SQSClient, queueUrl: string): WebhookQueue {
  return {
    async send(job, { delaySeconds = 0, message } = {}) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: jobBody(job, message),
          DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(delaySeconds))),
        }),
      )
    },
  }
}

/** The job's queue body, with `message` inside when the two fit INLINE_JOB_BYTES. */
export function jobBody(job: WebhookJob, message?: ParsedMessage): string {
  if (message === undefined) return queueBody(job)
  // Each character of the bodies is a byte at least: a big message is not serialized to
  // learn that it does not fit.
  const bodies = (message.text?.length ?? 0) + (message.html?.length ?? 0)
  if (bodies > INLINE_JOB_BYTES) return queueBody(job)
  const inline = queueBody({ ...job, message })
  return inline.length <= INLINE_JOB_BYTES ? inline : queueBody(job)
}

/** Seconds from `now` until `dueAt`, as one SQS delay can hold them. */
export function delayUntil(dueAt: number, now: number): number {
  return Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil((dueAt - now) / 1000)))
}
