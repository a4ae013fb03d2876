import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { Webhook } from 'standardwebhooks'
import {
  createDeliverHandler,
  type DeliverOptions,
  deliverDeps,
} from '../../functions/deliver/deliver.ts'
import { DISABLE_AFTER_FAILING_MS, MAX_ATTEMPTS } from '../../functions/deliver/schedule.ts'
import type { Stores } from '../../shared/compose.ts'
import type { WebhookPayload } from '../../shared/contracts/payload.ts'
import { parseWebhookJob, type WebhookJob } from '../../shared/contracts/webhook-job.ts'
import { createLogger } from '../../shared/logger.ts'
import type { NewEndpoint } from '../../shared/store/endpoints.ts'
import { sqsWebhookQueue } from '../../shared/webhook-queue.ts'
import { type Emulator, ingestMessages, startEmulator } from '../helpers/emulator.ts'
import { queuedMessage, sqsEvent, sqsRecord } from '../helpers/factories.ts'
import { drainQueue } from '../helpers/queue.ts'
import { type Receiver, startReceiver } from '../helpers/receiver.ts'

const fixture = readFileSync(new URL('../fixtures/simple.eml', import.meta.url))
const DAY = 24 * 3600_000

let emulator: Emulator
let stores: Stores
let receiver: Receiver

before(async () => {
  emulator = await startEmulator({ LOG_LEVEL: 'warn' })
  stores = emulator.root.stores
  receiver = await startReceiver()
})
after(async () => {
  await receiver.close()
  await emulator.stop()
})

/** A deliverer on a clock the test moves, whose retries land in `queued` instead of SQS. */
function deliverer(options: DeliverOptions = {}) {
  const clock = { now: Date.now() }
  const queued: Array<{ job: WebhookJob; delay: number; message: unknown }> = []
  const deps = deliverDeps(emulator.root, {
    logger: createLogger('test-deliver'),
    clock: () => clock.now,
    random: () => 0.5,
    queue: {
      async send(job, { delaySeconds = 0, message } = {}) {
        queued.push({ job, delay: delaySeconds, message })
      },
    },
    ...options,
  })
  const handle = createDeliverHandler(deps)
  /** SQS hands `jobs` over, each for the `receiveCount`th time. */
  const receive = async (receiveCount: number, ...jobs: WebhookJob[]) => {
    const records = jobs.map((job) => sqsRecord(JSON.stringify(job), receiveCount))
    const result = await handle(sqsEvent(...records))
    assert.deepEqual(result.batchItemFailures, [])
  }
  const run = (...jobs: WebhookJob[]) => receive(1, ...jobs)
  return { clock, queued, run, receive, deps }
}

async function stored(mailbox: string) {
  const queued = queuedMessage(fixture, [mailbox])
  await ingestMessages(emulator, queued)
  return queued
}

function endpoint(path: string, settings: Partial<NewEndpoint> = {}) {
  return stores.endpoints.create({ url: `${receiver.base}${path}`, mailbox: null, ...settings })
}

function job(messageId: string, endpointId: string, mailbox: string): WebhookJob {
  return { v: 1, messageId, endpointId, mailboxes: [mailbox], rcptTo: [mailbox] }
}

function verifyV1(secret: string, request: { headers: Record<string, unknown>; body: Buffer }) {
  return new Webhook(secret).verify(request.body.toString('utf8'), {
    'webhook-id': String(request.headers['webhook-id']),
    'webhook-timestamp': String(request.headers['webhook-timestamp']),
    'webhook-signature': String(request.headers['webhook-signature']),
  }) as WebhookPayload
}

test('POSTs the message as JSON, signed so that standardwebhooks verifies it; a twice-delivered job posts once', async () => {
  const hook = await endpoint('/ok')
  const message = await stored('bob+orders@example.com')
  const { run } = deliverer()
  const before = receiver.to('/ok').length

  // SQS hands the same job over twice, at once and then again.
  await run(
    job(message.id, hook.id, 'bob+orders@example.com'),
    job(message.id, hook.id, 'bob+orders@example.com'),
  )
  await run(job(message.id, hook.id, 'bob+orders@example.com'))

  const requests = receiver.to('/ok').slice(before)
  assert.ok(requests.length >= 1 && requests.length <= 2, `${requests.length} requests`)
  assert.equal(new Set(requests.map((r) => r.headers['webhook-id'])).size, 1)
  const [request] = requests
  assert.ok(request)
  assert.equal(request.headers['content-type'], 'application/json')
  assert.equal(request.headers['webhook-id'], `msg_${message.id}_${hook.id}`)
  const payload = verifyV1(hook.secret, request)
  assert.equal(payload.type, 'message.received')
  assert.equal(payload.data.id, message.id)
  assert.equal(payload.data.subject, 'Grüße from the fixture')
  assert.equal(payload.data.mailboxHash, 'orders')
  const record = await stores.deliveries.get(message.id, hook.id)
  assert.deepEqual([record?.status, record?.attempts], ['delivered', 1])
  // Each request made is logged, all as the one event.
  const log = await stores.attempts.page(hook.id, { limit: 10 })
  assert.equal(log.items.length, requests.length)
  assert.ok(log.items.every((item) => item.httpStatus === 204 && item.messageId === message.id))
})

/** The job ingest sends: the only one for its notification, the parsed message inside. */
async function soleJob(messageId: string, endpointId: string, mailbox: string) {
  const message = await stores.messages.getParsed(messageId)
  assert.ok(message)
  return { ...job(messageId, endpointId, mailbox), sole: true as const, message }
}

test("ingest's sole job is POSTed at its first receive with the message it carries, the record unread", async () => {
  const hook = await endpoint('/sole')
  const message = await stored('sole@example.com')
  const { receive } = deliverer()
  const sole = await soleJob(message.id, hook.id, 'sole@example.com')
  // What is POSTed is the job's copy of the message: nothing is read before the POST.
  const carried = { ...sole, message: { ...sole.message, subject: 'the copy in the job' } }

  await receive(1, carried)
  await receive(2, carried)
  // The price of not reading: a second copy of a sole job (an SQS duplicate, an SDK
  // retry of a send that had gone through) is POSTed again, under the same webhook-id.
  await receive(1, carried)

  const requests = receiver.to('/sole')
  assert.equal(requests.length, 2, 'the second receive is dropped, the second copy is not')
  assert.equal(new Set(requests.map((r) => r.headers['webhook-id'])).size, 1)
  const payload = verifyV1(hook.secret, requests[0] as (typeof requests)[number])
  assert.equal(payload.data.subject, 'the copy in the job')
  const record = await stores.deliveries.get(message.id, hook.id)
  assert.deepEqual([record?.status, record?.attempts], ['delivered', 1])
})

test('a second copy of a sole job whose POST fails finds the notification settled and schedules nothing', async () => {
  const hook = await endpoint('/ok')
  const message = await stored('copy-fails@example.com')
  const { receive, queued } = deliverer()
  const sole = await soleJob(message.id, hook.id, 'copy-fails@example.com')
  await receive(1, sole)
  await stores.endpoints.update(hook.id, { url: `${receiver.base}/fail` })

  await receive(1, sole)

  assert.equal(receiver.to('/fail').length, 1, 'the copy was POSTed')
  assert.equal(queued.length, 0, 'no retry scheduled')
  const after = await stores.endpoints.get(hook.id)
  assert.equal(after?.failingSince, null, 'the endpoint is not marked failing')
  const record = await stores.deliveries.get(message.id, hook.id)
  assert.deepEqual([record?.status, record?.attempts], ['delivered', 1])
  const log = await stores.attempts.page(hook.id, { limit: 10 })
  assert.deepEqual(log.items.map((item) => item.httpStatus).sort(), [204, 500])
})

test('a message deleted before its webhook: the raw format drops the job, and so does any later receive', async () => {
  const raw = await endpoint('/raw-deleted', { format: 'raw' })
  const json = await endpoint('/json-deleted')
  const message = await stored('deleted-later@example.com')
  const { receive, queued } = deliverer()
  const [rawJob, jsonJob] = await Promise.all([
    soleJob(message.id, raw.id, 'deleted-later@example.com'),
    soleJob(message.id, json.id, 'deleted-later@example.com'),
  ])
  await stores.mailboxes.remove('deleted-later@example.com', message.id)
  await stores.messages.release(message.id, 'deleted-later@example.com')

  await receive(1, rawJob)
  await receive(2, jsonJob)

  assert.equal(receiver.to('/raw-deleted').length, 0)
  assert.equal(receiver.to('/json-deleted').length, 0, 'a second receive reads the message')
  assert.equal(queued.length, 0)
})

test('a job that is not sole, or not on its first receive, reads the record and is dropped once delivered', async () => {
  const hook = await endpoint('/settled')
  const message = await stored('settled@example.com')
  const { run, receive } = deliverer()
  const sole = await soleJob(message.id, hook.id, 'settled@example.com')
  await run(sole)
  const sent = receiver.to('/settled').length

  // The same notification again: a copy ingest sent after a stale claim (not sole), a
  // replay's or a retry's (attempts, trigger), and SQS's second receive of the first.
  await run({ ...sole, sole: undefined })
  await run({ ...sole, trigger: 'replay' })
  await run({ ...sole, attempts: 1 })
  await receive(2, sole)

  assert.equal(receiver.to('/settled').length, sent)
  const record = await stores.deliveries.get(message.id, hook.id)
  assert.deepEqual([record?.status, record?.attempts], ['delivered', 1])
})

test("SQS's rare duplicate of a sole job, both first receives: one webhook-id, one attempt recorded", async () => {
  const hook = await endpoint('/duplicate')
  const message = await stored('duplicate@example.com')
  const { receive } = deliverer()
  const sole = await soleJob(message.id, hook.id, 'duplicate@example.com')

  await receive(1, sole, sole)

  const requests = receiver.to('/duplicate')
  assert.ok(requests.length >= 1 && requests.length <= 2, `${requests.length} requests`)
  assert.equal(new Set(requests.map((r) => r.headers['webhook-id'])).size, 1)
  const record = await stores.deliveries.get(message.id, hook.id)
  assert.deepEqual([record?.status, record?.attempts], ['delivered', 1])
})

test('a job put back loses what only its first receive may use: sole, and the message inside', async () => {
  const hook = await endpoint('/later')
  const message = await stored('later@example.com')
  const { run, queued, clock } = deliverer()
  const sole = await soleJob(message.id, hook.id, 'later@example.com')

  await run({ ...sole, dueAt: clock.now + 3_600_000 })

  assert.equal(receiver.to('/later').length, 0, 'not due yet')
  assert.equal(queued.length, 1)
  const back = queued[0]?.job
  assert.equal(back?.dueAt, clock.now + 3_600_000)
  assert.deepEqual([back?.sole, back?.message], [undefined, undefined])
  assert.equal(queued[0]?.message, undefined, 'nor is the message given to the queue to carry')
})

test('a failing receiver is retried on the Standard Webhooks schedule for days, then the event is failed', async () => {
  const hook = await endpoint('/fail')
  const message = await stored('retry@example.com')
  const { clock, queued, run } = deliverer()
  const start = clock.now
  await run(job(message.id, hook.id, 'retry@example.com'))
  const waits: number[] = []
  let hops = 0
  while (queued.length > 0) {
    const next = queued.shift() as { job: WebhookJob; delay: number }
    assert.ok(next.delay <= 900, 'an SQS delay is 15 minutes at most')
    // The queue hands the job back after its delay; a long wait takes several hops.
    clock.now += next.delay * 1000
    if ((next.job.dueAt ?? 0) > clock.now + 1000) hops++
    else waits.push(clock.now - start)
    await run(next.job)
  }
  const record = await stores.deliveries.get(message.id, hook.id)
  assert.deepEqual(
    [record?.status, record?.attempts, record?.lastResult],
    ['failed', MAX_ATTEMPTS, 'HTTP 500'],
  )
  assert.equal(
    receiver.to('/fail').filter((r) => r.headers['webhook-id'] === `msg_${message.id}_${hook.id}`)
      .length,
    MAX_ATTEMPTS,
  )
  assert.ok(hops > 100, `${hops} hops`)
  const span = (clock.now - start) / DAY
  assert.ok(span > 3 && span < 3.5, `retried over ${span} days`)
  const log = await stores.attempts.page(hook.id, { limit: 50, status: 'failed' })
  assert.equal(log.items.length, MAX_ATTEMPTS)
  assert.deepEqual(await stores.attempts.failedSince(hook.id, new Date(start - DAY)), [message.id])
})

test('410 Gone disables the endpoint; later jobs fail unsent, to be replayed', async () => {
  const hook = await endpoint('/gone')
  const first = await stored('gone@example.com')
  const second = await stored('gone@example.com')
  const { run, queued } = deliverer()
  await run(job(first.id, hook.id, 'gone@example.com'))
  const after = await stores.endpoints.get(hook.id)
  assert.equal(after?.enabled, false)
  assert.match(after?.disabledReason ?? '', /410/)
  assert.equal((await stores.deliveries.get(first.id, hook.id))?.status, 'failed')
  const sent = receiver.to('/gone').length
  await run(job(second.id, hook.id, 'gone@example.com'))
  assert.equal(receiver.to('/gone').length, sent)
  assert.match((await stores.deliveries.get(second.id, hook.id))?.lastResult ?? '', /disabled/)
  assert.equal(queued.length, 0)
})

test('429 with Retry-After pauses the endpoint; its other jobs wait without an attempt', async () => {
  const hook = await endpoint('/busy')
  const [a, b] = [await stored('busy@example.com'), await stored('busy@example.com')]
  const { run, queued, clock } = deliverer()
  await run(job(a.id, hook.id, 'busy@example.com'))
  assert.equal(queued.length, 1)
  assert.equal(queued[0]?.job.dueAt, clock.now + 120_000)
  assert.equal((await stores.endpoints.get(hook.id))?.pausedUntil, clock.now + 120_000)
  const sent = receiver.to('/busy').length
  await run(job(b.id, hook.id, 'busy@example.com'))
  assert.equal(receiver.to('/busy').length, sent, 'held back, not sent')
  assert.equal(queued[1]?.job.dueAt, clock.now + 120_000)
  assert.equal((await stores.deliveries.get(b.id, hook.id))?.attempts ?? 0, 0)
})

test('a timeout, a reset connection and a refused port are failures with a clear reason', async () => {
  const hang = await endpoint('/hang', { timeoutSeconds: 1 })
  const reset = await endpoint('/reset')
  const refused = await stores.endpoints.create({ url: 'http://127.0.0.1:1/', mailbox: null })
  const message = await stored('faults@example.com')
  const { run, queued } = deliverer()
  await run(
    job(message.id, hang.id, 'faults@example.com'),
    job(message.id, reset.id, 'faults@example.com'),
    job(message.id, refused.id, 'faults@example.com'),
  )
  assert.equal(queued.length, 3)
  const result = async (id: string) => (await stores.deliveries.get(message.id, id))?.lastResult
  assert.equal(await result(hang.id), 'timed out')
  assert.match((await result(reset.id)) ?? '', /reset|socket|closed/i)
  assert.match((await result(refused.id)) ?? '', /ECONNREFUSED/)
})

test('an endpoint failing for five days is disabled', async () => {
  const hook = await endpoint('/fail')
  const [a, b] = [await stored('days@example.com'), await stored('days@example.com')]
  const { run, clock } = deliverer()
  await run(job(a.id, hook.id, 'days@example.com'))
  assert.ok((await stores.endpoints.get(hook.id))?.failingSince)
  clock.now += DISABLE_AFTER_FAILING_MS + 1000
  await run(job(b.id, hook.id, 'days@example.com'))
  const after = await stores.endpoints.get(hook.id)
  assert.equal(after?.enabled, false)
  assert.match(after?.disabledReason ?? '', /failed since/)
  assert.equal((await stores.deliveries.get(b.id, hook.id))?.status, 'failed')
})

test('host names resolving to loopback or metadata are refused when loopback is not allowed', async () => {
  const resolve = async (host: string) =>
    host === 'meta.test'
      ? [{ address: '169.254.169.254', family: 4 }]
      : [{ address: '127.0.0.1', family: 4 }]
  emulator.root.config.webhooks = { allowHttp: true, allowLoopback: false, allowPrivate: false }
  try {
    const { run } = deliverer({ resolve })
    const loop = await stores.endpoints.create({
      url: `http://loop.test:${receiver.port}/ok`,
      mailbox: null,
    })
    const meta = await stores.endpoints.create({
      url: `http://meta.test:${receiver.port}/ok`,
      mailbox: null,
    })
    const message = await stored('ssrf@example.com')
    const sent = receiver.received.length
    await run(
      job(message.id, loop.id, 'ssrf@example.com'),
      job(message.id, meta.id, 'ssrf@example.com'),
    )
    assert.equal(receiver.received.length, sent, 'nothing reached the receiver')
    const [loopLog] = (await stores.attempts.page(loop.id, { limit: 1 })).items
    assert.match(
      loopLog?.error ?? '',
      /refused: loop\.test resolves to 127\.0\.0\.1, a loopback address/,
    )
    const [metaLog] = (await stores.attempts.page(meta.id, { limit: 1 })).items
    assert.match(metaLog?.error ?? '', /169\.254\.169\.254, a link-local address/)
  } finally {
    emulator.root.config.webhooks = { allowHttp: true, allowLoopback: true, allowPrivate: false }
  }
})

test('v1a endpoints sign with ed25519; a rotated secret signs beside the new one', async () => {
  const hook = await endpoint('/ok')
  await stores.endpoints.rotate(hook.id, 3600_000)
  const rotated = await stores.endpoints.get(hook.id)
  assert.ok(rotated && rotated.secret !== hook.secret)
  const message = await stored('rotate@example.com')
  const { run } = deliverer()
  await run(job(message.id, hook.id, 'rotate@example.com'))
  const request = receiver.to('/ok').at(-1)
  assert.ok(request)
  assert.equal(String(request.headers['webhook-signature']).split(' ').length, 2)
  assert.equal(verifyV1(hook.secret, request).data.id, message.id)
  assert.equal(verifyV1(rotated.secret, request).data.id, message.id)

  const signed = await endpoint('/ok', { signing: 'v1a' })
  assert.match(signed.publicKey ?? '', /^whpk_/)
  const other = await stored('rotate@example.com')
  await run(job(other.id, signed.id, 'rotate@example.com'))
  assert.match(String(receiver.to('/ok').at(-1)?.headers['webhook-signature']), /^v1a,/)
})

test('a job whose endpoint or message was deleted is dropped, not retried forever', async () => {
  const message = await stored('deleted@example.com')
  const hook = await endpoint('/ok')
  await stores.mailboxes.remove('deleted@example.com', message.id)
  await stores.messages.release(message.id, 'deleted@example.com')
  const { run, queued } = deliverer()
  const sent = receiver.received.length
  await run(
    job(message.id, 'wh_00000000000000000000', 'deleted@example.com'),
    job(message.id, hook.id, 'deleted@example.com'),
  )
  assert.equal(receiver.received.length, sent)
  assert.equal(queued.length, 0)
})

test('a job put back on the queue for a recipient SQS cannot carry as text goes through, escaped', async () => {
  // smtp-server accepts U+FFFE and emoji in an address; SQS refuses both in a message body.
  const rcpt = 'odd\ufffe\u{1f600}@example.com'
  const retry: WebhookJob = {
    ...job('01JQ7Z8X9Y0A1B2C3D4E5F6G7H', 'wh_00000000000000000000', rcpt),
    attempts: 1,
    dueAt: Date.now(),
  }
  await drainQueue(emulator.sqs, emulator.webhookQueueUrl, (m) => m.Body)

  await sqsWebhookQueue(emulator.sqs, emulator.webhookQueueUrl).send(retry)

  const received = await drainQueue(emulator.sqs, emulator.webhookQueueUrl, (m) =>
    parseWebhookJob(m.Body ?? ''),
  )
  assert.deepEqual(received, [retry])
})
