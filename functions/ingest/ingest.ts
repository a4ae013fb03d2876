/**
 * Ingest: one queued LMTP transaction → each recipient routed (plan.ts), the message
 * stored once, an entry in each mailbox its routes chose, and one webhook job per
 * endpoint that subscribes to one of them or that a route notifies.
 * Idempotent by message id: a redelivered record writes the same bytes, finds its entries
 * there (conditional writes, so nothing is counted twice) and queues no job twice. A
 * client's retry of a message already queued under another id is stored once (retries.ts).
 */
import { setTimeout } from 'node:timers/promises'
import type { Root, Stores } from '../../shared/compose.ts'
import type { ParsedMessage } from '../../shared/contracts/message.ts'
import { parseQueuedMessage, type QueuedMessage } from '../../shared/contracts/queue.ts'
import type { WebhookJob } from '../../shared/contracts/webhook-job.ts'
import { MalformedRecordError } from '../../shared/errors.ts'
import { createLogger, type Logger } from '../../shared/logger.ts'
import {
  buildParsedMessage,
  parseMail,
  summarize,
  type TxtResolver,
  verifyDkim,
} from '../../shared/message.ts'
import { type SqsBatchHandler, sqsBatchHandler } from '../../shared/sqs-batch.ts'
import { EndpointCache } from '../../shared/store/endpoint-cache.ts'
import { isIncomingRawKey, mailboxKey } from '../../shared/store/keys.ts'
import type { S3Objects } from '../../shared/store/objects.ts'
import { RouteSnapshot } from '../../shared/store/route-snapshot.ts'
import { sqsWebhookQueue, type WebhookQueue } from '../../shared/webhook-queue.ts'
import { Batch } from './batch.ts'
import { ByteBudget, type BytesInFlight } from './memory-budget.ts'
import { type MailboxPlan, planDelivery, planWebhookJobs, withRouteListeners } from './plan.ts'
import { fingerprint, isRetryOf } from './retries.ts'

// How long a claimed job may stay unsent before another invocation sends it (ms): far
// longer than one SQS send takes, far shorter than a record takes to come back.
const CLAIM_STALE_MS = 15_000
// How often a job claimed by another invocation is looked at until it is sent (ms).
const CLAIM_POLL_MS = 50

// How old ingest's copy of the routes may be (ms): a route saved through the API applies
// to messages queued a second later.
const ROUTES_MAX_AGE_MS = 1000

export interface IngestDeps {
  stores: Stores
  /** The published routes. */
  routes: RouteSnapshot
  /** Who listens to which mailboxes and routes, as read within the last second. */
  endpoints: EndpointCache
  /** Where webhook jobs go. */
  webhookQueue: WebhookQueue
  logger: Logger
  /** Whose Authentication-Results verdicts are trusted (MAILBRIDGE_AUTHSERV_ID). */
  authservId?: string | undefined
  /** Answers the DKIM key lookups of ingest's own check; the system's DNS by default. */
  dkimResolver?: TxtResolver | undefined
  /** How many bytes of mail are worked on at once (memory-budget.ts). */
  inFlight: BytesInFlight
}

/** Ingest's dependencies, from the composition root. */
export function ingestDeps(root: Root, logger = createLogger('ingest')): IngestDeps {
  return {
    stores: root.stores,
    routes: new RouteSnapshot(root.stores.objects, {
      delimiters: root.config.routing.delimiters,
      maxAgeMs: ROUTES_MAX_AGE_MS,
      logger,
    }),
    endpoints: new EndpointCache(root.stores.endpoints),
    webhookQueue: sqsWebhookQueue(root.clients.sqs, root.config.webhookQueue),
    logger,
    authservId: root.config.authservId,
    inFlight: new ByteBudget(),
  }
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

// Ingest's own DKIM verdicts; undefined (the message is stored without them) if the check
// itself broke, which a message's content should never make it do.
async function checkDkim(id: string, raw: Uint8Array, deps: IngestDeps) {
  try {
    return await verifyDkim(raw, { resolver: deps.dkimResolver })
  } catch (err) {
    deps.logger.warn({ messageId: id, err }, 'DKIM check failed, message stored without it')
    return undefined
  }
}

/**
 * Ingests one record. Its counts and fingerprints go into `batch`, which the caller writes
 * (Batch.flush) once the batch is done; without one, the record's own are written here.
 */
export async function ingest(body: string, deps: IngestDeps, batch?: Batch): Promise<void> {
  const queued = parseQueuedMessage(body)
  const own = batch ?? new Batch(deps.stores)
  await deps.inFlight.run(queued.size, () => ingestQueued(queued, deps, own))
  if (batch === undefined) await own.flush()
}

async function ingestQueued(queued: QueuedMessage, deps: IngestDeps, batch: Batch): Promise<void> {
  const { messages, mailboxes } = deps.stores
  const raw = await loadRaw(queued, deps.stores.objects)
  const [parse, dkim] = await Promise.all([parseMail(raw), checkDkim(queued.id, raw, deps)])
  if (parse.error !== undefined) {
    deps.logger.warn({ messageId: queued.id, err: parse.error }, 'MIME parse incomplete, raw kept')
  }
  const parsed = buildParsedMessage(queued, parse, { authservId: deps.authservId, dkim })
  const routes = await deps.routes.table(queued.routesVersion)
  const plan = planDelivery(routes, queued.envelope, parsed.headers, queued.delimiters)
  batch.routed(plan)
  for (const { rcpt, routeId } of plan.dropped) {
    deps.logger.info({ messageId: queued.id, rcpt, routeId }, 'recipient dropped by its route')
  }
  if (plan.unrouted.length > 0) {
    deps.logger.warn(
      { messageId: queued.id, rcpt: plan.unrouted },
      'no route matched these recipients once the headers were known: dropped, counted as unrouted',
    )
  }
  const print = fingerprint(queued, raw)
  const groups = await withoutRetries(plan.mailboxes, queued, print, deps)
  // Every mailbox had it already (a client's retry): so had its endpoints.
  if (groups.size === 0 && plan.mailboxes.size > 0) return
  // Who listens is read while the message is stored (it decides only the jobs).
  const listening = deps.endpoints.listeners([...groups.keys()], [...plan.matched.keys()])
  // Bytes, then references, then entries: a listed message can always be read, and its
  // bytes are never deleted while a mailbox refers to them. Nothing to store and nobody
  // to tell (every recipient dropped or unrouted): nothing is written at all.
  const storing = async () => {
    // References for every stored message, one mailbox too: a record that comes back after
    // the routes changed may store it in another mailbox than its first attempt did, and
    // only the union of the references knows both (MessageStore).
    await Promise.all([
      messages.putBytes(raw, parsed),
      groups.size > 0 ? messages.addRefs(queued.id, [...groups.keys()]) : undefined,
    ])
    const outcomes = await Promise.all(
      [...groups].map(async ([mailbox, { rcptTo, mailboxHash }]) => {
        const outcome = await mailboxes.add({ ...summarize(parsed, mailbox, mailboxHash), rcptTo })
        // Found there already, it may not be counted yet (its first attempt died): the
        // batch counts each entry once, whoever stored it (MailboxStore.countEntries).
        if (outcome !== 'deleted') batch.stored(mailbox, queued.id, parsed.size)
        return outcome
      }),
    )
    // Deleted from a mailbox since an earlier attempt stored it there: it stays deleted,
    // and lets go of the bytes and the reference written again above.
    const deleted = [...groups.keys()].filter((_, index) => outcomes[index] === 'deleted')
    if (deleted.length > 0) {
      deps.logger.info(
        { messageId: queued.id, mailboxes: deleted },
        'deleted from these mailboxes since it was stored: left deleted',
      )
      for (const mailbox of deleted) await messages.release(queued.id, mailbox)
    }
    return outcomes
  }
  const stored = groups.size > 0 ? storing() : undefined
  stored?.catch(() => {})
  const listeners = await listening
  const notify = withRouteListeners(plan, listeners.byRoute)
  if (stored === undefined && notify.size === 0) return
  const written = stored ?? storing()
  const jobs = planWebhookJobs(
    queued.id,
    { mailboxes: groups, notify, decisions: plan.decisions },
    listeners.byMailbox,
    listeners.everywhere,
  )
  // Each job is claimed while the message is being stored, and sent once it is.
  const [added] = await Promise.all([
    written,
    ...jobs.map((job) => queueJob(job, parsed, deps, written)),
  ])
  if (print !== undefined) {
    const received = { messageId: queued.id, receivedAt: queued.receivedAt }
    for (const mailbox of groups.keys()) batch.remember({ fingerprint: print, mailbox, received })
  }
  deps.logger.info(
    { messageId: queued.id, mailboxes: [...groups.keys()], webhooks: jobs.length },
    added.includes('added') || groups.size === 0 ? 'message stored' : 'message was stored already',
  )
}

/**
 * The mailboxes of `groups` that have not already got this message under another id
 * (a client's retry after a lost answer; see retries.ts). Each one skipped is logged.
 */
async function withoutRetries(
  groups: Map<string, MailboxPlan>,
  queued: QueuedMessage,
  print: string | undefined,
  deps: IngestDeps,
): Promise<Map<string, MailboxPlan>> {
  if (print === undefined || groups.size === 0) return groups
  const earlier = await deps.stores.fingerprints.lookup(print)
  const fresh = new Map<string, MailboxPlan>()
  for (const [mailbox, entry] of groups) {
    const other = earlier.get(mailboxKey(mailbox))
    if (isRetryOf(other, queued)) {
      deps.logger.info(
        { messageId: queued.id, mailbox, sameAs: other?.messageId, fingerprint: print },
        'retry of a message the mailbox already has, not stored again',
      )
    } else {
      fresh.set(mailbox, entry)
    }
  }
  return fresh
}

/**
 * Sends a job once the message is `stored`, and once however many invocations handle the
 * record: the one that claims the notification sends it; another waits until it is
 * sent. A claim left unsent for CLAIM_STALE_MS was made by an invocation that died before
 * sending (its record has come back), and is sent now. The deliver side absorbs the rare
 * job sent twice (same webhook-id, delivered state checked): only a job whose claim this
 * call made at once is `sole`, the one deliver may POST without reading the record first.
 */
async function queueJob(
  job: WebhookJob,
  parsed: ParsedMessage,
  deps: IngestDeps,
  stored: Promise<unknown>,
): Promise<void> {
  const { deliveries } = deps.stores
  let claim = await deliveries.claim(job.messageId, job.endpointId)
  const sole = claim === 'claimed'
  while (claim !== 'claimed') {
    if (claim.status !== 'claimed') return
    if (Date.now() - Date.parse(claim.updatedAt) > CLAIM_STALE_MS) break
    await setTimeout(CLAIM_POLL_MS)
    // Gone (expired) meanwhile: claim it anew.
    claim =
      (await deliveries.get(job.messageId, job.endpointId)) ??
      (await deliveries.claim(job.messageId, job.endpointId))
  }
  // A receiver may read the message through the API as soon as it hears of it.
  await stored
  await deps.webhookQueue.send(sole ? { ...job, sole } : job, { message: parsed })
  await deliveries.sent(job.messageId, job.endpointId)
}

/**
 * The SQS batch handler: Lambda's handler.ts and local mode both use it. The records of a
 * batch share one Batch; its counts and fingerprints are written once every record is
 * done. It throws (the whole batch comes back) only when an entry could not be counted or
 * a fingerprint remembered (Batch.flush).
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
