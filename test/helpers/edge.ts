/**
 * An edge on a free loopback port, handing off to the emulator through the real SDK as
 * the edge process does (SQS from its worker thread, S3 from this one), or through
 * another endpoint (a fault proxy, a dead port): `s3` is a client, `sqs` an endpoint with
 * timeouts, since the worker thread makes its own client.
 */
import type { S3Client } from '@aws-sdk/client-s3'
import { Handoff, SEND_TIMEOUT_MS } from '../../edge/handoff.ts'
import { QueueThread } from '../../edge/queue-thread.ts'
import { type RunningEdge, type StartEdgeOptions, startEdge } from '../../edge/start-edge.ts'
import type { HttpTimeouts } from '../../shared/aws-clients.ts'
import type { Config } from '../../shared/config.ts'
import { createLogger } from '../../shared/logger.ts'
import type { Emulator } from './emulator.ts'

export interface TestEdgeOptions {
  s3?: S3Client
  sqs?: { endpoint: string; timeouts?: HttpTimeouts }
  edge?: Partial<Config['edge']>
  sendTimeoutMs?: number
  socketTimeoutMs?: number
  drainTimeoutMs?: StartEdgeOptions['drainTimeoutMs']
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
  const edge = await startEdge({
    config,
    logger: createLogger('test-edge'),
    socketTimeoutMs: options.socketTimeoutMs,
    drainTimeoutMs: options.drainTimeoutMs,
    handoff: new Handoff({
      s3: options.s3 ?? em.s3,
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
  return Object.assign(edge, { lmtp: { host: '127.0.0.1', port: edge.tcp?.port ?? 0 } })
}
