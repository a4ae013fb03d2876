/**
 * The functions of local mode: pollers feeding the ingest and deliver handlers exactly as
 * Lambda's SQS event source would. The same handler code as in Lambda; only the wiring
 * differs. Runs in the caller's thread (the tests), or in a worker thread of its own
 * (npm start), where MIME parsing, the SDK's signing and the JSON of ingest run on the
 * other core, beside the LMTP sessions and the API.
 */
import type { S3Client } from '@aws-sdk/client-s3'
import type { SQSClient } from '@aws-sdk/client-sqs'
import { createDeliverHandler } from '../functions/deliver/deliver.ts'
import { createIngestHandler } from '../functions/ingest/ingest.ts'
import type { Config } from '../shared/config.ts'
import { createLogger } from '../shared/logger.ts'
import { MailboxStore } from '../shared/mailbox-store.ts'
import { WebhookStore } from '../shared/webhook-store.ts'
import { SqsPoller } from './sqs-poller.ts'
import { startThread } from './threads.ts'

export interface FunctionsOptions {
  config: Config
  s3: S3Client
  sqs: SQSClient
  ingestQueueUrl: string
  webhookQueueUrl: string
}

export interface RunningFunctions {
  /** Stops receiving and waits for the batches in hand; what is still queued stays queued. */
  stop(): Promise<void>
}

export async function startFunctions(options: FunctionsOptions): Promise<RunningFunctions> {
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
  return {
    async stop() {
      await Promise.all(pollers.map((poller) => poller.stop()))
    },
  }
}

/** What the functions thread is started with: plain data; it makes its own clients. */
export type FunctionsWorkerData = Omit<FunctionsOptions, 's3' | 'sqs'>

export async function startFunctionsThread(data: FunctionsWorkerData): Promise<RunningFunctions> {
  const thread = await startThread<true>(import.meta.url, 'functions-worker', data)
  return { stop: thread.stop }
}
