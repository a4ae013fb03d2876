/** Lambda wiring for deliver: config and clients once per cold start, then the batch handler. */
import { createS3Client } from '../../shared/aws-clients.ts'
import { loadConfig } from '../../shared/config.ts'
import { createLogger } from '../../shared/logger.ts'
import { MailboxStore } from '../../shared/mailbox-store.ts'
import { WebhookStore } from '../../shared/webhook-store.ts'
import { createDeliverHandler } from './deliver.ts'

const config = loadConfig()
const s3 = createS3Client(config.aws)

export const handler = createDeliverHandler({
  mailboxes: new MailboxStore(s3, config.bucket),
  webhooks: new WebhookStore(s3, config.bucket),
  logger: createLogger('deliver'),
})
