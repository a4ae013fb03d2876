/**
 * Ingest: one queued LMTP transaction → the message stored once, an entry in each
 * recipient's mailbox, and one webhook job per endpoint subscribed to any of them.
 * Idempotent by message id: a redelivered record writes the same bytes, finds its entries
 * there (conditional writes, so nothing is counted twice) and queues no job twice. A
 * client's retry of a message already queued under another id is stored once (retries.ts).
 */
import { setTimeout } from 'node:timers/promises'
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs'
import type { Root, Stores } from '../../shared/compose.ts'
import {
  parseQueuedMessage,
  type QueuedMessage,
  type WebhookJob,
} from '../../shared/contracts/queue.ts'
import { MalformedRecordError } from '../../shared/errors.ts'
import { createLogger, type Logger } from '../../shared/logger.ts'
import { buildParsedMessage, parseMail, summarize } from '../../shared/message.ts'
import { type SqsBatchHandler, sqsBatchHandler } from '../../shared/sqs-batch.ts'
import { isIncomingRawKey, mailboxKey, mailboxName } from '../../shared/store/keys.ts'
import type { S3Objects } from '../../shared/store/objects.ts'
import { Batch } from './batch.ts'
import { fingerprint, isRetryOf } from './retries.ts'

// How long a claimed job may stay unsent before another invocation sends it (ms): far
// longer than one SQS send takes, far shorter than a record takes to come back.
const CLAIM_STALE_MS = 15_000
// How often a job claimed by another invocation is looked at until it is sent (ms).
const CLAIM_POLL_MS = 50

export interface IngestDeps {
  stores: Stores
  sqs: SQSClient
  /** Where webhook jobs go. */
  webhookQueueUrl: string
  logger: Logger
  /** Whose Authentication-Results verdicts are trusted (MAILBRIDGE_AUTHSERV_ID). */
  authservId?: string | undefined
}

/** Ingest's dependencies, from the composition root. */
export function ingestDeps(root: Root, logger = createLogger('ingest')): IngestDeps {
  return {
    stores: root.stores,
    sqs: root.clients.sqs,
    webhookQueueUrl: root.config.webhookQueue,
    logger,
    authservId: root.config.authservId,
  }
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

/**
 * The webhook jobs for one message: one per endpoint subscribed to any of its mailboxes,
 * naming those mailboxes. `subscribers` holds each mailbox's own endpoints, `everywhere`
 * the endpoints of every mailbox.
 */
export function planWebhookJobs(
  messageId: string,
  groups: Map<string, string[]>,
  subscribers: Map<string, string[]>,
  everywhere: string[],
): WebhookJob[] {
  const mailboxesOf = new Map<string, string[]>()
  for (const mailbox of groups.keys()) {
    for (const endpointId of new Set([...everywhere, ...(subscribers.get(mailbox) ?? [])])) {
      mailboxesOf.set(endpointId, [...(mailboxesOf.get(endpointId) ?? []), mailbox])
    }
  }
  return [...mailboxesOf].map(([endpointId, mailboxes]) => ({
    v: 1,
    messageId,
    endpointId,
    mailboxes,
    rcptTo: mailboxes.flatMap((mailbox) => groups.get(mailbox) ?? []),
  }))
}

async function loadRaw(queued: QueuedMessage, objects: S3Objects): Promise<Uint8Array> {
  if ('base64' in queued.raw) return Buffer.from(queued.raw.base64, 'base64')
  const { bucket, key } = queued.raw.s3
  if (bucket !== objects.bucket) {
    throw new MalformedRecordError(`raw message is in bucket ${bucket}, not ${objects.bucket}`)
  }
  // Only what an edge stages: a forged record must not have ingest read (and store as
  // mail) another message's bytes.
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
  batch = new Batch(deps.stores),
): Promise<void> {
  const { messages, mailboxes, fingerprints } = deps.stores
  const queued = parseQueuedMessage(body)
  const raw = await loadRaw(queued, deps.stores.objects)
  const print = fingerprint(queued, raw)
  const all = groupByMailbox(queued.envelope.rcptTo)
  const groups = await withoutRetries(all, queued, print, deps)
  if (groups.size === 0) return
  const parse = await parseMail(raw)
  if (parse.error !== undefined) {
    deps.logger.warn({ messageId: queued.id, err: parse.error }, 'MIME parse incomplete, raw kept')
  }
  const parsed = buildParsedMessage(queued, parse, { authservId: deps.authservId })
  // Bytes, then references, then entries: a listed message can always be read, and its
  // bytes are never deleted while a mailbox refers to them.
  await messages.putBytes(raw, parsed)
  // From every recipient, not just those left after the retry check: the same on every
  // attempt at this record, so all of its entries agree.
  const shared = all.size > 1
  if (shared) await messages.addRefs(queued.id, [...groups.keys()])
  const added = await Promise.all(
    [...groups.keys()].map(async (mailbox) => {
      const isNew = await mailboxes.add({ ...summarize(parsed, mailbox), shared })
      if (isNew) batch.added(mailbox, parsed.size)
      return isNew
    }),
  )
  const subscribers = new Map(
    await Promise.all(
      [...groups.keys()].map(
        async (mailbox) => [mailbox, await batch.subscribers(mailbox)] as const,
      ),
    ),
  )
  const jobs = planWebhookJobs(queued.id, groups, subscribers, await batch.everywhere())
  await Promise.all(jobs.map((job) => queueJob(job, deps)))
  if (print !== undefined) {
    const received = { messageId: queued.id, receivedAt: queued.receivedAt }
    await fingerprints.remember(print, [...groups.keys()], received)
  }
  deps.logger.info(
    { messageId: queued.id, mailboxes: [...groups.keys()], webhooks: jobs.length },
    added.some(Boolean) ? 'message stored' : 'message was stored already',
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
  deps: IngestDeps,
): Promise<Map<string, string[]>> {
  if (print === undefined) return groups
  const earlier = await deps.stores.fingerprints.lookup(print)
  const fresh = new Map<string, string[]>()
  for (const [mailbox, rcptTo] of groups) {
    const other = earlier.get(mailboxKey(mailbox))
    if (isRetryOf(other, queued)) {
      deps.logger.info(
        { messageId: queued.id, mailbox, sameAs: other?.messageId, fingerprint: print },
        'retry of a message the mailbox already has, not stored again',
      )
    } else {
      fresh.set(mailbox, rcptTo)
    }
  }
  return fresh
}

/**
 * Sends a job once, however many invocations handle the record: the one that claims the
 * notification sends it; another waits until it is sent. A claim left unsent for
 * CLAIM_STALE_MS was made by an invocation that died before sending (its record has come
 * back), and is sent now. The deliver side absorbs the rare job sent twice (same
 * webhook-id, delivered state checked).
 */
async function queueJob(job: WebhookJob, deps: IngestDeps): Promise<void> {
  const { deliveries } = deps.stores
  let claim = await deliveries.claim(job.messageId, job.endpointId)
  while (claim !== 'claimed') {
    if (claim.status !== 'claimed') return
    if (Date.now() - Date.parse(claim.updatedAt) > CLAIM_STALE_MS) break
    await setTimeout(CLAIM_POLL_MS)
    // Gone (expired) meanwhile: claim it anew.
    claim =
      (await deliveries.get(job.messageId, job.endpointId)) ??
      (await deliveries.claim(job.messageId, job.endpointId))
  }
  await deps.sqs.send(
    new SendMessageCommand({ QueueUrl: deps.webhookQueueUrl, MessageBody: JSON.stringify(job) }),
  )
  await deliveries.sent(job.messageId, job.endpointId)
}

/**
 * The SQS batch handler: Lambda's handler.ts and local mode both use it. The records of a
 * batch share one Batch; its counts are written once every record is done.
 */
export function createIngestHandler(deps: IngestDeps): SqsBatchHandler {
  return async (event) => {
    const batch = new Batch(deps.stores)
    const handle = sqsBatchHandler((record) => ingest(record.body, deps, batch), deps.logger)
    try {
      return await handle(event)
    } finally {
      await batch.flush()
    }
  }
}
