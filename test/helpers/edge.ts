/**
 * An edge on a free loopback port, handing off to the emulator through the real SDK as
 * the edge process does (SQS from its worker thread, S3 from this one), or through
 * another endpoint (a fault proxy, a dead port) with its own timeouts.
 */
import { Handoff, SEND_TIMEOUT_MS } from '../../edge/handoff.ts'
import { QueueThread } from '../../edge/queue-thread.ts'
import { type RunningEdge, type StartEdgeOptions, startEdge } from '../../edge/start-edge.ts'
import { createS3Client, type HttpTimeouts } from '../../shared/aws-clients.ts'
import type { Config } from '../../shared/config.ts'
import { createLogger } from '../../shared/logger.ts'
import type { Emulator } from './emulator.ts'

/** Where one of the edge's SDK clients sends its requests, and how long it waits. */
export interface TestEndpoint {
  endpoint: string
  timeouts?: HttpTimeouts
}

export interface TestEdgeOptions {
  /** S3 through this endpoint; the emulator's client by default. */
  s3?: TestEndpoint
  /** SQS through this endpoint (the worker thread makes its own client from it). */
  sqs?: TestEndpoint
  edge?: Partial<Config['edge']>
  sendTimeoutMs?: number
  socketTimeoutMs?: number
  drainTimeoutMs?: StartEdgeOptions['drainTimeoutMs']
  /** The RCPT-time check, as edge/main.ts makes it (startRecipientCheck); domains alone by default. */
  recipients?: StartEdgeOptions['recipients']
}

export interface TestEdge extends RunningEdge {
  lmtp: { host: string; port: number }
}

export async function startTestEdge(
  em: Emulator,
  options: TestEdgeOptions = {},
): Promise<TestEdge> {
  const config = {
    ...em.config.edge,
    tcp: { host: '127.0.0.1', port: 0 },
    socket: undefined,
    ...options.edge,
  }
  const s3 =
    options.s3 &&
    createS3Client({ ...em.config.aws, endpoint: options.s3.endpoint }, options.s3.timeouts)
  const edge = await startEdge({
    config,
    logger: createLogger('test-edge'),
    socketTimeoutMs: options.socketTimeoutMs,
    drainTimeoutMs: options.drainTimeoutMs,
    recipients: options.recipients,
    handoff: new Handoff({
      s3: s3 ?? em.s3,
      queue: new QueueThread(
        {
          aws: { ...em.config.aws, endpoint: options.sqs?.endpoint ?? em.endpoint },
          timeouts: options.sqs?.timeouts,
          queueUrl: em.ingestQueueUrl,
          maxBatchBytes: config.queueMessageMaxBytes,
          timeoutMs: options.sendTimeoutMs ?? SEND_TIMEOUT_MS,
        },
        createLogger('test-edge'),
      ),
      bucket: em.bucket,
      queueMessageMaxBytes: config.queueMessageMaxBytes,
      maxMessageBytes: config.maxMessageBytes,
    }),
  })
  let closing: Promise<void> | undefined
  return {
    ...edge,
    lmtp: { host: '127.0.0.1', port: edge.tcp?.port ?? 0 },
    // The S3 client made here goes with the edge.
    close: () => {
      closing ??= edge.close().then(() => s3?.destroy())
      return closing
    },
  }
}
