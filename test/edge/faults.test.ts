/**
 * Fault injection: the edge between real LMTP clients and an SQS/S3 that is down, slow,
 * answers 500, or refuses one entry of a batch. Whatever fails, the client gets 451 4.3.0
 * for that message and every message answered 250 is in the queue.
 */
import assert from 'node:assert/strict'
import { after, afterEach, before, type TestContext, test } from 'node:test'
import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3'
import { ingest } from '../../functions/ingest/ingest.ts'
import { startTestEdge, type TestEdge, type TestEdgeOptions } from '../helpers/edge.ts'
import { type Emulator, ingestDeps, startEmulator } from '../helpers/emulator.ts'
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts'
import { freePort } from '../helpers/postfix.ts'
import { drainQueue } from '../helpers/queue.ts'
import { RawLmtp } from '../helpers/raw-lmtp.ts'

// Short SDK timeouts so that "slow" fails within a test's patience (ms).
const TIMEOUTS = { connectionTimeout: 1000, requestTimeout: 1000 }
// Bigger than a queue message: goes to S3 first.
const BIG_BODY = `${'b'.repeat(998)}\r\n`.repeat(400)

let emulator: Emulator
let proxy: FaultProxy

before(async () => {
  emulator = await startEmulator({ MAILBRIDGE_DOMAINS: 'example.com' })
  proxy = await startFaultProxy(emulator.endpoint)
})

afterEach(() => {
  proxy.fault = undefined
})

after(async () => {
  await proxy.close()
  await emulator.stop()
})

/** An edge whose S3 and SQS requests go through the proxy, closed when the test ends. */
async function edgeViaProxy(t: TestContext, options: TestEdgeOptions = {}): Promise<TestEdge> {
  const via = { endpoint: proxy.endpoint, timeouts: TIMEOUTS }
  const edge = await startTestEdge(emulator, { s3: via, sqs: via, ...options })
  t.after(() => edge.close())
  return edge
}

/** One transaction; the replies after DATA, one per recipient. `head` goes before Subject. */
async function send(
  edge: TestEdge,
  subject: string,
  rcpt: string[],
  body = 'hello\r\n',
  head = '',
) {
  const client = await RawLmtp.greeted(edge.lmtp, 'faults.test')
  const { data } = await client.transaction(
    'f@example.net',
    rcpt,
    `${head}Subject: ${subject}\r\n\r\n${body}`,
  )
  client.close()
  return data.map((reply) => `${reply.code} ${reply.message.slice(0, 5)}`)
}

async function queuedSubjects(): Promise<string[]> {
  const messages = await drainQueue(emulator.sqs, emulator.ingestQueueUrl)
  return messages.map((message) => {
    if (!('base64' in message.raw)) return `(staged) ${message.raw.s3.key}`
    return /Subject: (\S+)/.exec(Buffer.from(message.raw.base64, 'base64').toString())?.[1] ?? '?'
  })
}

test('one refused entry of a batch: 451 for that message only, the rest 250 and queued', async (t) => {
  // Each batch request is held 300 ms, so that concurrent sessions' messages gather into
  // batches behind the first few; the entry of "poison" is refused by "SQS".
  proxy.fault = {
    target: 'SendMessageBatch',
    delayMs: 300,
    refuseEntry: (body) => Buffer.from(JSON.parse(body).raw.base64, 'base64').includes('poison'),
  }
  proxy.batches.length = 0
  const edge = await edgeViaProxy(t)
  const subjects = ['m1', 'm2', 'm3', 'm4', 'm5', 'poison', 'm6', 'm7', 'm8']
  const replies = await Promise.all(
    subjects.map((subject) => send(edge, subject, ['a@example.com', 'b@example.com'])),
  )
  const bySubject = Object.fromEntries(subjects.map((subject, i) => [subject, replies[i]]))
  assert.deepEqual(bySubject.poison, ['451 4.3.0', '451 4.3.0'])
  for (const subject of subjects.filter((s) => s !== 'poison')) {
    assert.deepEqual(bySubject[subject], ['250 2.0.0', '250 2.0.0'], subject)
  }
  assert.deepEqual((await queuedSubjects()).sort(), subjects.filter((s) => s !== 'poison').sort())
  assert.ok(Math.max(...proxy.batches) > 1, `messages were batched: ${proxy.batches}`)
  assert.ok(
    proxy.batches.length < subjects.length,
    `fewer requests than messages: ${proxy.batches}`,
  )
})

test('SQS answers 500: 451 4.3.0, nothing queued', async (t) => {
  proxy.fault = { target: 'SendMessageBatch', status500: true }
  const edge = await edgeViaProxy(t)
  assert.deepEqual(await send(edge, 's500', ['a@example.com']), ['451 4.3.0'])
  assert.deepEqual(await queuedSubjects(), [])
})

test('SQS too slow: 451 4.3.0 after the send timeout, nothing queued', async (t) => {
  proxy.fault = { target: 'SendMessageBatch', delayMs: 2500 }
  const edge = await edgeViaProxy(t, { sendTimeoutMs: 1000 })
  assert.deepEqual(await send(edge, 'slow', ['a@example.com']), ['451 4.3.0'])
  // Past the delay, the proxy would have forwarded a request the edge still waited for.
  await new Promise((resolve) => setTimeout(resolve, 2000))
  assert.deepEqual(await queuedSubjects(), [])
})

test("SQS stored it but the answer came too late: 451, and the client's retry is stored once", async (t) => {
  proxy.fault = { target: 'SendMessageBatch', answerDelayMs: 2500 }
  const edge = await edgeViaProxy(t, { sendTimeoutMs: 1000 })
  // As an MTA sends it: its own Received line, with its queue id, first.
  const received = 'Received: by mx.example.net (Postfix) id 4XyZ1\r\n'
  const late = () => send(edge, 'late', ['late@example.com'], 'hello\r\n', received)
  assert.deepEqual(await late(), ['451 4.3.0'])
  proxy.fault = undefined
  // What Postfix does after a 451: the same bytes again, later.
  assert.deepEqual(await late(), ['250 2.0.0'])

  // Both tries are queued, under two ids: the first one was stored before its answer was lost.
  const queued = await drainQueue(emulator.sqs, emulator.ingestQueueUrl)
  assert.equal(queued.length, 2)
  const deps = ingestDeps(emulator, 'faults-ingest')
  for (const message of queued) await ingest(JSON.stringify(message), deps)
  const stored = (await deps.stores.mailboxes.page('late@example.com', 10)).items
  assert.deepEqual(
    stored.map((message) => [message.id, message.subject]),
    [[queued[0]?.id, 'late']],
  )
})

test('staged messages are signed with the SHA-256 of the bytes sent, in one PUT or in parts', async (t) => {
  const edge = await edgeViaProxy(t)
  proxy.s3Bodies.length = 0
  // One PutObject for a message under the 5 MiB part size, then a multipart upload.
  assert.deepEqual(await send(edge, 'onepart', ['a@example.com'], BIG_BODY), ['250 2.0.0'])
  const huge = BIG_BODY.repeat(15)
  assert.deepEqual(await send(edge, 'parts', ['a@example.com'], huge), ['250 2.0.0'])

  const puts = proxy.s3Bodies.filter((request) => request.method === 'PUT')
  assert.ok(puts.length >= 3, `one PUT, then at least two parts: ${puts.length}`)
  for (const put of puts) assert.equal(put.signedSha256, put.bodySha256, put.path)
  const queued = await queuedSubjects()
  assert.equal(queued.length, 2)
  for (const subject of queued) {
    assert.match(subject, /^\(staged\) incoming\//)
    // Leave incoming/ empty for the tests after this one.
    const key = subject.replace('(staged) ', '')
    await emulator.s3.send(new DeleteObjectCommand({ Bucket: emulator.bucket, Key: key }))
  }
})

test('S3 down: a message that needs staging gets 451 4.3.0, nothing queued', async (t) => {
  // S3 on a port nothing listens on; SQS straight to the emulator.
  const edge = await startTestEdge(emulator, {
    s3: { endpoint: `http://127.0.0.1:${await freePort()}`, timeouts: TIMEOUTS },
  })
  t.after(() => edge.close())
  assert.deepEqual(await send(edge, 'bigdown', ['a@example.com'], BIG_BODY), ['451 4.3.0'])
  // A small message needs no S3 and still goes through.
  assert.deepEqual(await send(edge, 'small', ['a@example.com']), ['250 2.0.0'])
  assert.deepEqual(await queuedSubjects(), ['small'])
})

test('S3 slow: staging times out, 451 4.3.0, no staged object left behind', async (t) => {
  proxy.fault = { target: 'S3', delayMs: 2500 }
  const edge = await edgeViaProxy(t)
  assert.deepEqual(await send(edge, 'bigslow', ['a@example.com'], BIG_BODY), ['451 4.3.0'])
  proxy.fault = undefined
  assert.deepEqual(await queuedSubjects(), [])
  // The delete of the orphan is best effort; give it a moment, then look.
  await new Promise((resolve) => setTimeout(resolve, 3000))
  const listing = await emulator.s3.send(
    new ListObjectsV2Command({ Bucket: emulator.bucket, Prefix: 'incoming/' }),
  )
  assert.deepEqual(listing.Contents ?? [], [])
})

test('the idle timer does not fire while a hand-off is pending', async (t) => {
  // The session may sit idle 300 ms; the hand-off takes 800 ms (within the SDK's 1 s).
  // smtp-server must not answer "421 Timeout" meanwhile: Postfix would retry a message
  // that was queued.
  proxy.fault = { target: 'SendMessageBatch', delayMs: 800 }
  const edge = await edgeViaProxy(t, { socketTimeoutMs: 300 })
  assert.deepEqual(await send(edge, 'patient', ['a@example.com']), ['250 2.0.0'])
  assert.deepEqual(await queuedSubjects(), ['patient'])
})
