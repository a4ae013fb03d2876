/**
 * Ingest: one queued LMTP transaction → the message in each recipient's mailbox, and
 * one webhook job per subscribed endpoint. Idempotent by message id: a redelivered
 * record overwrites the same objects and queues no job twice. A client's retry of a
 * message already queued under another id is stored once (retries.ts).
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs'
import { parseQueuedMessage, type QueuedMessage, type WebhookJob } from '../../shared/envelope.ts'
import { MalformedRecordError } from '../../shared/errors.ts'
import type { Logger } from '../../shared/logger.ts'
import { isIncomingRawKey, mailboxName } from '../../shared/mailbox-layout.ts'
import type { MailboxStore } from '../../shared/mailbox-store.ts'
import { buildStoredMessage, parseMail } from '../../shared/message.ts'
import type { S3Objects } from '../../shared/s3-objects.ts'
import { type SqsBatchHandler, sqsBatchHandler } from '../../shared/sqs-batch.ts'
import type { WebhookEndpoint, WebhookStore } from '../../shared/webhook-store.ts'
import { fingerprint, isRetryOf, ReceivedLog } from './retries.ts'

export interface IngestDeps {
  mailboxes: MailboxStore
  webhooks: WebhookStore
  /** Reads raw messages the edge staged in S3. */
  objects: S3Objects
  sqs: SQSClient
  webhookQueueUrl: string
  logger: Logger
}

/** Recipients grouped by mailbox, in first-seen order. */
export function groupByMailbox(rcptTo: string[]): Map<string, string[]> {
  const groups = new Map<string, string[]>()
  for (const rcpt of rcptTo) {
    const mailbox = mailboxName(rcpt)
    groups.set(mailbox, [...(groups.get(mailbox) ?? []), rcpt])
  }
  return groups
}

/** The webhook jobs for one message: one per endpoint that subscribes to any of its mailboxes. */
export function planWebhookJobs(
  messageId: string,
  groups: Map<string, string[]>,
  endpoints: WebhookEndpoint[],
): WebhookJob[] {
  const jobs: WebhookJob[] = []
  for (const endpoint of endpoints) {
    const mailboxes = [...groups.keys()].filter(
      (mailbox) => endpoint.mailbox === null || mailboxName(endpoint.mailbox) === mailbox,
    )
    if (mailboxes.length === 0) continue
    const rcptTo = mailboxes.flatMap((mailbox) => groups.get(mailbox) ?? [])
    jobs.push({ v: 1, messageId, endpointId: endpoint.id, mailboxes, rcptTo })
  }
  return jobs
}

async function loadRaw(queued: QueuedMessage, objects: S3Objects): Promise<Uint8Array> {
  if ('base64' in queued.raw) return Buffer.from(queued.raw.base64, 'base64')
  const { bucket, key } = queued.raw.s3
  if (bucket !== objects.bucket) {
    throw new MalformedRecordError(`raw message is in bucket ${bucket}, not ${objects.bucket}`)
  }
  // Only what an edge stages: a forged record must not have ingest read (and store as
  // mail) a webhook secret or another mailbox's message.
  if (!isIncomingRawKey(key)) {
    throw new MalformedRecordError(`raw message key ${key} is not a staged message`)
  }
  const raw = await objects.getBytes(key)
  if (raw === undefined) throw new MalformedRecordError(`staged raw message ${key} is missing`)
  return raw
}

export async function ingest(
  body: string,
  deps: IngestDeps,
  listEndpoints: () => Promise<WebhookEndpoint[]> = () => deps.webhooks.list(),
): Promise<void> {
  const queued = parseQueuedMessage(body)
  const raw = await loadRaw(queued, deps.objects)
  const print = fingerprint(queued, raw)
  const received = new ReceivedLog(deps.objects)
  const all = groupByMailbox(queued.envelope.rcptTo)
  const groups = await withoutRetries(all, queued, print, received, deps.logger)
  if (groups.size === 0) return
  const { email, error } = await parseMail(raw)
  if (error !== undefined) {
    deps.logger.warn({ messageId: queued.id, err: error }, 'MIME parse failed, raw kept')
  }
  await Promise.all(
    [...groups].map(([mailbox, rcptTo]) =>
      deps.mailboxes.put(raw, buildStoredMessage(queued, mailbox, rcptTo, email, error)),
    ),
  )
  const jobs = planWebhookJobs(queued.id, groups, await listEndpoints())
  await Promise.all(jobs.map((job) => queueJob(job, deps)))
  if (print !== undefined) {
    const record = { messageId: queued.id, receivedAt: queued.receivedAt }
    await Promise.all([...groups.keys()].map((mailbox) => received.put(mailbox, print, record)))
  }
  deps.logger.info(
    { messageId: queued.id, mailboxes: [...groups.keys()], webhooks: jobs.length },
    'message stored',
  )
}

/**
 * The mailboxes of `groups` that have not already got this message under another id
 * (a client's retry after a lost answer; see retries.ts). Each one skipped is logged.
 */
async function withoutRetries(
  groups: Map<string, string[]>,
  queued: QueuedMessage,
  print: string | undefined,
  received: ReceivedLog,
  logger: Logger,
): Promise<Map<string, string[]>> {
  if (print === undefined) return groups
  const fresh = new Map<string, string[]>()
  const earlier = await Promise.all(
    [...groups.keys()].map((mailbox) => received.get(mailbox, print)),
  )
  for (const [index, [mailbox, rcptTo]] of [...groups].entries()) {
    const other = earlier[index]
    if (isRetryOf(other, queued)) {
      logger.info(
        { messageId: queued.id, mailbox, sameAs: other?.messageId, fingerprint: print },
        'retry of a message the mailbox already has, not stored again',
      )
    } else {
      fresh.set(mailbox, rcptTo)
    }
  }
  return fresh
}

async function queueJob(job: WebhookJob, deps: IngestDeps): Promise<void> {
  // The record is written after the send: a crash in between queues the job again on
  // redelivery, which the deliver side absorbs (same webhook-id, delivered state checked).
  if ((await deps.webhooks.getDelivery(job.messageId, job.endpointId)) !== undefined) return
  await deps.sqs.send(
    new SendMessageCommand({ QueueUrl: deps.webhookQueueUrl, MessageBody: JSON.stringify(job) }),
  )
  await deps.webhooks.putDelivery({
    messageId: job.messageId,
    endpointId: job.endpointId,
    status: 'queued',
    attempts: 0,
    updatedAt: new Date().toISOString(),
  })
}

/**
 * The SQS batch handler over injected clients: Lambda's handler.ts and local mode both use
 * it. The webhook endpoints are read once per batch, not once per record: a listing per
 * message was a quarter of ingest's requests.
 */
export function createIngestHandler(deps: IngestDeps): SqsBatchHandler {
  return (event) => {
    let endpoints: Promise<WebhookEndpoint[]> | undefined
    const listEndpoints = () => {
      endpoints ??= deps.webhooks.list()
      return endpoints
    }
    return sqsBatchHandler((record) => ingest(record.body, deps, listEndpoints), deps.logger)(event)
  }
}
