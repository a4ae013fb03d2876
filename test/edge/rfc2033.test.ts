/**
 * RFC 2033 to the letter, transcript by transcript on a real socket: what a polite client
 * never sends is exactly what these tests send.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startTestEdge, type TestEdge } from '../helpers/edge.ts'
import { type Emulator, startEmulator } from '../helpers/emulator.ts'
import { drainQueue } from '../helpers/queue.ts'
import { RawLmtp } from '../helpers/raw-lmtp.ts'
import { splitTrace } from '../helpers/trace.ts'

// Small limits so that going over them is cheap.
const MAX_BYTES = 64 * 1024
const MAX_RCPT = 3

let emulator: Emulator
let edge: TestEdge

before(async () => {
  emulator = await startEmulator({
    MAILBRIDGE_DOMAINS: 'example.com',
    MAILBRIDGE_MAX_MESSAGE_BYTES: String(MAX_BYTES),
    MAILBRIDGE_MAX_RECIPIENTS: String(MAX_RCPT),
  })
  edge = await startTestEdge(emulator)
})

after(async () => {
  await edge.close()
  await emulator.stop()
})

/** A connection past the greeting (220) and LHLO (250). */
function greeted(): Promise<RawLmtp> {
  return RawLmtp.greeted(edge.lmtp)
}

async function queued() {
  return drainQueue(emulator.sqs, emulator.ingestQueueUrl)
}

function rawOf(message: Awaited<ReturnType<typeof queued>>[number] | undefined): Buffer {
  assert.ok(message && 'base64' in message.raw, 'queued inline')
  return splitTrace(Buffer.from(message.raw.base64, 'base64')).message
}

test('the greeting comes at once: a client that talks first is not refused', async () => {
  // smtp-server's default 100 ms pause answers a command sent before the greeting with
  // "421 You talk too soon". Without the pause the greeting is written on accept.
  const client = await RawLmtp.open(edge.lmtp)
  client.write('LHLO eager.test\r\n')
  const [greeting, lhlo] = await client.replies(2)
  client.close()
  assert.equal(greeting?.code, 220)
  assert.match(greeting?.message ?? '', /LMTP/)
  assert.equal(lhlo?.code, 250, lhlo?.message)
})

test('LHLO only: HELO and EHLO get 500; LHLO lists the extensions', async () => {
  const client = await RawLmtp.open(edge.lmtp)
  await client.reply()
  assert.equal((await client.command('HELO client.test')).code, 500)
  assert.equal((await client.command('EHLO client.test')).code, 500)
  const lhlo = await client.command('LHLO client.test')
  client.close()
  assert.equal(lhlo.code, 250)
  for (const feature of ['PIPELINING', 'ENHANCEDSTATUSCODES', '8BITMIME', 'SMTPUTF8']) {
    assert.ok(
      lhlo.lines.includes(`250-${feature}`) || lhlo.lines.includes(`250 ${feature}`),
      feature,
    )
  }
  assert.ok(
    lhlo.lines.some((line) => line.slice(4) === `SIZE ${MAX_BYTES}`),
    'SIZE with the limit',
  )
})

test('commands out of order get 503: MAIL before LHLO, DATA without a recipient', async () => {
  const client = await RawLmtp.open(edge.lmtp)
  await client.reply()
  assert.equal((await client.command('MAIL FROM:<a@example.net>')).code, 503)
  assert.equal((await client.command('LHLO client.test')).code, 250)
  assert.equal((await client.command('DATA')).code, 503, 'DATA before MAIL')
  assert.equal((await client.command('MAIL FROM:<a@example.net>')).code, 250)
  assert.equal((await client.command('DATA')).code, 503, 'DATA without RCPT')
  const refused = await client.command('RCPT TO:<x@elsewhere.test>')
  assert.equal(refused.code, 550)
  assert.match(refused.message, /^5\.1\.2 /)
  const data = await client.command('DATA')
  client.close()
  assert.equal(data.code, 503, 'DATA when every RCPT was refused')
  assert.deepEqual(await queued(), [])
})

test('syntax errors get a 5xx reply with an enhanced code, and the session goes on', async () => {
  const client = await greeted()
  const badMail = await client.command('MAIL FROM:<not an address')
  const noColon = await client.command('MAIL FROM')
  assert.equal((await client.command('MAIL FROM:<s@example.net>')).code, 250)
  const badRcpt = await client.command('RCPT TO:<@@>')
  const unknown = await client.command('FROB nicate')
  assert.equal((await client.command('RCPT TO:<ok@example.com>')).code, 250)
  assert.equal((await client.command('DATA')).code, 354)
  client.write('Subject: after errors\r\n\r\nfine\r\n.\r\n')
  const reply = await client.reply()
  client.close()
  for (const [name, r] of Object.entries({ badMail, noColon, badRcpt, unknown })) {
    assert.ok(r.code >= 500 && r.code < 600, `${name}: ${r.code} ${r.message}`)
    assert.match(r.message, /^5\.\d\.\d+ /, `${name} has an enhanced status code: ${r.message}`)
  }
  assert.equal(reply.code, 250)
  assert.equal((await queued()).length, 1)
})

test('past the recipient limit: 452 4.5.3, and one reply per accepted recipient after DATA', async () => {
  const client = await greeted()
  await client.command('MAIL FROM:<a@example.net>')
  const rcpt = []
  for (const name of ['r1', 'r2', 'r3', 'r4'])
    rcpt.push(await client.command(`RCPT TO:<${name}@example.com>`))
  assert.deepEqual(
    rcpt.map((reply) => reply.code),
    [250, 250, 250, 452],
  )
  assert.match(rcpt[3]?.message ?? '', /^4\.5\.3 /)
  assert.equal((await client.command('DATA')).code, 354)
  client.write('Subject: many\r\n\r\nhi\r\n.\r\n')
  const replies = await client.replies(MAX_RCPT)
  client.write('QUIT\r\n')
  assert.deepEqual(
    replies.map((reply) => reply.code),
    [250, 250, 250],
  )
  const [message] = await queued()
  assert.deepEqual(message?.envelope.rcptTo, ['r1@example.com', 'r2@example.com', 'r3@example.com'])
})

test('repeating one address does not get past the recipient limit', async () => {
  // smtp-server counts distinct addresses only; the edge counts every accepted RCPT.
  const client = await greeted()
  await client.command('MAIL FROM:<a@example.net>')
  const rcpt = []
  for (const to of ['a', 'b', 'a', 'A', 'a']) {
    rcpt.push(await client.command(`RCPT TO:<${to}@example.com>`))
  }
  const codes = rcpt.map((reply) => reply.code)
  assert.equal((await client.command('DATA')).code, 354)
  client.write('Subject: repeated\r\n\r\nhi\r\n.\r\n')
  const replies = await client.replies(MAX_RCPT)
  client.close()
  assert.deepEqual(codes, [250, 250, 250, 452, 452])
  // The edge's own refusal, not smtp-server's: 4.5.3 all the same, not 452's default 4.2.2.
  for (const reply of rcpt.slice(3)) assert.match(reply.message, /^4\.5\.3 /)
  assert.deepEqual(
    replies.map((reply) => reply.code),
    [250, 250, 250],
  )
  const [message] = await queued()
  assert.deepEqual(message?.envelope.rcptTo, ['a@example.com', 'b@example.com', 'a@example.com'])
})

test('a client that resets the connection mid-DATA does not take the edge down', async () => {
  const client = await greeted()
  await client.command('MAIL FROM:<reset@example.net>')
  await client.command('RCPT TO:<a@example.com>')
  await client.command('DATA')
  client.write('Subject: cut short\r\n\r\nhalf a mess')
  await new Promise((resolve) => setTimeout(resolve, 50))
  client.reset()
  await new Promise((resolve) => setTimeout(resolve, 200))
  // The edge still answers, and nothing of the cut message was queued.
  const next = await greeted()
  const { data } = await next.transaction(
    'after@example.net',
    ['a@example.com'],
    'Subject: after\r\n\r\nok\r\n',
  )
  next.close()
  assert.equal(data[0]?.code, 250)
  assert.deepEqual(
    (await queued()).map((message) => message.envelope.mailFrom),
    ['after@example.net'],
  )
})

test('a pipelined transaction gets every reply in order, one per recipient after DATA', async () => {
  const client = await RawLmtp.open(edge.lmtp)
  client.write(
    'LHLO pipe.test\r\nMAIL FROM:<p@example.net>\r\nRCPT TO:<a@example.com>\r\n' +
      'RCPT TO:<b@elsewhere.test>\r\nRCPT TO:<c@example.com>\r\nDATA\r\n',
  )
  const head = await client.replies(7)
  assert.deepEqual(
    head.map((reply) => reply.code),
    [220, 250, 250, 250, 550, 250, 354],
  )
  client.write('Subject: pipelined\r\n\r\nbody\r\n.\r\nQUIT\r\n')
  const tail = await client.replies(3)
  client.close()
  assert.deepEqual(
    tail.map((reply) => reply.code),
    [250, 250, 221],
  )
  assert.match(tail[0]?.message ?? '', /^2\.0\.0 Ok: queued as /)
  const [message] = await queued()
  assert.deepEqual(message?.envelope.rcptTo, ['a@example.com', 'c@example.com'])
})

test('over the size limit without SIZE: 552 5.3.4 for every recipient, nothing queued', async () => {
  const client = await greeted()
  await client.command('MAIL FROM:<big@example.net>')
  await client.command('RCPT TO:<a@example.com>')
  await client.command('RCPT TO:<b@example.com>')
  assert.equal((await client.command('DATA')).code, 354)
  client.write(`Subject: big\r\n\r\n${`${'y'.repeat(998)}\r\n`.repeat(70)}.\r\n`)
  const replies = await client.replies(2)
  // The session goes on: a small message right after is accepted.
  const {
    data: [after],
  } = await client.transaction(
    'small@example.net',
    ['a@example.com'],
    'Subject: small\r\n\r\nok\r\n',
  )
  client.close()
  assert.deepEqual(
    replies.map((reply) => [reply.code, reply.message.slice(0, 6)]),
    [
      [552, '5.3.4 '],
      [552, '5.3.4 '],
    ],
  )
  assert.equal(after?.code, 250)
  const messages = await queued()
  assert.deepEqual(
    messages.map((message) => message.envelope.mailFrom),
    ['small@example.net'],
  )
})

test('MAIL FROM with a SIZE over the limit is refused before any data: 552 5.3.4', async () => {
  const client = await greeted()
  const reply = await client.command(`MAIL FROM:<a@example.net> SIZE=${MAX_BYTES + 1}`)
  client.close()
  assert.equal(reply.code, 552)
  assert.match(reply.message, /^5\.3\.4 /)
})

test('odd bytes are stored exactly as received: bare LF, NUL, 8-bit headers, long lines', async () => {
  const cases: Record<string, Buffer> = {
    'bare LF': Buffer.from('Subject: lf\n\nline one\nline two\r\n'),
    NUL: Buffer.from('Subject: nul\r\n\r\nbefore\0after\r\n'),
    '8-bit header': Buffer.concat([
      Buffer.from('Subject: '),
      Buffer.from('Grüße ', 'utf8'),
      Buffer.from('caf\xe9', 'latin1'),
      Buffer.from('\r\n\r\nbody\r\n'),
    ]),
    'long line': Buffer.from(`Subject: long\r\n\r\n${'z'.repeat(20_000)}\r\n`),
    'dot lines': Buffer.from('Subject: dots\r\n\r\n.leading dot\r\n..two\r\n'),
  }
  for (const [name, body] of Object.entries(cases)) {
    const client = await greeted()
    await client.command('MAIL FROM:<odd@example.net> BODY=8BITMIME')
    await client.command('RCPT TO:<odd@example.com>')
    assert.equal((await client.command('DATA')).code, 354, name)
    // Dot-stuffing (RFC 5321 §4.5.2): a line starting with "." is sent with one more.
    const stuffed = Buffer.from(body.toString('latin1').replace(/(^|\n)\./g, '$1..'), 'latin1')
    client.write(Buffer.concat([stuffed, Buffer.from('.\r\n')]))
    const reply = await client.reply()
    client.close()
    assert.equal(reply.code, 250, `${name}: ${reply.message}`)
    const [message] = await queued()
    assert.ok(rawOf(message).equals(body), `${name}: stored bytes differ`)
  }
})
