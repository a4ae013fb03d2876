/**
 * Puts webhook jobs on the webhook queue, now or later: the deliverer's retries and
 * pauses, and the API's replays. SQS delays a message at most MAX_DELAY_SECONDS; a job
 * due later carries its `dueAt` and is put back with the rest of its wait whenever it is
 * received early (functions/deliver/deliver.ts).
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs'
import { queueBody } from './contracts/queue-body.ts'
import type { WebhookJob } from './contracts/webhook-job.ts'

/** The most SQS delays a message (DelaySeconds), in seconds. */
export const MAX_DELAY_SECONDS = 900

export interface WebhookQueue {
  /** Queues `job`, to be received no sooner than `delaySeconds` from now (at most 900). */
  send(job: WebhookJob, delaySeconds?: number): Promise<void>
}

/** The SQS queue at `queueUrl`. */
export function sqsWebhookQueue(sqs: SQSClient, queueUrl: string): WebhookQueue {
  return {
    async send(job, delaySeconds = 0) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: queueBody(job),
          DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(delaySeconds))),
        }),
      )
    },
  }
}

/** Seconds from `now` until `dueAt`, as one SQS delay can hold them. */
export function delayUntil(dueAt: number, now: number): number {
  return Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil((dueAt - now) / 1000)))
}
