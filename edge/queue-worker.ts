/**
 * The worker thread of QueueThread (queue-thread.ts): a QueueSender and its SQS client.
 * Takes `{ seq, body }` messages and answers each with `{ seq, messageId }` once SQS has
 * stored it, or `{ seq, error }`.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { createSqsClient } from '../shared/aws-clients.ts'
import { QueueSendError } from './errors.ts'
import { QueueSender } from './queue-sender.ts'
import type { QueueAnswer, QueueRequest, QueueWorkerData } from './queue-thread.ts'

const port = parentPort
if (!port) throw new Error('queue-worker.ts runs as a worker thread only')

const { aws, timeouts, ...options } = workerData as QueueWorkerData
const sender = new QueueSender({ ...options, sqs: createSqsClient(aws, timeouts) })

port.on('message', ({ seq, body }: QueueRequest) => {
  sender.send(body).then(
    (messageId) => port.postMessage({ seq, messageId } satisfies QueueAnswer),
    (error: Error) => {
      const refused = error instanceof QueueSendError && error.refused
      const cause =
        error.cause instanceof Error
          ? { name: error.cause.name, message: error.cause.message }
          : undefined
      port.postMessage({
        seq,
        error: { message: error.message, refused, cause },
      } satisfies QueueAnswer)
    },
  )
})
