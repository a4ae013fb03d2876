/**
 * Sends queue messages for many concurrent LMTP sessions with few SQS requests.
 *
 * A message is sent at once while fewer than MAX_IN_FLIGHT requests are out, so an idle
 * edge adds no delay; under load, messages wait for a free slot and leave together in one
 * `SendMessageBatch` (up to 10 entries, the batch within SQS's size limit). SQS answers a
 * batch with 200 even when some entries failed, so each entry's own result decides its
 * sender's fate: only an entry listed in `Successful` resolves.
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs'
import { QueueSendError } from './errors.ts'

// SQS takes at most 10 entries in one SendMessageBatch.
const MAX_BATCH_ENTRIES = 10
// Concurrent SendMessageBatch requests. Enough to keep the queue's endpoint busy; past it
// messages gather into batches instead of opening more connections.
const MAX_IN_FLIGHT = 4

export interface QueueSenderOptions {
  sqs: SQSClient
  queueUrl: string
  /** SQS's limit on one batch request, the sum of its entries' bodies (bytes). */
  maxBatchBytes: number
  /** How long one SendMessageBatch may take before its entries fail (ms). */
  timeoutMs: number
}

interface Pending {
  body: string
  bytes: number
  resolve(messageId: string): void
  reject(error: Error): void
}

export class QueueSender {
  readonly #options: QueueSenderOptions
  readonly #waiting: Pending[] = []
  #inFlight = 0
  #scheduled = false

  constructor(options: QueueSenderOptions) {
    this.#options = options
  }

  /** Queues one message body; resolves with its SQS MessageId once SQS has stored it. */
  send(body: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ body, bytes: Buffer.byteLength(body), resolve, reject })
      this.#schedule()
    })
  }

  /** Sends what is waiting on the next turn, so that bodies ready together go together. */
  #schedule(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      this.#pump()
    })
  }

  #pump(): void {
    while (this.#inFlight < MAX_IN_FLIGHT && this.#waiting.length > 0) {
      const batch = this.#takeBatch()
      this.#inFlight++
      this.#sendBatch(batch).finally(() => {
        this.#inFlight--
        this.#pump()
      })
    }
  }

  /** The oldest waiting entries that fit one request. */
  #takeBatch(): Pending[] {
    let bytes = 0
    let count = 0
    for (const entry of this.#waiting) {
      if (count === MAX_BATCH_ENTRIES) break
      if (count > 0 && bytes + entry.bytes > this.#options.maxBatchBytes) break
      bytes += entry.bytes
      count++
    }
    return this.#waiting.splice(0, count)
  }

  async #sendBatch(batch: Pending[]): Promise<void> {
    try {
      const result = await this.#options.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.#options.queueUrl,
          Entries: batch.map((entry, index) => ({ Id: String(index), MessageBody: entry.body })),
        }),
        { abortSignal: AbortSignal.timeout(this.#options.timeoutMs) },
      )
      const failed = new Map((result.Failed ?? []).map((entry) => [entry.Id, entry]))
      const succeeded = new Map((result.Successful ?? []).map((entry) => [entry.Id, entry]))
      for (const [index, entry] of batch.entries()) {
        const ok = succeeded.get(String(index))
        if (ok?.MessageId) {
          entry.resolve(ok.MessageId)
          continue
        }
        const failure = failed.get(String(index))
        entry.reject(
          new QueueSendError(
            failure
              ? `SQS refused the message: ${failure.Code} ${failure.Message ?? ''}`.trim()
              : 'SQS listed the message neither as sent nor as failed',
          ),
        )
      }
    } catch (error) {
      for (const entry of batch) {
        entry.reject(new QueueSendError('SendMessageBatch failed', { cause: error }))
      }
    }
  }
}
