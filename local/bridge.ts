/**
 * The whole bridge in one process: the LMTP edge, pollers feeding the ingest and deliver
 * handlers exactly as Lambda's SQS event source would, and the API on an HTTP port. The
 * same handler code as in Lambda; only the wiring differs.
 */
import type { AddressInfo } from 'node:net'
import type { S3Client } from '@aws-sdk/client-s3'
import type { SQSClient } from '@aws-sdk/client-sqs'
import { type ServerType, serve } from '@hono/node-server'
import { Handoff, SEND_TIMEOUT_MS } from '../edge/handoff.ts'
import { QueueSender } from '../edge/queue-sender.ts'
import { type RunningEdge, startEdge } from '../edge/start-edge.ts'
import { createApp } from '../functions/api/app.ts'
import { createDeliverHandler } from '../functions/deliver/deliver.ts'
import { createIngestHandler } from '../functions/ingest/ingest.ts'
import type { Config } from '../shared/config.ts'
import { createLogger } from '../shared/logger.ts'
import { MailboxStore } from '../shared/mailbox-store.ts'
import { WebhookStore } from '../shared/webhook-store.ts'
import { SqsPoller } from './sqs-poller.ts'

export interface BridgeOptions {
  config: Config
  s3: S3Client
  sqs: SQSClient
  ingestQueueUrl: string
  webhookQueueUrl: string
  apiKey: string
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
  const { config, s3, sqs } = options
  const mailboxes = new MailboxStore(s3, config.bucket)
  const webhooks = new WebhookStore(s3, config.bucket)

  const pollers = [
    new SqsPoller({
      sqs,
      queueUrl: options.ingestQueueUrl,
      region: config.aws.region,
      logger: createLogger('ingest-poller'),
      handler: createIngestHandler({
        mailboxes,
        webhooks,
        objects: mailboxes.objects,
        sqs,
        webhookQueueUrl: options.webhookQueueUrl,
        logger: createLogger('ingest'),
      }),
    }),
    new SqsPoller({
      sqs,
      queueUrl: options.webhookQueueUrl,
      region: config.aws.region,
      logger: createLogger('deliver-poller'),
      handler: createDeliverHandler({ mailboxes, webhooks, logger: createLogger('deliver') }),
    }),
  ]
  await Promise.all(pollers.map((poller) => poller.start()))

  const app = createApp({
    mailboxes,
    webhooks,
    apiKey: options.apiKey,
    logger: createLogger('api'),
  })
  const api = await listenApi(app, config.api.host, config.api.port)

  const edge = await startEdge({
    config: config.edge,
    logger: createLogger('edge'),
    handoff: new Handoff({
      s3,
      // In this thread: local mode is for trying things out, not for throughput.
      queue: new QueueSender({
        sqs,
        queueUrl: options.ingestQueueUrl,
        maxBatchBytes: config.edge.queueMessageMaxBytes,
        timeoutMs: SEND_TIMEOUT_MS,
      }),
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
      // In the direction of the data: nothing new comes in, then what is queued drains.
      await edge.close()
      await Promise.all(pollers.map((poller) => poller.stop()))
      await new Promise<void>((resolve) => api.server.close(() => resolve()))
    },
  }
}
