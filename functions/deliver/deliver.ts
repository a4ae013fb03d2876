/**
 * Deliver: one webhook job → at most one signed POST, its attempt logged, and what comes
 * next decided by the Standard Webhooks schedule (schedule.ts).
 *
 * Retries for days on a queue that delays 15 minutes at most: a failed attempt puts the
 * job back on the webhook queue with its `dueAt`; a job received before it is due goes
 * back with the rest of its wait (at most 96 hops for the longest, 24 h, wait). Chosen
 * over a due-time index swept on a schedule, or EventBridge Scheduler, because it needs
 * nothing new in the stack (no sweeper, no index, no scheduler role), a waiting job costs
 * one SQS send per 15 minutes, and a retry is sent the moment it is due rather than at the
 * next sweep. Each job carries the attempt count it expects the record to have; a record
 * further on means the job is a stale copy (SQS delivers at least once), and it is dropped.
 *
 * The first receive of the job ingest sent is the hot path, from end of DATA to webhook:
 * when ingest marks it `sole` (no other job for the notification had been sent when it
 * claimed it) and SQS hands it over for the first time, the delivery record is not read
 * before the POST, and the parsed message comes inside the job. The price is a second POST
 * (same webhook-id) in the rare cases where another copy of the job exists after all: SQS's
 * own duplicate of a message, an SDK retry of a send that had gone through, ingest's
 * takeover of a claim left unsent for 15 s. The attempt's conditional write then answers
 * `stale` and the record is unchanged; a second copy whose POST fails reads the record
 * first and schedules nothing. Every other job (a retry, a replay, one put back, any second
 * receive) reads the record first and is dropped when settled or stale, and reads the
 * message as it is then: one deleted meanwhile is dropped.
 *
 * The handler throws only when the store or the queue fails, so SQS's own redelivery is
 * left for those; the receiver's failures are this file's to schedule.
 */
import type { SQSRecord } from 'aws-lambda'
import type { Root, Stores } from '../../shared/compose.ts'
import type { WebhookEndpoint } from '../../shared/contracts/webhook.ts'
import { MESSAGE_RECEIVED } from '../../shared/contracts/webhook.ts'
import type { Delivery } from '../../shared/contracts/webhook-api.ts'
import { parseWebhookJob, type WebhookJob } from '../../shared/contracts/webhook-job.ts'
import { createLogger, type Logger } from '../../shared/logger.ts'
import { type SqsBatchHandler, sqsBatchHandler } from '../../shared/sqs-batch.ts'
import { EndpointCache } from '../../shared/store/endpoint-cache.ts'
import { webhookId } from '../../shared/webhook-payload.ts'
import { delayUntil, sqsWebhookQueue, type WebhookQueue } from '../../shared/webhook-queue.ts'
import { type AttemptOutcome, attemptWebhook, succeeded, summary } from './attempt.ts'
import { createWebhookAgent, type Resolver, type WebhookAgent } from './http-client.ts'
import { EndpointLimiter } from './limiter.ts'
import { renderWebhook } from './render.ts'
import { DISABLE_AFTER_FAILING_MS, nextStep, type Outcome } from './schedule.ts'

// A job due within this much (ms) is sent now rather than put back.
const DUE_SLACK_MS = 1000
// How long a job waits in this process for a slot of its endpoint (ms); then it goes back
// on the queue for BUSY_REQUEUE_MS plus up to BUSY_JITTER_MS, so that the jobs held back
// do not all come back at once.
const SLOT_WAIT_MS = 1000
const BUSY_REQUEUE_MS = 1000
const BUSY_JITTER_MS = 1000

export interface DeliverDeps {
  stores: Pick<Stores, 'messages' | 'endpoints' | 'deliveries' | 'attempts'>
  /** Each job's endpoint, as read within the last second (its changes announced at once). */
  endpoints: EndpointCache
  logger: Logger
  /** The SSRF-checked client every webhook goes through. */
  agent: WebhookAgent
  /** Where retries and held-back jobs go. */
  queue: WebhookQueue
  limiter: EndpointLimiter
  /** Epoch ms; a test moves it through days of retries. */
  clock: () => number
  /** [0, 1), for the schedule's jitter. */
  random: () => number
}

export interface DeliverOptions {
  logger?: Logger
  /** Resolves host names; tests inject one that needs no network. */
  resolve?: Resolver
  clock?: () => number
  random?: () => number
  queue?: WebhookQueue
}

/** Deliver's dependencies, from the composition root and its config's address policy. */
export function deliverDeps(root: Root, options: DeliverOptions = {}): DeliverDeps {
  return {
    stores: root.stores,
    endpoints: new EndpointCache(root.stores.endpoints),
    logger: options.logger ?? createLogger('deliver'),
    agent: createWebhookAgent({ policy: root.config.webhooks, resolve: options.resolve }),
    queue: options.queue ?? sqsWebhookQueue(root.clients.sqs, root.config.webhookQueue),
    limiter: new EndpointLimiter(),
    clock: options.clock ?? Date.now,
    random: options.random ?? Math.random,
  }
}

/**
 * Puts `job` back to be received at `dueAt` (or as near as one SQS delay gets), without
 * what only its first receive may use: it is no longer sole once this copy is sent, and it
 * reads the message as it is then.
 */
async function later(job: WebhookJob, dueAt: number, deps: DeliverDeps): Promise<void> {
  const { sole: _sole, message: _message, ...rest } = job
  await deps.queue.send({ ...rest, dueAt }, { delaySeconds: delayUntil(dueAt, deps.clock()) })
}

/**
 * Why the record makes a job with `expected` attempts moot: the notification is settled,
 * or another copy recorded an attempt first. Undefined when the job is still due.
 */
function superseded(state: Delivery | undefined, expected: number): string | undefined {
  if (state?.status === 'delivered' || state?.status === 'failed') {
    return 'notification settled already'
  }
  if (state !== undefined && state.attempts !== expected) return 'stale copy of a job'
  return undefined
}

export async function deliver(
  record: Pick<SQSRecord, 'body' | 'attributes'>,
  deps: DeliverDeps,
): Promise<void> {
  const job = parseWebhookJob(record.body)
  const now = deps.clock()
  if (job.dueAt !== undefined && job.dueAt > now + DUE_SLACK_MS) {
    await later(job, job.dueAt, deps)
    return
  }
  const log = deps.logger.child({ messageId: job.messageId, endpointId: job.endpointId })
  const { deliveries, messages } = deps.stores
  const expected = job.attempts ?? 0
  const firstReceive = record.attributes.ApproximateReceiveCount === '1'
  // The one job ingest sent, received for the first time (see the top).
  const fast = firstReceive && job.sole === true && expected === 0 && job.trigger === undefined
  // The message is read beside the state, not after it: one round trip less before the
  // POST, for a read the settled or stale jobs below do not need (and leave unawaited).
  const parsed =
    job.message && firstReceive ? Promise.resolve(job.message) : messages.getParsed(job.messageId)
  parsed.catch(() => {})
  const [state, endpoint] = await Promise.all([
    fast ? undefined : deliveries.get(job.messageId, job.endpointId),
    deps.endpoints.get(job.endpointId),
  ])
  const moot = superseded(state, expected)
  if (moot !== undefined) {
    log.info({ status: state?.status, attempts: state?.attempts, expected }, `${moot}, job dropped`)
    return
  }
  if (!endpoint) {
    log.info('endpoint deleted, job dropped')
    return
  }
  if (!endpoint.enabled) {
    await settleUnsent(job, endpoint, `endpoint disabled${reason(endpoint)}`, deps)
    return
  }
  if (endpoint.pausedUntil > now + DUE_SLACK_MS) {
    await later(job, endpoint.pausedUntil, deps)
    return
  }
  if (!(await deps.limiter.acquire(endpoint.id, endpoint.concurrency, SLOT_WAIT_MS))) {
    await later(job, deps.clock() + BUSY_REQUEUE_MS + deps.random() * BUSY_JITTER_MS, deps)
    return
  }
  let outcome: AttemptOutcome
  try {
    const message = await parsed
    if (!message) {
      log.info('message deleted before its webhook was sent, job dropped')
      return
    }
    const rendered = await renderWebhook(endpoint, {
      message:
        job.mailboxHash === undefined ? message : { ...message, mailboxHash: job.mailboxHash },
      mailboxes: job.mailboxes,
      rcptTo: job.rcptTo,
      event: MESSAGE_RECEIVED,
      loadRaw: async () => {
        const raw = await messages.getRaw(job.messageId)
        if (raw === undefined) throw new MessageGone()
        return raw
      },
    }).catch((error: unknown) => {
      if (error instanceof MessageGone) return undefined
      throw error
    })
    if (rendered === undefined) {
      log.info('message deleted before its webhook was sent, job dropped')
      return
    }
    const id = webhookId(job.messageId, job.endpointId)
    outcome = await attemptWebhook(deps.agent, endpoint, id, rendered, now)
  } finally {
    deps.limiter.release(endpoint.id)
  }
  // A failed POST on the fast path: before anything is scheduled on its account, this copy
  // must be the notification's own, not a second copy of one settled already.
  if (fast && !succeeded(outcome)) {
    const moot = superseded(await deliveries.get(job.messageId, job.endpointId), expected)
    if (moot !== undefined) {
      await deps.stores.attempts.record(attemptEntry(job, endpoint, outcome))
      log.info({ result: summary(outcome) }, `${moot}: this copy's failed POST schedules nothing`)
      return
    }
  }
  await settle(job, endpoint, outcome, deps, log)
}

function reason(endpoint: WebhookEndpoint): string {
  return endpoint.disabledReason ? ` (${endpoint.disabledReason})` : ''
}

/** A job for a disabled endpoint: the notification fails unsent, to be replayed later. */
async function settleUnsent(
  job: WebhookJob,
  endpoint: WebhookEndpoint,
  detail: string,
  deps: DeliverDeps,
): Promise<void> {
  const state = await deps.stores.deliveries.attempted(
    job.messageId,
    job.endpointId,
    job.attempts ?? 0,
    { status: 'failed', detail, mailboxes: job.mailboxes, rcptTo: job.rcptTo },
  )
  if (state === 'recorded') {
    await deps.stores.attempts.failed(
      endpoint.id,
      job.messageId,
      new Date(deps.clock()).toISOString(),
    )
  }
}

/** What follows an attempt, with the five-day rule applied on top of the schedule. */
async function decide(
  endpoint: WebhookEndpoint,
  outcome: AttemptOutcome,
  run: number,
  deps: DeliverDeps,
): Promise<{ next: Outcome; disable?: string }> {
  const now = deps.clock()
  const next = nextStep(
    { status: outcome.httpStatus, retryAfter: outcome.retryAfter },
    run,
    now,
    deps.random,
  )
  if (next.kind === 'delivered') return { next }
  if (next.kind === 'gone') return { next, disable: 'the receiver answered 410 Gone' }
  if (endpoint.failingSince === null) {
    await deps.stores.endpoints.startFailing(endpoint.id, now)
  } else if (now - Date.parse(endpoint.failingSince) >= DISABLE_AFTER_FAILING_MS) {
    return {
      next: { kind: 'failed' },
      disable: `every webhook failed since ${endpoint.failingSince}`,
    }
  }
  return { next }
}

/** The attempt log's entry for one POST. */
function attemptEntry(job: WebhookJob, endpoint: WebhookEndpoint, outcome: AttemptOutcome) {
  return {
    endpointId: endpoint.id,
    messageId: job.messageId,
    webhookId: webhookId(job.messageId, job.endpointId),
    at: outcome.at,
    status: succeeded(outcome) ? ('succeeded' as const) : ('failed' as const),
    httpStatus: outcome.httpStatus ?? null,
    latencyMs: outcome.latencyMs,
    response: outcome.response,
    error: outcome.error ?? null,
    trigger: job.trigger ?? 'scheduled',
  }
}

/** What deliver's loadRaw throws when the message's bytes are gone: it was deleted. */
class MessageGone extends Error {}

async function settle(
  job: WebhookJob,
  endpoint: WebhookEndpoint,
  outcome: AttemptOutcome,
  deps: DeliverDeps,
  log: Logger,
): Promise<void> {
  const { deliveries, endpoints, attempts } = deps.stores
  const expected = job.attempts ?? 0
  const run = (job.run ?? 0) + 1
  const { next, disable } = await decide(endpoint, outcome, run, deps)
  const detail = summary(outcome)
  // The retry is queued before the attempt is recorded: a crash between the two leaves
  // a duplicate job (dropped as stale later), never a lost one.
  if (next.kind === 'retry') {
    await later({ ...job, attempts: expected + 1, run }, next.retryAt, deps)
  }
  const status =
    next.kind === 'delivered' ? 'delivered' : next.kind === 'retry' ? 'queued' : 'failed'
  const [recorded] = await Promise.all([
    deliveries.attempted(job.messageId, job.endpointId, expected, {
      status,
      detail,
      mailboxes: job.mailboxes,
      rcptTo: job.rcptTo,
      ...(next.kind === 'retry' && { nextAttemptAt: new Date(next.retryAt).toISOString() }),
    }),
    attempts.record(attemptEntry(job, endpoint, outcome)),
  ])
  if (recorded === 'stale') {
    log.info({ detail }, 'another copy of this job recorded its attempt first')
    return
  }
  const follow: Promise<unknown>[] = []
  if (next.kind === 'delivered') {
    if (endpoint.failingSince !== null) follow.push(endpoints.healthy(endpoint.id))
    if (job.trigger === 'replay') follow.push(attempts.recovered(endpoint.id, job.messageId))
  }
  if (status === 'failed') follow.push(attempts.failed(endpoint.id, job.messageId, outcome.at))
  if (disable !== undefined) follow.push(endpoints.disable(endpoint.id, disable))
  if (next.kind === 'retry' && next.pauseEndpointUntil !== undefined) {
    follow.push(endpoints.pause(endpoint.id, next.pauseEndpointUntil))
  }
  await Promise.all(follow)
  const fields = { attempt: expected + 1, ms: outcome.latencyMs, result: detail }
  if (next.kind === 'delivered') log.info(fields, 'webhook delivered')
  else if (next.kind === 'retry')
    log.warn({ ...fields, retryAt: new Date(next.retryAt) }, 'webhook failed, retry scheduled')
  else log.warn({ ...fields, disabled: disable }, 'webhook failed for good')
}

/** The SQS batch handler over injected clients: Lambda's handler.ts and local mode both use it. */
export function createDeliverHandler(deps: DeliverDeps): SqsBatchHandler {
  return sqsBatchHandler((record) => deliver(record, deps), deps.logger)
}
