/**
 * A real S3/SQS emulator (fauxqs) on a free loopback port, with the bucket and queues
 * created through the real SDK clients, exactly as local mode does it.
 */
import type { S3Client } from '@aws-sdk/client-s3'
import type { SQSClient } from '@aws-sdk/client-sqs'
import type { IngestDeps } from '../../functions/ingest/ingest.ts'
import { startEmulator as startLocalEmulator } from '../../local/emulator.ts'
import { edgeEnv, ensureResources } from '../../local/resources.ts'
import { createS3Client, createSqsClient } from '../../shared/aws-clients.ts'
import { type Config, loadConfig } from '../../shared/config.ts'
import { createLogger } from '../../shared/logger.ts'
import { MailboxStore } from '../../shared/mailbox-store.ts'
import { WebhookStore } from '../../shared/webhook-store.ts'

export interface Emulator {
  endpoint: string
  config: Config
  s3: S3Client
  sqs: SQSClient
  bucket: string
  ingestQueueUrl: string
  webhookQueueUrl: string
  /**
   * The variables that point another process (the edge, bin/mailbridge) at this emulator,
   * or at `endpoint` in front of it (a fault proxy).
   */
  env(endpoint?: string): NodeJS.ProcessEnv
  stop(): Promise<void>
}

/**
 * `env` sets the config as the environment would; the queues' retry delays are 30 s unless
 * MAILBRIDGE_LOCAL_INGEST_RETRY_SECONDS and MAILBRIDGE_LOCAL_WEBHOOK_RETRY_SECONDS say
 * otherwise. In memory unless `env` names a MAILBRIDGE_DATA_DIR.
 */
export async function startEmulator(env: NodeJS.ProcessEnv = {}): Promise<Emulator> {
  const config = loadConfig({ MAILBRIDGE_DATA_DIR: ':memory:', ...env })
  const server = await startLocalEmulator({ port: 0, dataDir: config.local.dataDir })
  // As local mode points its clients at the embedded emulator (local/main.ts).
  config.aws.endpoint = server.endpoint
  config.aws.forcePathStyle = true
  config.aws.credentials = { accessKeyId: 'test', secretAccessKey: 'test' }
  const s3 = createS3Client(config.aws)
  const sqs = createSqsClient(config.aws)
  const resources = await ensureResources({ s3, sqs }, config)
  return {
    endpoint: server.endpoint,
    config,
    s3,
    sqs,
    bucket: config.bucket,
    ...resources,
    env: (endpoint) => edgeEnv(config, resources.ingestQueueUrl, endpoint),
    async stop() {
      s3.destroy()
      sqs.destroy()
      await server.stop()
    },
  }
}

/** What ingest needs, on this emulator: the same wiring as local mode's. */
export function ingestDeps(em: Emulator, component: string): IngestDeps {
  const mailboxes = new MailboxStore(em.s3, em.bucket)
  return {
    mailboxes,
    webhooks: new WebhookStore(em.s3, em.bucket),
    objects: mailboxes.objects,
    sqs: em.sqs,
    webhookQueueUrl: em.webhookQueueUrl,
    logger: createLogger(component),
  }
}
