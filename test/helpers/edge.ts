/**
 * An edge on a free loopback port, handing off to the emulator through the real SDK, or
 * through other clients (a fault proxy, a dead endpoint) given in `clients`.
 */
import type { S3Client } from '@aws-sdk/client-s3'
import type { SQSClient } from '@aws-sdk/client-sqs'
import { Handoff } from '../../edge/handoff.ts'
import { type RunningEdge, type StartEdgeOptions, startEdge } from '../../edge/start-edge.ts'
import type { Config } from '../../shared/config.ts'
import { createLogger } from '../../shared/logger.ts'
import type { Emulator } from './emulator.ts'

export interface TestEdgeOptions {
  clients?: { s3?: S3Client; sqs?: SQSClient }
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
      s3: options.clients?.s3 ?? em.s3,
      sqs: options.clients?.sqs ?? em.sqs,
      bucket: em.bucket,
      queueUrl: em.ingestQueueUrl,
      queueMessageMaxBytes: config.queueMessageMaxBytes,
      maxMessageBytes: config.maxMessageBytes,
      sendTimeoutMs: options.sendTimeoutMs,
    }),
  })
  return Object.assign(edge, { lmtp: { host: '127.0.0.1', port: edge.tcp?.port ?? 0 } })
}
