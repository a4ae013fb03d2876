/**
 * Feeds an SQS-triggered handler the way Lambda's event source mapping does: long-poll
 * ReceiveMessage, pass the batch as an SQSEvent of the same shape, delete the records not
 * listed in `batchItemFailures`, and leave the failed ones to come back after their
 * visibility timeout (and to move to the dead-letter queue after maxReceiveCount).
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs'
import type { SQSEvent, SQSRecord } from 'aws-lambda'
import type { Logger } from '../shared/logger.ts'
import type { SqsBatchHandler } from '../shared/sqs-batch.ts'

// Lambda's default batch size for SQS.
const BATCH_SIZE = 10
// Long-poll wait (s): a message is handed over as soon as it arrives, and an idle poller
// makes one request per WAIT_SECONDS.
const WAIT_SECONDS = 10
// Pause after a failed receive (ms), so an unreachable endpoint is not hammered.
const ERROR_PAUSE_MS = 1000

export interface PollerOptions {
  sqs: SQSClient
  queueUrl: string
  region: string
  handler: SqsBatchHandler
  logger: Logger
  /** Concurrent pollers, as Lambda runs several for one queue. */
  concurrency?: number
}

export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = message.Attributes ?? {}
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      // Never invented: deliver takes '1' to mean a first receive.
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp:
        attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  }
}

export class SqsPoller {
  readonly #options: PollerOptions
  readonly #abort = new AbortController()
  #loops: Promise<void>[] = []

  constructor(options: PollerOptions) {
    this.#options = options
  }

  async start(): Promise<void> {
    const { sqs, queueUrl } = this.#options
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['QueueArn', 'VisibilityTimeout'],
      }),
    )
    const queueArn = Attributes?.QueueArn ?? queueUrl
    const visibility = Number(Attributes?.VisibilityTimeout ?? 30)
    const count = this.#options.concurrency ?? 2
    this.#loops = Array.from({ length: count }, () => this.#loop(queueArn, visibility))
  }

  /** Stops receiving and waits for the batches in hand to finish. */
  async stop(): Promise<void> {
    this.#abort.abort()
    await Promise.all(this.#loops)
  }

  /**
   * Keeps the records in hand hidden while the handler works on them, as Lambda's function
   * timeout would bound it: without it a record that takes longer than the visibility
   * timeout (a 45 MB message on a busy machine) is handed to a second poller meanwhile.
   */
  #keepHidden(records: SQSRecord[], visibility: number): () => void {
    const { sqs, queueUrl, logger } = this.#options
    const timer = setInterval(
      () => {
        const entries = records.map((record, index) => ({
          Id: String(index),
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: visibility,
        }))
        sqs
          .send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: entries }))
          .catch((error: unknown) =>
            logger.warn({ err: error, queueUrl }, 'visibility not extended'),
          )
      },
      (visibility * 1000) / 2,
    )
    return () => clearInterval(timer)
  }

  async #loop(queueArn: string, visibility: number): Promise<void> {
    const { sqs, queueUrl, region, handler, logger } = this.#options
    const signal = this.#abort.signal
    while (!signal.aborted) {
      let messages: Message[]
      try {
        const received = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: BATCH_SIZE,
            WaitTimeSeconds: WAIT_SECONDS,
            MessageSystemAttributeNames: ['All'],
          }),
          { abortSignal: signal },
        )
        messages = received.Messages ?? []
      } catch (error) {
        if (signal.aborted) return
        logger.error({ err: error, queueUrl }, 'receive failed')
        await new Promise((resolve) => setTimeout(resolve, ERROR_PAUSE_MS))
        continue
      }
      if (messages.length === 0) continue
      const event: SQSEvent = { Records: messages.map((m) => toSqsRecord(m, queueArn, region)) }
      const release = this.#keepHidden(event.Records, visibility)
      try {
        const { batchItemFailures } = await handler(event)
        const failed = new Set(batchItemFailures.map((failure) => failure.itemIdentifier))
        const done = event.Records.filter((record) => !failed.has(record.messageId))
        if (done.length > 0) {
          await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: done.map((record, index) => ({
                Id: String(index),
                ReceiptHandle: record.receiptHandle,
              })),
            }),
          )
        }
      } catch (error) {
        // As in Lambda: a handler that throws leaves the whole batch for a retry.
        logger.error({ err: error, queueUrl }, 'batch failed')
      } finally {
        release()
      }
    }
  }
}
