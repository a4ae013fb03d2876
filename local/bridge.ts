/**
 * The whole bridge in one process: the LMTP edge, the functions (pollers feeding the
 * ingest and deliver handlers exactly as Lambda's SQS event source would), and the API on
 * an HTTP port. The same handler code as in Lambda; only the wiring differs.
 *
 * With `threads`, as npm start runs it, the functions and the edge's SQS sends each run
 * in a worker thread of their own, so that the bridge uses every core; without, all of it
 * runs in this thread, where a test can reach it.
 */
import type { AddressInfo } from 'node:net'
import type { S3Client } from '@aws-sdk/client-s3'
import type { SQSClient } from '@aws-sdk/client-sqs'
import { type ServerType, serve } from '@hono/node-server'
import { Handoff, SEND_TIMEOUT_MS } from '../edge/handoff.ts'
import { QueueSender } from '../edge/queue-sender.ts'
import { QueueThread } from '../edge/queue-thread.ts'
import { type RunningEdge, startEdge } from '../edge/start-edge.ts'
import { createApp } from '../functions/api/app.ts'
import type { Config } from '../shared/config.ts'
import { createLogger } from '../shared/logger.ts'
import { MailboxStore } from '../shared/mailbox-store.ts'
import { WebhookStore } from '../shared/webhook-store.ts'
import { startFunctions, startFunctionsThread } from './functions.ts'

export interface BridgeOptions {
  config: Config
  s3: S3Client
  sqs: SQSClient
  ingestQueueUrl: string
  webhookQueueUrl: string
  apiKey: string
  /** Functions and SQS sends in worker threads of their own (npm start). */
  threads?: boolean
}

export interface RunningBridge {
  edge: RunningEdge
  api: AddressInfo
  mailboxes: MailboxStore
  webhooks: WebhookStore
  stop(): Promise<void>
}

function listenApi(app: ReturnType<typeof createApp>, host: string, port: number) {
  return new Promise<{ server: ServerType; address: AddressInfo }>((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (address) =>
      resolve({ server, address }),
    )
    server.once('error', reject)
  })
}

export async function startBridge(options: BridgeOptions): Promise<RunningBridge> {
  const { config, s3, sqs, ingestQueueUrl, webhookQueueUrl } = options
  const mailboxes = new MailboxStore(s3, config.bucket)
  const webhooks = new WebhookStore(s3, config.bucket)

  const queues = { config, ingestQueueUrl, webhookQueueUrl }
  const functions = options.threads
    ? await startFunctionsThread(queues)
    : await startFunctions({ ...queues, s3, sqs })

  const app = createApp({
    mailboxes,
    webhooks,
    apiKey: options.apiKey,
    logger: createLogger('api'),
  })
  const api = await listenApi(app, config.api.host, config.api.port)

  const logger = createLogger('edge')
  const sender = {
    queueUrl: ingestQueueUrl,
    maxBatchBytes: config.edge.queueMessageMaxBytes,
    timeoutMs: SEND_TIMEOUT_MS,
  }
  const edge = await startEdge({
    config: config.edge,
    logger,
    handoff: new Handoff({
      s3,
      queue: options.threads
        ? new QueueThread({ ...sender, aws: config.aws }, logger)
        : new QueueSender({ ...sender, sqs }),
      bucket: config.bucket,
      queueMessageMaxBytes: config.edge.queueMessageMaxBytes,
      maxMessageBytes: config.edge.maxMessageBytes,
    }),
  })

  return {
    edge,
    api: api.address,
    mailboxes,
    webhooks,
    async stop() {
      // In the direction of the data: nothing new comes in, the batches in hand finish,
      // and what is still queued waits in the queues (on disk) for the next start.
      await edge.close()
      await functions.stop()
      await new Promise<void>((resolve) => api.server.close(() => resolve()))
    },
  }
}
