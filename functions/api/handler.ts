/** Lambda entry for the API (API Gateway HTTP API, payload v2): wiring only. */
import { handle } from 'hono/aws-lambda'
import { createS3Client } from '../../shared/aws-clients.ts'
import { loadConfig } from '../../shared/config.ts'
import { ConfigError } from '../../shared/errors.ts'
import { createLogger } from '../../shared/logger.ts'
import { MailboxStore } from '../../shared/mailbox-store.ts'
import { WebhookStore } from '../../shared/webhook-store.ts'
import { createApp } from './app.ts'

// Read once per cold start; a missing key fails the init, not every request.
const config = loadConfig()
if (config.api.key === undefined) {
  throw new ConfigError('MAILBRIDGE_API_KEY is not set: the API refuses to run without a key')
}
const s3 = createS3Client(config.aws)

export const app = createApp({
  mailboxes: new MailboxStore(s3, config.bucket),
  webhooks: new WebhookStore(s3, config.bucket),
  apiKey: config.api.key,
  logger: createLogger('api'),
})

export const handler = handle(app)
