/**
 * The real emulators (fauxqs for S3/SQS, dynalite for DynamoDB) on free loopback ports,
 * with the bucket, queues and table created through the real SDK clients, and the
 * composition root over them: exactly as local mode does it.
 */
import type { S3Client } from '@aws-sdk/client-s3'
import type { SQSClient } from '@aws-sdk/client-sqs'
import {
  createIngestHandler,
  type IngestDeps,
  ingestDeps as rootIngestDeps,
} from '../../functions/ingest/ingest.ts'
import { startEmulators } from '../../local/emulators.ts'
import { edgeEnv, ensureResources } from '../../local/resources.ts'
import { compose, destroyClients, type Root } from '../../shared/compose.ts'
import { type Config, loadConfig } from '../../shared/config.ts'
import type { StoredMessage } from '../../shared/contracts/message.ts'
import type { QueuedMessage } from '../../shared/contracts/queue.ts'
import { createLogger } from '../../shared/logger.ts'
import { inMailbox, type TxtResolver } from '../../shared/message.ts'
import { sqsEvent, sqsRecord } from './factories.ts'

export interface Emulator {
  endpoint: string
  config: Config
  /** Clients and stores on these emulators. */
  root: Root
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
  const config = loadConfig({ MAILBRIDGE_DATA_DIR: ':memory:', ...env }, 'local')
  const servers = await startEmulators({
    port: 0,
    dynamodbPort: 0,
    dataDir: config.local.dataDir,
    threads: false,
  })
  // As local mode points its clients at the embedded emulators (local/main.ts).
  config.aws.endpoint = servers.endpoint
  config.aws.dynamodbEndpoint = servers.dynamodbEndpoint
  config.aws.forcePathStyle = true
  config.aws.credentials = { accessKeyId: 'test', secretAccessKey: 'test' }
  const root = compose(config)
  const resources = await ensureResources(root.clients, config)
  config.ingestQueue = resources.ingestQueueUrl
  config.webhookQueue = resources.webhookQueueUrl
  return {
    endpoint: servers.endpoint,
    config,
    root,
    s3: root.clients.s3,
    sqs: root.clients.sqs,
    bucket: config.bucket,
    ...resources,
    env: (endpoint) => edgeEnv(config, resources.ingestQueueUrl, endpoint),
    async stop() {
      destroyClients(root.clients)
      await servers.stop()
    },
  }
}

/**
 * DKIM key lookups in tests: no network, so every key is missing (`no key`), unless a
 * test serves its own records.
 */
export const NO_DNS: TxtResolver = async (name) => {
  throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' })
}

/**
 * What ingest needs, on this emulator: the same wiring as local mode's, but for DKIM key
 * lookups, which go to `dkimResolver` (no DNS by default).
 */
export function ingestDeps(
  em: Emulator,
  component: string,
  dkimResolver: TxtResolver = NO_DNS,
): IngestDeps {
  return { ...rootIngestDeps(em.root, createLogger(component)), dkimResolver }
}

/** A message as `mailbox` holds it (what the API's GET returns), or undefined. */
export async function readMessage(
  em: Emulator,
  mailbox: string,
  id: string,
): Promise<StoredMessage | undefined> {
  const { mailboxes, messages } = em.root.stores
  const entry = await mailboxes.get(mailbox, id)
  const parsed = entry && (await messages.getParsed(id))
  return parsed && inMailbox(parsed, entry)
}

/** The ids of a mailbox's first page (up to 200), newest first. */
export async function idsIn(em: Emulator, mailbox: string): Promise<string[]> {
  return (await em.root.stores.mailboxes.page(mailbox, 200)).items.map((summary) => summary.id)
}

/** The count of a mailbox's messages, from its counters. */
export async function countIn(em: Emulator, mailbox: string): Promise<number> {
  return (await em.root.stores.mailboxes.counters(mailbox)).messages
}

/** Stores messages as ingest does (the real handler, one batch); throws if any record fails. */
export async function ingestMessages(em: Emulator, ...queued: QueuedMessage[]): Promise<void> {
  const handler = createIngestHandler(ingestDeps(em, 'test-ingest'))
  const event = sqsEvent(...queued.map((message) => sqsRecord(JSON.stringify(message))))
  const { batchItemFailures } = await handler(event)
  if (batchItemFailures.length > 0)
    throw new Error(`ingest failed: ${JSON.stringify(batchItemFailures)}`)
}
