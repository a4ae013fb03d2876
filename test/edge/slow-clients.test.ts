/**
 * Slow clients cannot hold the edge hostage (issue 9, item 5): clients dribbling a byte at
 * a time inside DATA fill every connection slot, the transaction deadline answers them
 * `421 4.4.2` and disconnects them, and a normal client gets through. Real sockets.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startTestEdge, type TestEdge } from '../helpers/edge.ts'
import { type Emulator, startEmulator } from '../helpers/emulator.ts'
import { drainQueue } from '../helpers/queue.ts'
import { RawLmtp } from '../helpers/raw-lmtp.ts'

const SLOTS = 3
const DEADLINE_S = 2
// Faster than a byte a second, so that each slow client sends something in every second:
// the idle timer never fires for them.
const DRIBBLE_MS = 250

let emulator: Emulator
let edge: TestEdge

before(async () => {
  emulator = await startEmulator({ MAILBRIDGE_DOMAINS: 'example.com' })
  edge = await startTestEdge(emulator, {
    edge: { maxConnections: SLOTS, transactionTimeoutSeconds: DEADLINE_S, maxMessageBytes: 1024 },
  })
})

after(async () => {
  await edge.close()
  await emulator.stop()
})

/** A client inside DATA that sends one byte every DRIBBLE_MS until stopped. */
async function dribbler(): Promise<{ client: RawLmtp; stop(): void }> {
  const client = await RawLmtp.greeted(edge.lmtp)
  await client.command('MAIL FROM:<slow@example.net>')
  await client.command('RCPT TO:<a@example.com>')
  assert.equal((await client.command('DATA')).code, 354)
  client.write('Subject: slow\r\n\r\n')
  const timer = setInterval(() => client.write('x'), DRIBBLE_MS)
  return { client, stop: () => clearInterval(timer) }
}

test('slow clients inside DATA get 421 4.4.2 at the deadline, and free their slots', async () => {
  const started = performance.now()
  const slow = await Promise.all(Array.from({ length: SLOTS }, dribbler))
  try {
    // Every slot is held: one more client is turned away at once.
    const turnedAway = await RawLmtp.open(edge.lmtp)
    const refused = await turnedAway.reply()
    turnedAway.close()
    assert.equal(refused.code, 421, refused.message)
    assert.match(refused.message, /Too many connected clients/)

    const replies = await Promise.all(slow.map(({ client }) => client.reply()))
    const kicked = (performance.now() - started) / 1000
    for (const reply of replies) {
      assert.equal(reply.code, 421)
      assert.match(reply.message, /^4\.4\.2 /)
    }
    assert.ok(kicked >= DEADLINE_S - 0.1 && kicked < DEADLINE_S + 2, `after ${kicked} s`)
    for (const { client } of slow) assert.ok(await client.closedByServer(), 'disconnected')

    // A normal client gets through now.
    const normal = await RawLmtp.greeted(edge.lmtp)
    const { data } = await normal.transaction(
      'fast@example.net',
      ['a@example.com'],
      'Subject: fast\r\n\r\nok\r\n',
    )
    normal.close()
    assert.equal(data[0]?.code, 250, data[0]?.message)
    assert.deepEqual(
      (await drainQueue(emulator.sqs, emulator.ingestQueueUrl)).map((m) => m.envelope.mailFrom),
      ['fast@example.net'],
      'nothing of the slow messages was queued',
    )
  } finally {
    for (const { client, stop } of slow) {
      stop()
      client.close()
    }
  }
})

test('a client slow between commands is cut off too; RSET ends the transaction in time', async () => {
  const client = await RawLmtp.greeted(edge.lmtp)
  // A transaction that ends before the deadline leaves nothing armed.
  await client.command('MAIL FROM:<a@example.net>')
  assert.equal((await client.command('RSET')).code, 250)
  await new Promise((resolve) => setTimeout(resolve, (DEADLINE_S + 0.5) * 1000))
  assert.equal((await client.command('NOOP')).code, 250, 'still connected after RSET')
  // One that does not: NOOPs keep the idle timer away, not the deadline.
  await client.command('MAIL FROM:<a@example.net>')
  await client.command('RCPT TO:<a@example.com>')
  let reply = await client.command('NOOP')
  while (reply.code === 250) {
    await new Promise((resolve) => setTimeout(resolve, DRIBBLE_MS))
    reply = await client.command('NOOP')
  }
  assert.equal(reply.code, 421)
  assert.match(reply.message, /^4\.4\.2 /)
  assert.ok(await client.closedByServer())
})

test('a client dribbling on after its message went over the size limit is cut off too', async () => {
  // The hand-off gives up at once on a message over the limit; smtp-server replies only once
  // the rest has been read, and the deadline runs until then.
  const { client, stop } = await dribbler()
  try {
    client.write(`${'y'.repeat(76)}\r\n`.repeat(20))
    const reply = await client.reply()
    assert.equal(reply.code, 421)
    assert.match(reply.message, /^4\.4\.2 /)
    assert.ok(await client.closedByServer())
  } finally {
    stop()
    client.close()
  }
})
