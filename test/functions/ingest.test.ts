import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb'
import { createIngestHandler } from '../../functions/ingest/ingest.ts'
import { RETRY_WINDOW_MS } from '../../functions/ingest/retries.ts'
import type { Stores } from '../../shared/compose.ts'
import type { QueuedMessage } from '../../shared/contracts/queue.ts'
import { parseWebhookJob } from '../../shared/contracts/webhook-job.ts'
import { newMessageId } from '../../shared/message-id.ts'
import { incomingRawKey, keys, rawKey } from '../../shared/store/keys.ts'
import { signWithNewKey } from '../helpers/dkim.ts'
import {
  countIn,
  type Emulator,
  idsIn as idsOf,
  ingestDeps,
  readMessage,
  startEmulator,
} from '../helpers/emulator.ts'
import { queuedMessage, sqsEvent, sqsRecord } from '../helpers/factories.ts'
import { drainQueue } from '../helpers/queue.ts'

const fixture = readFileSync(new URL('../fixtures/simple.eml', import.meta.url))
let emulator: Emulator
let messages: Stores['messages']
let webhooks: Stores['endpoints']
let handler: ReturnType<typeof createIngestHandler>

before(async () => {
  emulator = await startEmulator({
    MAILBRIDGE_LOCAL_INGEST_RETRY_SECONDS: '1',
    MAILBRIDGE_LOCAL_WEBHOOK_RETRY_SECONDS: '1',
  })
  const deps = ingestDeps(emulator, 'test-ingest')
  messages = deps.stores.messages
  webhooks = deps.stores.endpoints
  handler = createIngestHandler(deps)
})
after(() => emulator.stop())

function drainWebhookQueue() {
  return drainQueue(emulator.sqs, emulator.webhookQueueUrl, (m) => parseWebhookJob(m.Body ?? ''))
}

/** An endpoint listening to `mailbox`, on an empty webhook queue. */
async function listenTo(mailbox: string) {
  const endpoint = await webhooks.create({ url: 'http://127.0.0.1:9/', mailbox })
  await drainWebhookQueue()
  return endpoint
}

test('stores the raw message and the parsed one once, with an entry in each recipient mailbox', async () => {
  // Prepare
  const queued = queuedMessage(fixture, ['Bob@example.com', 'carol@example.com'])
  // Act
  const result = await handler(sqsEvent(sqsRecord(JSON.stringify(queued))))
  // Assess
  assert.deepEqual(result.batchItemFailures, [])
  for (const [mailbox, rcpt] of [
    ['bob@example.com', 'Bob@example.com'],
    ['carol@example.com', 'carol@example.com'],
  ] as const) {
    const message = await readMessage(emulator, mailbox, queued.id)
    assert.equal(message?.subject, 'Grüße from the fixture')
    assert.equal(message?.mailbox, mailbox)
    assert.deepEqual(message?.envelope.rcptTo, [rcpt], 'no mailbox sees the other recipients')
    assert.deepEqual(await idsOf(emulator, mailbox), [queued.id])
  }
  const raw = await messages.getRaw(queued.id)
  assert.ok(raw && Buffer.from(raw).equals(fixture), 'the raw bytes, once')
})

test('a redelivered record creates no duplicate message and no duplicate webhook job', async () => {
  const endpoint = await listenTo('dup@example.com')
  const queued = queuedMessage(fixture, ['dup@example.com'])
  const body = JSON.stringify(queued)

  const first = await handler(sqsEvent(sqsRecord(body)))
  const second = await handler(sqsEvent(sqsRecord(body, 2)))

  assert.deepEqual([first.batchItemFailures, second.batchItemFailures], [[], []])
  assert.equal(await countIn(emulator, 'dup@example.com'), 1)
  const jobs = await drainWebhookQueue()
  assert.deepEqual(
    jobs.map((job) => [job.messageId, job.endpointId, job.mailboxes]),
    [[queued.id, endpoint.id, ['dup@example.com']]],
  )
  await webhooks.delete(endpoint.id)
})

test('each webhook job is sole, and carries the parsed message as stored while the two fit in 64 KiB', async () => {
  const endpoint = await listenTo('inline@example.com')
  const small = queuedMessage(fixture, ['inline@example.com'])
  const bigText = `Subject: big\r\n\r\n${'a long line of text\r\n'.repeat(4000)}`
  const big = queuedMessage(bigText, ['inline@example.com'])

  const result = await handler(
    sqsEvent(sqsRecord(JSON.stringify(small)), sqsRecord(JSON.stringify(big))),
  )

  assert.deepEqual(result.batchItemFailures, [])
  const jobs = new Map((await drainWebhookQueue()).map((job) => [job.messageId, job]))
  assert.equal(jobs.get(small.id)?.sole, true)
  assert.deepEqual(jobs.get(small.id)?.message, await messages.getParsed(small.id))
  assert.equal(jobs.get(big.id)?.sole, true)
  assert.equal(jobs.get(big.id)?.message, undefined, 'too big to carry: deliver reads it from S3')
  assert.ok((await messages.getParsed(big.id))?.text?.includes('a long line'))
  await webhooks.delete(endpoint.id)
})

test('a claim left unsent by an invocation that died is taken over, and its job is not sole', async () => {
  const endpoint = await listenTo('died@example.com')
  const queued = queuedMessage(fixture, ['died@example.com'])
  // What an invocation leaves when it died after its claim, before its send: a claim 20 s old.
  const claim = {
    ...keys.delivery(queued.id, endpoint.id),
    messageId: queued.id,
    endpointId: endpoint.id,
    status: 'claimed',
    attempts: 0,
    updatedAt: new Date(Date.now() - 20_000).toISOString(),
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
  }
  const doc = DynamoDBDocumentClient.from(emulator.root.clients.dynamodb)
  await doc.send(new PutCommand({ TableName: emulator.config.table, Item: claim }))

  const result = await handler(sqsEvent(sqsRecord(JSON.stringify(queued), 2)))

  assert.deepEqual(result.batchItemFailures, [])
  const jobs = await drainWebhookQueue()
  assert.deepEqual(
    jobs.map((job) => [job.messageId, job.endpointId, job.sole]),
    [[queued.id, endpoint.id, undefined]],
    'sent once more, and deliver reads the record before its POST',
  )
  await webhooks.delete(endpoint.id)
})

test('a raw message staged in S3 by the edge is read from there', async () => {
  const id = newMessageId()
  const key = incomingRawKey(id)
  await emulator.s3.send(new PutObjectCommand({ Bucket: emulator.bucket, Key: key, Body: fixture }))
  const queued = queuedMessage(fixture, ['staged@example.com'], {
    id,
    raw: { s3: { bucket: emulator.bucket, key } },
  })
  const result = await handler(sqsEvent(sqsRecord(JSON.stringify(queued))))
  assert.deepEqual(result.batchItemFailures, [])
  assert.deepEqual(await idsOf(emulator, 'staged@example.com'), [queued.id])
  const raw = await messages.getRaw(queued.id)
  assert.ok(raw && Buffer.from(raw).equals(fixture))
})

test('failed records are reported one by one; the good ones in the batch are stored', async () => {
  const good = queuedMessage(fixture, ['batch@example.com'])
  const missingStaged = queuedMessage(fixture, ['batch@example.com'], {
    raw: { s3: { bucket: emulator.bucket, key: incomingRawKey(newMessageId()) } },
  })
  const records = [
    sqsRecord('{not json'),
    sqsRecord(JSON.stringify(good)),
    sqsRecord(JSON.stringify({ ...good, v: 7 })),
    sqsRecord(JSON.stringify(missingStaged)),
  ]
  const result = await handler(sqsEvent(...records))
  assert.deepEqual(
    result.batchItemFailures.map((f) => f.itemIdentifier).sort(),
    [records[0], records[2], records[3]].map((r) => r?.messageId).sort(),
  )
  assert.deepEqual(await idsOf(emulator, 'batch@example.com'), [good.id])
  assert.equal(await countIn(emulator, 'batch@example.com'), 1)
})

test('a record naming anything but a staged message is refused, and nothing is stored', async () => {
  // A forged queue message pointing at another message's bytes: ingest must not read them
  // and store them as mail of another mailbox.
  const victim = queuedMessage(fixture, ['victim@example.com'])
  await handler(sqsEvent(sqsRecord(JSON.stringify(victim))))
  const keys = [rawKey(victim.id), `incoming/../${rawKey(victim.id)}`]
  for (const key of keys) {
    const objects = emulator.root.stores.objects
    assert.notEqual(await objects.getBytes(key.replace('incoming/../', '')), undefined)
    const forged = queuedMessage(fixture, ['thief@example.com'], {
      raw: { s3: { bucket: emulator.bucket, key } },
    })
    const result = await handler(sqsEvent(sqsRecord(JSON.stringify(forged))))
    assert.equal(result.batchItemFailures.length, 1, key)
  }
  assert.equal(await countIn(emulator, 'thief@example.com'), 0)
  assert.deepEqual(await idsOf(emulator, 'thief@example.com'), [])
})

test('a batch where every record fails is still answered, not thrown', async () => {
  const result = await handler(sqsEvent(sqsRecord('x'), sqsRecord('y')))
  assert.equal(result.batchItemFailures.length, 2)
})

// What Postfix puts first in what it sends: its Received line with its queue id.
const relayed = Buffer.concat([
  Buffer.from('Received: from mx.example.net by mail.example.com (Postfix) id 4XyZ1\r\n'),
  fixture,
])

/** A queued message as the edge sends it: its own trace headers before the client's bytes. */
function fromEdge(rcptTo: string[], overrides: Partial<QueuedMessage> = {}, sent = relayed) {
  const id = newMessageId()
  const trace = Buffer.from(`Return-Path: <sender@example.net>\r\nReceived: with LMTP id ${id}\r\n`)
  return queuedMessage(Buffer.concat([trace, sent]), rcptTo, {
    id,
    traceBytes: trace.length,
    ...overrides,
  })
}

async function ingestAll(...queued: QueuedMessage[]) {
  for (const message of queued) {
    const result = await handler(sqsEvent(sqsRecord(JSON.stringify(message))))
    assert.deepEqual(result.batchItemFailures, [])
  }
}

async function idsIn(mailbox: string) {
  return (await idsOf(emulator, mailbox)).sort()
}

test("a client's retry of a queued message is stored once and notified once", async () => {
  const endpoint = await listenTo('retry@example.com')
  const first = fromEdge(['retry@example.com'])
  const retry = fromEdge(['retry@example.com'])
  assert.notEqual(first.id, retry.id)

  await ingestAll(first, retry)

  assert.deepEqual(await idsIn('retry@example.com'), [first.id])
  const jobs = await drainWebhookQueue()
  assert.deepEqual(
    jobs.map((job) => job.messageId),
    [first.id],
  )
  await webhooks.delete(endpoint.id)
})

test('the first try ingested after its retry is not stored again either', async () => {
  const first = fromEdge(['late@example.com'])
  const retry = fromEdge(['late@example.com'], {
    receivedAt: new Date(Date.parse(first.receivedAt) + 300_000).toISOString(),
  })
  await ingestAll(retry, first)
  assert.deepEqual(await idsIn('late@example.com'), [retry.id])
})

test('a retry that reaches one more mailbox is stored only in that one', async () => {
  const first = fromEdge(['a@example.com'])
  const retry = fromEdge(['A@example.com', 'b@example.com'])
  await ingestAll(first, retry)
  assert.deepEqual(await idsIn('a@example.com'), [first.id])
  assert.deepEqual(await idsIn('b@example.com'), [retry.id])
})

test('other bytes, another sender, no trace length or days apart: not a retry', async () => {
  const base = fromEdge(['notretry@example.com'])
  const others = [
    fromEdge(['notretry@example.com'], {}, Buffer.concat([relayed, Buffer.from('\r\n')])),
    fromEdge(['notretry@example.com'], {
      envelope: { mailFrom: 'other@example.net', rcptTo: ['notretry@example.com'] },
    }),
    fromEdge(['notretry@example.com'], { traceBytes: undefined }),
    fromEdge(['notretry@example.com'], {
      receivedAt: new Date(Date.parse(base.receivedAt) + RETRY_WINDOW_MS + 1).toISOString(),
    }),
  ]
  await ingestAll(base, ...others)
  assert.deepEqual(await idsIn('notretry@example.com'), [base, ...others].map((m) => m.id).sort())
})

test('the same bytes without a Received line first are two messages (a script, not an MTA)', async () => {
  const first = fromEdge(['script@example.com'], {}, fixture)
  const second = fromEdge(['script@example.com'], {}, fixture)
  await ingestAll(first, second)
  assert.deepEqual(await idsIn('script@example.com'), [first.id, second.id].sort())
})

test('ingest verifies DKIM signatures itself, its key lookups through the injected resolver', async () => {
  // Prepare: a message signed with a key made here, whose record the resolver serves.
  const body = 'From: ann@example.org\r\nTo: dkim@example.com\r\nSubject: signed\r\n\r\nHello.\r\n'
  const { raw, record } = await signWithNewKey(body, 'ed25519', 'example.org', 's1')
  const lookups: string[] = []
  const resolver = async (name: string) => {
    lookups.push(name)
    return [[record]]
  }
  const queued = queuedMessage(raw, ['dkim@example.com'])
  // Act
  const signedHandler = createIngestHandler(ingestDeps(emulator, 'test-ingest-dkim', resolver))
  const result = await signedHandler(sqsEvent(sqsRecord(JSON.stringify(queued))))
  // Assess
  assert.deepEqual(result.batchItemFailures, [])
  const message = await readMessage(emulator, 'dkim@example.com', queued.id)
  assert.deepEqual(message?.authentication?.dkimVerified, [
    {
      domain: 'example.org',
      selector: 's1',
      algorithm: 'ed25519-sha256',
      result: 'pass',
      comment: null,
      aligned: true,
    },
  ])
  assert.deepEqual(lookups, ['s1._domainkey.example.org'])
})
