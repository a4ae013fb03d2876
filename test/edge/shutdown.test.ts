/**
 * Graceful shutdown in one process: close() lets a pending hand-off finish and answer 250
 * before any connection gets 421, refuses new transactions and new connections.
 */
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { after, before, test } from 'node:test'
import { startTestEdge } from '../helpers/edge.ts'
import { type Emulator, startEmulator } from '../helpers/emulator.ts'
import { startFaultProxy } from '../helpers/fault-proxy.ts'
import { drainQueue } from '../helpers/queue.ts'
import { RawLmtp } from '../helpers/raw-lmtp.ts'

// The hand-off is held this long, well past the moment close() is called (ms).
const HANDOFF_DELAY_MS = 1500

let emulator: Emulator

before(async () => {
  emulator = await startEmulator({ MAILBRIDGE_DOMAINS: 'example.com' })
})

after(async () => {
  await emulator.stop()
})

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', () => resolve(true))
  })
}

function greeted(port: number): Promise<RawLmtp> {
  return RawLmtp.greeted({ host: '127.0.0.1', port }, 'drain.test')
}

test('close() answers a pending hand-off 250 first, then 421s the idle sessions', async (t) => {
  // Prepare: the edge hands off through a proxy that holds each SendMessageBatch.
  const proxy = await startFaultProxy(emulator.endpoint)
  t.after(() => proxy.close())
  const via = {
    endpoint: proxy.endpoint,
    timeouts: { connectionTimeout: 5000, requestTimeout: 10_000 },
  }
  const edge = await startTestEdge(emulator, { s3: via, sqs: via })
  t.after(() => edge.close())
  const port = edge.lmtp.port
  proxy.fault = { target: 'SendMessageBatch', delayMs: HANDOFF_DELAY_MS }
  // A's message is in, its hand-off held by the proxy; B and C are idle, C in the middle
  // of a transaction.
  const a = await greeted(port)
  await a.command('MAIL FROM:<a@example.net>')
  await a.command('RCPT TO:<a@example.com>')
  await a.command('DATA')
  a.write('Subject: pending\r\n\r\nin flight during shutdown\r\n.\r\n')
  const b = await greeted(port)
  const c = await greeted(port)
  await c.command('MAIL FROM:<c@example.net>')
  await new Promise((resolve) => setTimeout(resolve, 200))
  assert.equal((await edge.metrics.inFlight.get()).values[0]?.value, 1, 'A is being handed off')

  // Act
  const closing = edge.close()
  const bMail = await b.command('MAIL FROM:<b@example.net>')
  const newConnectionRefused = await refused(port)
  const aReply = await a.reply()
  const aAfter = await a.reply()
  const cReply = await c.reply()
  await closing

  // Assess
  assert.equal(bMail.code, 421, 'no new transaction while draining')
  // RFC 3463: the system is not accepting messages (4.4.2 would be a bad connection).
  assert.match(bMail.message, /^4\.3\.2 /)
  assert.ok(newConnectionRefused, 'no new connection while draining')
  assert.equal(aReply.code, 250, `the pending hand-off is answered: ${aReply.message}`)
  assert.equal(aAfter.code, 421, 'then the session is closed')
  assert.match(aAfter.message, /^4\.3\.2 /)
  assert.equal(cReply.code, 421, 'an unfinished transaction is closed, nothing was acked')
  assert.ok(await c.closedByServer())
  assert.equal(edge.accepting(), false)
  const queued = await drainQueue(emulator.sqs, emulator.ingestQueueUrl)
  assert.deepEqual(
    queued.map((message) => message.envelope.mailFrom),
    ['a@example.net'],
  )
})

test('close() with nothing pending closes idle sessions with 421 at once', async () => {
  const edge = await startTestEdge(emulator)
  const client = await greeted(edge.lmtp.port)
  await edge.close()
  const reply = await client.reply()
  assert.equal(reply.code, 421)
  assert.ok(await client.closedByServer())
  assert.ok(await refused(edge.lmtp.port))
})

test('close() while an oversized message is still coming in: the client gets 552, not 421', async () => {
  // The hand-off fails as soon as the size is exceeded, but smtp-server replies only once
  // the client has sent the whole message: shutdown must wait for that reply.
  const edge = await startTestEdge(emulator, { edge: { maxMessageBytes: 4096 } })
  const client = await greeted(edge.lmtp.port)
  await client.command('MAIL FROM:<big@example.net>')
  await client.command('RCPT TO:<a@example.com>')
  await client.command('DATA')
  client.write(`Subject: too big\r\n\r\n${'x'.repeat(998)}\r\n`.repeat(8))
  await new Promise((resolve) => setTimeout(resolve, 200))
  const closing = edge.close()
  await new Promise((resolve) => setTimeout(resolve, 200))
  client.write('the rest\r\n.\r\n')
  const reply = await client.reply()
  const after = await client.reply()
  await closing
  assert.equal(reply.code, 552, reply.message)
  assert.match(reply.message, /^5\.3\.4 /)
  assert.equal(after.code, 421)
  assert.deepEqual(await drainQueue(emulator.sqs, emulator.ingestQueueUrl), [])
})
