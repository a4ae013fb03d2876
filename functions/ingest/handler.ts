/** Lambda wiring for ingest: config and clients once per cold start, then the batch handler. */
import { createS3Client, createSqsClient } from '../../shared/aws-clients.ts'
import { loadConfig } from '../../shared/config.ts'
import { createLogger } from '../../shared/logger.ts'
import { MailboxStore } from '../../shared/mailbox-store.ts'
import { WebhookStore } from '../../shared/webhook-store.ts'
import { createIngestHandler } from './ingest.ts'

const config = loadConfig()
const logger = createLogger('ingest')
const s3 = createS3Client(config.aws)
const mailboxes = new MailboxStore(s3, config.bucket)
export const handler = createIngestHandler({
  mailboxes,
  webhooks: new WebhookStore(s3, config.bucket),
  objects: mailboxes.objects,
  sqs: createSqsClient(config.aws),
  // In Lambda, serverless.yml passes the queue URL; a name is resolved in local mode only.
  webhookQueueUrl: config.webhookQueue,
  logger,
})
