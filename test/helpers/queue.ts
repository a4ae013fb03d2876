/** Reads what was queued, straight from an (emulated) SQS queue. */
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs'
import { parseQueuedMessage, type QueuedMessage } from '../../shared/contracts/queue.ts'

/**
 * Receives and deletes every message now in the queue; by default each read as what the
 * edge queues, else as `read` makes of it (e.g. a webhook job, or the raw SQS message).
 */
export function drainQueue(sqs: SQSClient, queueUrl: string): Promise<QueuedMessage[]>
export function drainQueue<T>(
  sqs: SQSClient,
  queueUrl: string,
  read: (message: Message) => T,
): Promise<T[]>
export async function drainQueue(
  sqs: SQSClient,
  queueUrl: string,
  read: (message: Message) => unknown = (message) => parseQueuedMessage(message.Body ?? ''),
): Promise<unknown[]> {
  const out: unknown[] = []
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
      }),
    )
    if (Messages.length === 0) return out
    out.push(...Messages.map((message) => read(message)))
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle,
        })),
      }),
    )
  }
}
