/** Reads what the edge queued, straight from the (emulated) SQS queue. */
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs'
import { parseQueuedMessage, type QueuedMessage } from '../../shared/envelope.ts'

/** Receives and deletes every message now in the queue. */
export async function drainQueue(sqs: SQSClient, queueUrl: string): Promise<QueuedMessage[]> {
  const out: QueuedMessage[] = []
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
      }),
    )
    if (Messages.length === 0) return out
    out.push(...Messages.map((message) => parseQueuedMessage(message.Body ?? '')))
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
