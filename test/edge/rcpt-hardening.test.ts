/**
 * The RCPT path, hardened (issue 9, item 5): any address smtp-server accepts reaches its
 * mailbox, a repeated or oversized recipient list gets the right reply, and each recipient
 * is stored once. Real sockets, the edge's real queue thread, the emulator and ingest.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { loadConfig } from '../../shared/config.ts'
import { parseWebhookJob } from '../../shared/contracts/webhook-job.ts'
import { startTestEdge, type TestEdge } from '../helpers/edge.ts'
import { type Emulator, ingestMessages, readMessage, startEmulator } from '../helpers/emulator.ts'
import { drainQueue } from '../helpers/queue.ts'
import { RawLmtp, type RawReply } from '../helpers/raw-lmtp.ts'

const MAX_RCPT = 5
// Small, so that a few long recipients fill a queue message.
const QUEUE_MAX = 4096

let emulator: Emulator
let edge: TestEdge
let small: TestEdge

before(async () => {
  emulator = await startEmulator({
    MAILBRIDGE_DOMAINS: 'example.com',
    MAILBRIDGE_MAX_RECIPIENTS: String(MAX_RCPT),
  })
  edge = await startTestEdge(emulator)
  small = await startTestEdge(emulator, { edge: { queueMessageMaxBytes: QUEUE_MAX } })
})

after(async () => {
  await Promise.all([edge.close(), small.close()])
  await emulator.stop()
})

/** A command written as UTF-8 (RawLmtp.command writes latin1). */
async function utf8Command(client: RawLmtp, line: string): Promise<RawReply> {
  client.write(Buffer.from(`${line}\r\n`, 'utf8'))
  return client.reply()
}

/** One transaction with UTF-8 addresses; the replies to each RCPT and after the data. */
async function send(target: TestEdge, to: string[], subject: string) {
  const client = await RawLmtp.greeted(target.lmtp)
  assert.equal((await client.command('MAIL FROM:<s@example.net>')).code, 250)
  const rcpt: RawReply[] = []
  for (const address of to) rcpt.push(await utf8Command(client, `RCPT TO:<${address}>`))
  assert.equal((await client.command('DATA')).code, 354)
  client.write(`Subject: ${subject}\r\n\r\nhi\r\n.\r\n`)
  const data = await client.replies(rcpt.filter((reply) => reply.code === 250).length)
  client.close()
  return { rcpt, data }
}

const ODD = ['u\uffff@example.com', 'u\ufffe@example.com', 'emoji\u{1f600}@example.com']

test('U+FFFF, U+FFFE and an emoji in a recipient: queued, and stored in that mailbox', async () => {
  const endpoint = await emulator.root.stores.endpoints.create({
    url: 'http://127.0.0.1:9/',
    mailbox: null,
  })
  try {
    const { rcpt, data } = await send(edge, ODD, 'odd recipients')
    assert.deepEqual(
      [...rcpt, ...data].map((reply) => reply.code),
      [250, 250, 250, 250, 250, 250],
      data.map((reply) => reply.message).join('\n'),
    )
    const queued = await drainQueue(emulator.sqs, emulator.ingestQueueUrl)
    assert.equal(queued.length, 1)
    assert.deepEqual(queued[0]?.envelope.rcptTo, ODD, 'the addresses exactly, through SQS')
    // Ingest's webhook job names them too: its queue body is escaped the same way.
    await ingestMessages(emulator, ...queued)
    for (const address of ODD) {
      const message = await readMessage(emulator, address, queued[0]?.id ?? '')
      assert.equal(message?.subject, 'odd recipients', address)
      assert.deepEqual(message?.envelope.rcptTo, [address])
    }
    const [job] = await drainQueue(emulator.sqs, emulator.webhookQueueUrl, (m) =>
      parseWebhookJob(m.Body ?? ''),
    )
    assert.deepEqual(job?.rcptTo, ODD)
  } finally {
    await emulator.root.stores.endpoints.delete(endpoint.id)
  }
})

test('one address repeated past the limit: 452 4.5.3, and stored once', async () => {
  const to = ['rep@example.com', 'REP@example.com', ...Array(MAX_RCPT).fill('rep@example.com')]
  const { rcpt, data } = await send(edge, to, 'repeated')
  assert.deepEqual(
    rcpt.map((reply) => reply.code),
    [250, 250, 250, 250, 250, 452, 452],
  )
  for (const reply of rcpt.slice(MAX_RCPT)) assert.match(reply.message, /^4\.5\.3 /)
  // One reply per accepted RCPT (RFC 2033 §4.2), repeats included.
  assert.deepEqual(
    data.map((reply) => reply.code),
    Array(MAX_RCPT).fill(250),
  )
  const queued = await drainQueue(emulator.sqs, emulator.ingestQueueUrl)
  await ingestMessages(emulator, ...queued)
  const message = await readMessage(emulator, 'rep@example.com', queued[0]?.id ?? '')
  assert.deepEqual(message?.envelope.rcptTo, ['rep@example.com'], 'once, first spelling')
})

test('a recipient the queue message has no room for gets 452 4.5.3; the others are queued', async () => {
  // Each address is about 1.2 KB once escaped: three fit in 4 KiB with the envelope.
  const long = (n: number) => `${n}${'\u00e9'.repeat(200)}@example.com`
  const to = [1, 2, 3, 4].map(long)
  const { rcpt, data } = await send(small, to, 'long recipients')
  const codes = rcpt.map((reply) => reply.code)
  const accepted = codes.filter((code) => code === 250).length
  assert.ok(accepted >= 1 && accepted < to.length, `codes ${codes}`)
  assert.deepEqual(codes, [...Array(accepted).fill(250), ...Array(to.length - accepted).fill(452)])
  for (const reply of rcpt.slice(accepted)) assert.match(reply.message, /^4\.5\.3 /)
  assert.deepEqual(
    data.map((reply) => reply.code),
    Array(accepted).fill(250),
  )
  const [queued] = await drainQueue(emulator.sqs, emulator.ingestQueueUrl)
  assert.deepEqual(queued?.envelope.rcptTo, to.slice(0, accepted))
})

test('a first recipient that alone overflows a queue message: 552 5.3.4, never a 4xx', async () => {
  // smtp-server takes paths up to 253 UTF-16 units: 120 emoji (about 1.5 KB escaped) in
  // sender and recipient, and a long LHLO name, leave no room in 4 KiB.
  const long = `${'\u{1f600}'.repeat(120)}@example.com`
  const client = await RawLmtp.greeted(small.lmtp, Array(4).fill('h'.repeat(60)).join('.'))
  assert.equal((await utf8Command(client, `MAIL FROM:<${long}>`)).code, 250)
  const reply = await utf8Command(client, `RCPT TO:<${long}>`)
  client.close()
  assert.equal(reply.code, 552)
  assert.match(reply.message, /^5\.3\.4 /)
})

// Found in review: smtp-server hands the edge an internationalised domain in Unicode, the
// domain list held only ASCII (xn--) names, so every recipient of such a domain got 550.
test('an internationalised domain, in either spelling, is accepted, queued and stored in ASCII', async () => {
  const { domains } = loadConfig({ MAILBRIDGE_DOMAINS: 'bücher.example' }).edge
  assert.deepEqual(domains, ['xn--bcher-kva.example'])
  const idn = await startTestEdge(emulator, { edge: { domains } })
  try {
    const { rcpt, data } = await send(
      idn,
      ['bob@xn--bcher-kva.example', 'ann@bücher.example'],
      'idn',
    )
    assert.deepEqual(
      rcpt.map((reply) => reply.code),
      [250, 250],
    )
    assert.deepEqual(
      data.map((reply) => reply.code),
      [250, 250],
    )
    const queued = await drainQueue(emulator.sqs, emulator.ingestQueueUrl)
    assert.deepEqual(
      queued.map((message) => message.envelope.rcptTo),
      [['bob@xn--bcher-kva.example', 'ann@xn--bcher-kva.example']],
    )
    await ingestMessages(emulator, ...queued)
    const id = queued[0]?.id as string
    for (const mailbox of ['bob@xn--bcher-kva.example', 'ann@xn--bcher-kva.example']) {
      assert.equal((await readMessage(emulator, mailbox, id))?.subject, 'idn', mailbox)
    }
  } finally {
    await idn.close()
  }
})
