/**
 * The durable hand-off: one LMTP transaction becomes one SQS message, with the raw
 * message (trace headers prepended) inline, base64, when it fits, else streamed to S3
 * under incoming/ and pointed to. `deliver` resolves only once SQS acknowledged the
 * message: that is what lets the edge answer 250 and Postfix forget the mail.
 */

import { Readable } from 'node:stream'
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { type QueuedMessage, queueBody, type RawRef } from '../shared/contracts/queue.ts'
import { incomingRawKey } from '../shared/store/keys.ts'
import { EnvelopeTooBigError, HandoffError, MessageTooBigError, QueueSendError } from './errors.ts'
import type { MessageQueue } from './queue-thread.ts'

// How long one SQS send may take before the hand-off counts as failed (ms). Postfix's
// own LMTP data timeout is 600 s; failing well before it gives a clean 451.
export const SEND_TIMEOUT_MS = 20_000
// Multipart part size for staged messages: S3's minimum, so memory stays bounded
// (lib-storage holds about queueSize + 1 parts). One part in flight: a 50 MB message
// raised RSS by 35 MB instead of 42 to 60 MB with two, and was staged as fast.
const PART_SIZE = 5 * 1024 * 1024
const UPLOAD_QUEUE_SIZE = 1

/** The data stream smtp-server hands to onData. */
export type DataStream = Readable & { sizeExceeded?: boolean; byteLength?: number }

export interface HandoffRequest {
  /** The message id (ULID) given by the edge. */
  id: string
  /** When DATA began, as the trace headers say. */
  receivedAt: Date
  mailFrom: string
  rcptTo: string[]
  client?: QueuedMessage['client']
  /** Bytes to put before the message as received: the trace headers. */
  prefix?: string
  /** The version of the routes the recipients were accepted under. */
  routesVersion?: number
  /** The plus-address delimiters they were decided with. */
  delimiters?: string | undefined
}

export interface HandoffResult {
  id: string
  size: number
  /** The SQS MessageId of the queued message. */
  queueMessageId: string
  /** True when the raw message went to S3 rather than inline. */
  staged: boolean
  /** From the last byte of DATA to SQS's acknowledgement (ms). */
  handoffMs: number
}

export interface HandoffOptions {
  s3: S3Client
  /** Where queue messages go: a QueueThread (the edge) or a QueueSender. */
  queue: MessageQueue
  bucket: string
  /** Largest SQS message body to send, in bytes. */
  queueMessageMaxBytes: number
  /** Largest message accepted, in bytes. */
  maxMessageBytes: number
}

interface Read {
  raw: RawRef
  /** Bytes of the raw message as stored: trace headers and the message received. */
  size: number
  dataEnd: number
}

export class Handoff {
  readonly #options: HandoffOptions
  // Raw bytes beyond this cannot fit a queue message once base64 (4/3) and the JSON
  // envelope are added; reading stops buffering and switches to S3 there.
  readonly #inlineLimit: number

  constructor(options: HandoffOptions) {
    this.#options = options
    this.#inlineLimit = Math.floor((options.queueMessageMaxBytes * 3) / 4)
  }

  /** Stops the queue's worker thread, if any; once no hand-off is pending. */
  async close(): Promise<void> {
    await this.#options.queue.close?.()
  }

  /**
   * Reads the whole message from `stream` and queues it. Resolves once SQS has
   * acknowledged; rejects with a HandoffError (451) on any failure, a MessageTooBigError
   * when the stream went over the size limit, or an EnvelopeTooBigError.
   */
  async deliver(stream: DataStream, request: HandoffRequest): Promise<HandoffResult> {
    const { id } = request
    let staged: { key: string } | undefined
    try {
      const { raw, size, dataEnd } = await this.#readOrStage(request, stream)
      if ('s3' in raw) staged = { key: raw.s3.key }
      const queued: QueuedMessage = {
        v: 1,
        id,
        receivedAt: request.receivedAt.toISOString(),
        envelope: { mailFrom: request.mailFrom, rcptTo: request.rcptTo },
        size,
        raw,
        traceBytes: Buffer.byteLength(request.prefix ?? ''),
        routesVersion: request.routesVersion,
        delimiters: request.delimiters,
        client: request.client,
      }
      // Pure ASCII: its length is its size in bytes.
      let body = queueBody(queued)
      if (!staged && body.length > this.#options.queueMessageMaxBytes) {
        // Small enough to buffer, but the envelope (many recipients) pushed it over.
        const bytes = Buffer.from((raw as { base64: string }).base64, 'base64')
        queued.raw = await this.#stage(id, Readable.from([bytes]))
        staged = { key: incomingRawKey(id) }
        body = queueBody(queued)
      }
      // The edge refuses at RCPT time the recipient that would not fit (envelope-budget.ts);
      // were one to get through, SQS would refuse this body on every retry: a 5xx, not a 451.
      if (body.length > this.#options.queueMessageMaxBytes) throw new EnvelopeTooBigError()
      const queueMessageId = await this.#options.queue.send(body)
      const handoffMs = performance.now() - dataEnd
      return { id, size, queueMessageId, staged: staged !== undefined, handoffMs }
    } catch (error) {
      // Whatever was read, the rest must be drained for smtp-server to reply.
      stream.resume()
      // Only when SQS said it did not take the message: after a timeout it may have, and
      // a queued message must not point at a deleted object. incoming/ expires anyway.
      if (staged && error instanceof QueueSendError && error.refused) {
        this.#removeStaged(staged.key)
      }
      if (error instanceof MessageTooBigError || error instanceof EnvelopeTooBigError) throw error
      throw new HandoffError('Temporary failure queueing the message, try again later', {
        cause: error,
      })
    }
  }

  /**
   * Buffers the message while it fits a queue message; past that streams it to S3.
   * `dataEnd` is when the last byte of DATA arrived (performance.now()).
   */
  async #readOrStage(request: HandoffRequest, stream: DataStream): Promise<Read> {
    const iterator = stream.iterator({ destroyOnReturn: false })
    try {
      return await this.#readWith(iterator, request, stream)
    } finally {
      // Detach the iterator, so that the stream can be drained after a failure.
      await iterator.return?.()
    }
  }

  async #readWith(
    iterator: AsyncIterator<Buffer>,
    request: HandoffRequest,
    stream: DataStream,
  ): Promise<Read> {
    const head: Buffer[] = request.prefix ? [Buffer.from(request.prefix)] : []
    let size = head[0]?.length ?? 0
    let dataEnd = 0
    const checkSize = () => {
      if (stream.sizeExceeded) throw new MessageTooBigError(this.#options.maxMessageBytes)
    }
    while (size <= this.#inlineLimit) {
      const next = await iterator.next()
      checkSize()
      if (next.done) {
        const base64 = Buffer.concat(head).toString('base64')
        return { raw: { base64 }, size, dataEnd: performance.now() }
      }
      head.push(next.value)
      size += next.value.length
    }
    async function* whole(): AsyncGenerator<Buffer> {
      yield* head
      head.length = 0
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        checkSize()
        size += next.value.length
        yield next.value
      }
      dataEnd = performance.now()
      checkSize()
    }
    const raw = await this.#stage(request.id, Readable.from(whole()))
    return { raw, size, dataEnd }
  }

  async #stage(id: string, body: Readable): Promise<RawRef> {
    const key = incomingRawKey(id)
    const upload = new Upload({
      client: this.#options.s3,
      params: { Bucket: this.#options.bucket, Key: key, Body: body, ContentType: 'message/rfc822' },
      partSize: PART_SIZE,
      queueSize: UPLOAD_QUEUE_SIZE,
      leavePartsOnError: false,
    })
    try {
      await upload.done()
    } catch (error) {
      body.destroy()
      throw error
    }
    return { s3: { bucket: this.#options.bucket, key } }
  }

  /**
   * Best effort: a staged object whose queue message SQS refused is an orphan. The
   * bucket's lifecycle rule expires incoming/ anyway, so a failed delete loses nothing.
   */
  #removeStaged(key: string): void {
    this.#options.s3
      .send(new DeleteObjectCommand({ Bucket: this.#options.bucket, Key: key }))
      .catch(() => {})
  }
}
