import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import { Webhook } from 'standardwebhooks'
import { createDeliverHandler, deliverDeps } from '../../functions/deliver/deliver.ts'
import type { Stores } from '../../shared/compose.ts'
import type { WebhookJob } from '../../shared/contracts/queue.ts'
import type { WebhookPayload } from '../../shared/contracts/webhook.ts'
import { createLogger } from '../../shared/logger.ts'
import { type Emulator, ingestMessages, startEmulator } from '../helpers/emulator.ts'
import { queuedMessage, sqsEvent, sqsRecord } from '../helpers/factories.ts'

const fixture = readFileSync(new URL('../fixtures/simple.eml', import.meta.url))

interface Received {
  headers: IncomingHttpHeaders
  body: string
}

let emulator: Emulator
let stores: Stores
let webhooks: Stores['endpoints']
let receiver: Server
let receiverUrl: string
let received: Received[] = []
let answerStatus = 200

before(async () => {
  emulator = await startEmulator()
  stores = emulator.root.stores
  webhooks = stores.endpoints
  // A real HTTP receiver on loopback, answering with whatever status the test sets.
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') })
      response.statusCode = answerStatus
      response.end('ok')
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/mail`
})
after(async () => {
  receiver.close()
  await emulator.stop()
})

function handler(timeoutMs?: number) {
  return createDeliverHandler(
    deliverDeps(emulator.root, { logger: createLogger('test-deliver'), timeoutMs }),
  )
}

async function storedMessage(mailbox: string) {
  const queued = queuedMessage(fixture, [mailbox])
  await ingestMessages(emulator, queued)
  return queued
}

function job(messageId: string, endpointId: string, mailbox: string): string {
  const value: WebhookJob = { v: 1, messageId, endpointId, mailboxes: [mailbox], rcptTo: [mailbox] }
  return JSON.stringify(value)
}

test('POSTs the message as JSON, signed so that standardwebhooks verifies it', async () => {
  received = []
  answerStatus = 204
  const endpoint = await webhooks.create({ url: receiverUrl, mailbox: null })
  const queued = await storedMessage('bob@example.com')

  const result = await handler()(
    sqsEvent(sqsRecord(job(queued.id, endpoint.id, 'bob@example.com'))),
  )

  assert.deepEqual(result.batchItemFailures, [])
  assert.equal(received.length, 1)
  const [request] = received as [Received]
  assert.equal(request.headers['content-type'], 'application/json')
  assert.equal(request.headers['webhook-id'], `msg_${queued.id}_${endpoint.id}`)
  const payload = new Webhook(endpoint.secret).verify(request.body, {
    'webhook-id': String(request.headers['webhook-id']),
    'webhook-timestamp': String(request.headers['webhook-timestamp']),
    'webhook-signature': String(request.headers['webhook-signature']),
  }) as WebhookPayload
  assert.equal(payload.type, 'message.received')
  assert.equal(payload.data.id, queued.id)
  assert.equal(payload.data.subject, 'Grüße from the fixture')
  assert.equal((await stores.deliveries.get(queued.id, endpoint.id))?.status, 'delivered')

  // The same job again (SQS delivers at least once): no second POST.
  await handler()(sqsEvent(sqsRecord(job(queued.id, endpoint.id, 'bob@example.com'))))
  assert.equal(received.length, 1)
  await webhooks.delete(endpoint.id)
})

test('a non-2xx answer, a timeout or a refused connection leaves the job for a retry', async () => {
  received = []
  answerStatus = 500
  const failing = await webhooks.create({ url: receiverUrl, mailbox: null })
  const refused = await webhooks.create({ url: 'http://127.0.0.1:1/', mailbox: null })
  const queued = await storedMessage('retry@example.com')
  const records = [
    sqsRecord(job(queued.id, failing.id, 'retry@example.com')),
    sqsRecord(job(queued.id, refused.id, 'retry@example.com')),
  ]

  const result = await handler()(sqsEvent(...records))

  assert.deepEqual(
    result.batchItemFailures.map((f) => f.itemIdentifier).sort(),
    records.map((r) => r.messageId).sort(),
  )
  const record = await stores.deliveries.get(queued.id, failing.id)
  assert.deepEqual(
    [record?.status, record?.attempts, record?.lastResult],
    ['queued', 1, 'HTTP 500'],
  )

  // The receiver recovers: the retry succeeds and counts as the second attempt.
  answerStatus = 200
  const retry = await handler()(
    sqsEvent(sqsRecord(job(queued.id, failing.id, 'retry@example.com'), 2)),
  )
  assert.deepEqual(retry.batchItemFailures, [])
  const after = await stores.deliveries.get(queued.id, failing.id)
  assert.deepEqual([after?.status, after?.attempts], ['delivered', 2])
  await webhooks.delete(failing.id)
  await webhooks.delete(refused.id)
})

test('a job whose endpoint or message was deleted is dropped, not retried forever', async () => {
  received = []
  answerStatus = 200
  const queued = await storedMessage('gone@example.com')
  const endpoint = await webhooks.create({ url: receiverUrl, mailbox: null })
  await stores.mailboxes.remove('gone@example.com', queued.id)
  await stores.messages.release(queued.id, 'gone@example.com', false)
  const result = await handler()(
    sqsEvent(
      sqsRecord(job(queued.id, 'wh_00000000000000000000', 'gone@example.com')),
      sqsRecord(job(queued.id, endpoint.id, 'gone@example.com')),
    ),
  )
  assert.deepEqual(result.batchItemFailures, [])
  assert.equal(received.length, 0)
  await webhooks.delete(endpoint.id)
})
