/**
 * The durable hand-off: one LMTP transaction becomes one SQS message, with the raw
 * message inline (base64) when it fits, else streamed to S3 under incoming/ and pointed
 * to. `deliver` resolves only once SQS acknowledged the message: that is what lets the
 * edge answer 250 and Postfix forget the mail.
 */

import { Readable } from 'node:stream'
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs'
import { Upload } from '@aws-sdk/lib-storage'
import type { QueuedMessage, RawRef } from '../shared/envelope.ts'
import { incomingRawKey } from '../shared/mailbox-layout.ts'
import { newMessageId } from '../shared/message-id.ts'
import { HandoffError, MessageTooBigError } from './errors.ts'

// How long one SQS send may take before the hand-off counts as failed (ms). Postfix's
// own LMTP data timeout is 600 s; failing well before it gives a clean 451.
const SEND_TIMEOUT_MS = 20_000
// Multipart part size for staged messages: S3's minimum, so memory stays bounded
// (lib-storage holds about queueSize + 1 parts).
const PART_SIZE = 5 * 1024 * 1024
const UPLOAD_QUEUE_SIZE = 2

/** The data stream smtp-server hands to onData. */
export type DataStream = Readable & { sizeExceeded?: boolean; byteLength?: number }

export interface HandoffRequest {
  mailFrom: string
  rcptTo: string[]
  client?: QueuedMessage['client']
}

export interface HandoffResult {
  id: string
  size: number
  /** The SQS MessageId of the queued message. */
  queueMessageId: string
  /** True when the raw message went to S3 rather than inline. */
  staged: boolean
}

export interface HandoffOptions {
  s3: S3Client
  sqs: SQSClient
  bucket: string
  queueUrl: string
  /** Largest SQS message body to send, in bytes. */
  queueMessageMaxBytes: number
  /** Largest message accepted, in bytes. */
  maxMessageBytes: number
  sendTimeoutMs?: number
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

  /**
   * Reads the whole message from `stream` and queues it. Resolves once SQS has
   * acknowledged; rejects with a HandoffError (451) on any failure, or a
   * MessageTooBigError when the stream went over the size limit.
   */
  async deliver(stream: DataStream, request: HandoffRequest): Promise<HandoffResult> {
    const id = newMessageId()
    let staged: { key: string } | undefined
    try {
      const { raw, size } = await this.#readOrStage(id, stream)
      if ('s3' in raw) staged = { key: raw.s3.key }
      const queued: QueuedMessage = {
        v: 1,
        id,
        receivedAt: new Date().toISOString(),
        envelope: { mailFrom: request.mailFrom, rcptTo: request.rcptTo },
        size,
        raw,
        client: request.client,
      }
      let body = JSON.stringify(queued)
      if (!staged && Buffer.byteLength(body) > this.#options.queueMessageMaxBytes) {
        // Small enough to buffer, but the envelope (many recipients) pushed it over.
        const bytes = Buffer.from((raw as { base64: string }).base64, 'base64')
        queued.raw = await this.#stage(id, Readable.from([bytes]))
        staged = { key: incomingRawKey(id) }
        body = JSON.stringify(queued)
      }
      const queueMessageId = await this.#send(body)
      return { id, size, queueMessageId, staged: staged !== undefined }
    } catch (error) {
      // Whatever was read, the rest must be drained for smtp-server to reply.
      stream.resume()
      if (staged) this.#removeStaged(staged.key)
      if (error instanceof MessageTooBigError) throw error
      throw new HandoffError('Temporary failure queueing the message, try again later', {
        cause: error,
      })
    }
  }

  /** Buffers the message while it fits a queue message; past that streams it to S3. */
  async #readOrStage(id: string, stream: DataStream): Promise<{ raw: RawRef; size: number }> {
    const iterator = stream.iterator({ destroyOnReturn: false })
    try {
      return await this.#readWith(iterator, id, stream)
    } finally {
      // Detach the iterator, so that the stream can be drained after a failure.
      await iterator.return?.()
    }
  }

  async #readWith(
    iterator: AsyncIterator<Buffer>,
    id: string,
    stream: DataStream,
  ): Promise<{ raw: RawRef; size: number }> {
    const head: Buffer[] = []
    let size = 0
    const checkSize = () => {
      if (stream.sizeExceeded) throw new MessageTooBigError(this.#options.maxMessageBytes)
    }
    while (size <= this.#inlineLimit) {
      const next = await iterator.next()
      checkSize()
      if (next.done) return { raw: { base64: Buffer.concat(head).toString('base64') }, size }
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
      checkSize()
    }
    const raw = await this.#stage(id, Readable.from(whole()))
    return { raw, size }
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

  async #send(body: string): Promise<string> {
    const result = await this.#options.sqs.send(
      new SendMessageCommand({ QueueUrl: this.#options.queueUrl, MessageBody: body }),
      { abortSignal: AbortSignal.timeout(this.#options.sendTimeoutMs ?? SEND_TIMEOUT_MS) },
    )
    if (!result.MessageId) throw new Error('SQS returned no MessageId')
    return result.MessageId
  }

  /**
   * Best effort: a staged object whose queue message was never sent is an orphan. The
   * bucket's lifecycle rule expires incoming/ anyway, so a failed delete loses nothing.
   */
  #removeStaged(key: string): void {
    this.#options.s3
      .send(new DeleteObjectCommand({ Bucket: this.#options.bucket, Key: key }))
      .catch(() => {})
  }
}
