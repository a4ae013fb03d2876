/**
 * Sends queue messages from a worker thread of its own, so that the AWS SDK's work (JSON,
 * signing, HTTP) runs beside the LMTP sessions instead of between them: measured without
 * connection reuse, the SDK was about a third of the edge's CPU, all on one event loop.
 * The worker runs a QueueSender (queue-sender.ts); this side only posts bodies and
 * settles promises. A worker that dies fails what it held (451, Postfix retries) and is
 * started again by the next message.
 */
import { Worker } from 'node:worker_threads'
import type { HttpTimeouts } from '../shared/aws-clients.ts'
import type { Config } from '../shared/config.ts'
import type { Logger } from '../shared/logger.ts'
import { workerScript } from '../shared/worker-script.ts'
import { QueueSendError } from './errors.ts'
import type { QueueSenderOptions } from './queue-sender.ts'

// The worker's garbage is short-lived (request and response objects); a small young
// generation keeps its memory down at the cost of more, cheaper scavenges.
const WORKER_YOUNG_GENERATION_MB = 8

/**
 * What the worker is started with: the QueueSender's options, with what it needs to make
 * its own SQS client in place of the client (structured-cloned, so plain data only).
 */
export interface QueueWorkerData extends Omit<QueueSenderOptions, 'sqs'> {
  aws: Config['aws']
  timeouts?: HttpTimeouts
}

export interface QueueRequest {
  seq: number
  body: string
}

export type QueueAnswer =
  | { seq: number; messageId: string }
  | {
      seq: number
      error: { message: string; refused: boolean; cause?: { name: string; message: string } }
    }

/** Where the hand-off sends queue messages: a QueueSender, or a QueueThread around one. */
export interface MessageQueue {
  /** Resolves with the SQS MessageId once SQS has stored the message. */
  send(body: string): Promise<string>
  close?(): Promise<void>
}

interface Waiting {
  /** The worker it was posted to: a worker that dies fails only its own. */
  worker: Worker
  resolve(messageId: string): void
  reject(error: Error): void
}

export class QueueThread implements MessageQueue {
  readonly #data: QueueWorkerData
  readonly #logger: Logger | undefined
  readonly #waiting = new Map<number, Waiting>()
  #worker: Worker | undefined
  #seq = 0

  constructor(data: QueueWorkerData, logger?: Logger) {
    this.#data = data
    this.#logger = logger
  }

  send(body: string): Promise<string> {
    const worker = this.#worker ?? this.#start()
    const seq = ++this.#seq
    return new Promise((resolve, reject) => {
      this.#waiting.set(seq, { worker, resolve, reject })
      worker.postMessage({ seq, body } satisfies QueueRequest)
    })
  }

  /** Stops the worker; call it once nothing is waiting (the edge's close() sees to that). */
  async close(): Promise<void> {
    const worker = this.#worker
    this.#worker = undefined
    await worker?.terminate()
  }

  #start(): Worker {
    // In the bundle (dist/edge/cli.mjs) the worker is dist/edge/queue-worker.mjs, built beside it.
    const { script, eval: isEval } = workerScript(import.meta.url, 'queue-worker')
    const worker = new Worker(script, {
      eval: isEval,
      workerData: this.#data,
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    })
    // The LMTP listeners keep the process alive, not this thread.
    worker.unref()
    worker.on('message', (answer: QueueAnswer) => this.#settle(answer))
    worker.on('error', (error) => {
      this.#logger?.error({ err: error }, 'SQS sender thread failed; a new one starts')
      this.#failAll(worker, error)
    })
    worker.on('exit', (code) => this.#failAll(worker, new Error(`exited with code ${code}`)))
    this.#worker = worker
    return worker
  }

  #settle(answer: QueueAnswer): void {
    const waiting = this.#waiting.get(answer.seq)
    this.#waiting.delete(answer.seq)
    if (!waiting) return
    if ('messageId' in answer) {
      waiting.resolve(answer.messageId)
      return
    }
    const { message, refused, cause } = answer.error
    // The SDK's error as far as it crosses threads: its name (TimeoutError, AbortError,
    // AccessDenied…) and message.
    const options = cause && {
      cause: Object.assign(new Error(cause.message), { name: cause.name }),
    }
    waiting.reject(new QueueSendError(message, refused, options))
  }

  /** The worker is gone: nothing it held will be answered, and SQS may have some of it. */
  #failAll(worker: Worker, error: Error): void {
    if (this.#worker === worker) this.#worker = undefined
    for (const [seq, waiting] of this.#waiting) {
      if (waiting.worker !== worker) continue
      this.#waiting.delete(seq)
      waiting.reject(new QueueSendError('the queue worker thread failed', false, { cause: error }))
    }
  }
}
