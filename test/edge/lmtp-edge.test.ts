/**
 * The edge on real sockets, driven by real LMTP clients (Python's smtplib.LMTP, swaks,
 * Postfix's smtp-source), handing off to the emulator over the real SDK.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import { startTestEdge, type TestEdge } from '../helpers/edge.ts'
import { type Emulator, startEmulator } from '../helpers/emulator.ts'
import { pythonLmtp, smtpSource, swaksLmtp } from '../helpers/lmtp-clients.ts'
import { freePort } from '../helpers/postfix.ts'
import { drainQueue } from '../helpers/queue.ts'
import { needCommands } from '../helpers/system.ts'
import { splitTrace } from '../helpers/trace.ts'

const MESSAGE = Buffer.from(
  'From: sender@example.net\r\nTo: ok@example.com\r\nSubject: edge test\r\n\r\nHello.\r\n.dot line\r\n',
)

let emulator: Emulator
let edge: TestEdge
let dir: string
let tcp: { host: string; port: number }
let socket: { socketPath: string }

before(async () => {
  emulator = await startEmulator({ MAILBRIDGE_DOMAINS: 'example.com' })
  dir = await mkdtemp(join(tmpdir(), 'mailbridge-edge-'))
  edge = await startTestEdge(emulator, {
    edge: { socket: { path: join(dir, 'lmtp.sock'), mode: 0o600 } },
  })
  tcp = edge.lmtp
  socket = { socketPath: join(dir, 'lmtp.sock') }
})

after(async () => {
  await edge.close()
  await emulator.stop()
  await rm(dir, { recursive: true, force: true })
})

test('one reply per recipient: 250 for the known one, 550 5.1.2 for one of a domain not served', async (t) => {
  if (!needCommands(t, ['python3'])) return
  const result = await pythonLmtp(tcp, {
    from: 'sender@example.net',
    to: ['ok@example.com', 'nobody@elsewhere.test'],
    data: MESSAGE,
  })
  assert.equal(result.rcpt[0]?.code, 250)
  assert.equal(result.rcpt[1]?.code, 550)
  assert.match(result.rcpt[1]?.message ?? '', /^5\.1\.2 /)
  assert.equal(result.data.length, 1)
  assert.equal(result.data[0]?.code, 250)
  assert.match(result.data[0]?.message ?? '', /^2\.0\.0 Ok: queued as [0-9A-Z]{26}$/)

  const [queued, ...rest] = await drainQueue(emulator.sqs, emulator.ingestQueueUrl)
  assert.equal(rest.length, 0)
  assert.deepEqual(queued?.envelope, { mailFrom: 'sender@example.net', rcptTo: ['ok@example.com'] })
  assert.ok(queued && 'base64' in queued.raw)
  const stored = Buffer.from(queued.raw.base64, 'base64')
  const { trace, message } = splitTrace(stored)
  assert.ok(message.equals(MESSAGE), 'raw bytes as sent, after the trace headers')
  assert.match(trace, /^Return-Path: <sender@example\.net>\r\nDelivered-To: ok@example\.com\r\n/)
  assert.match(trace, /\tfor <ok@example\.com>; /)
  assert.match(trace, new RegExp(`with LMTP id ${queued.id}\\r\\n`))
  assert.equal(queued.size, stored.length)
  assert.equal(result.data[0]?.message, `2.0.0 Ok: queued as ${queued.id}`)
})

test('recipients that differ only in case each get their reply after DATA', async (t) => {
  if (!needCommands(t, ['python3'])) return
  const result = await pythonLmtp(socket, {
    from: 'sender@example.net',
    to: ['u@example.com', 'U@example.com', 'v@example.com'],
    data: MESSAGE,
  })
  assert.deepEqual(
    result.rcpt.map((r) => r.code),
    [250, 250, 250],
  )
  assert.deepEqual(
    result.data.map((r) => r.code),
    [250, 250, 250],
  )
  const [queued] = await drainQueue(emulator.sqs, emulator.ingestQueueUrl)
  assert.deepEqual(queued?.envelope.rcptTo, ['u@example.com', 'U@example.com', 'v@example.com'])
})

test('swaks over the UNIX socket: LHLO features, then per-recipient replies', async (t) => {
  if (!needCommands(t, ['swaks'])) return
  assert.equal((await stat(socket.socketPath)).mode & 0o777, 0o600)
  const { transcript } = await swaksLmtp(socket, {
    from: 'sender@example.net',
    to: ['a@example.com', 'b@example.com', 'c@unknown.test'],
    data: MESSAGE,
  })
  for (const feature of ['PIPELINING', 'ENHANCEDSTATUSCODES', '8BITMIME', 'SMTPUTF8', 'SIZE']) {
    assert.match(transcript, new RegExp(`<-\\s+250[- ]${feature}`), feature)
  }
  assert.match(transcript, /<\*\* +550 5\.1\.2 <c@unknown\.test>/)
  assert.equal(transcript.match(/<- +250 2\.0\.0 Ok: queued as/g)?.length, 2, transcript)
  const queued = await drainQueue(emulator.sqs, emulator.ingestQueueUrl)
  assert.deepEqual(queued[0]?.envelope.rcptTo, ['a@example.com', 'b@example.com'])
})

test('a message too big for a queue message is staged in S3 and pointed to', async (t) => {
  if (!needCommands(t, ['python3'])) return
  const line = `${'x'.repeat(998)}\r\n`
  const big = Buffer.concat([MESSAGE, Buffer.from(line.repeat(600))])
  const result = await pythonLmtp(tcp, { from: '', to: ['big@example.com'], data: big })
  assert.equal(result.data[0]?.code, 250)
  const [queued] = await drainQueue(emulator.sqs, emulator.ingestQueueUrl)
  assert.ok(queued && 's3' in queued.raw, 'staged')
  assert.equal(queued.envelope.mailFrom, '')
  const object = await emulator.s3.send(
    new GetObjectCommand({ Bucket: queued.raw.s3.bucket, Key: queued.raw.s3.key }),
  )
  const bytes = Buffer.from((await object.Body?.transformToByteArray()) ?? [])
  assert.equal(bytes.length, queued.size)
  const { trace, message } = splitTrace(bytes)
  assert.ok(message.equals(big), 'the message as sent, after the trace headers')
  assert.match(trace, /^Return-Path: <>\r\n/, 'the null sender')
})

test('smtp-source -L: every message of 5 sessions (20 in all) is queued', async (t) => {
  if (!needCommands(t, ['smtp-source'])) return
  const result = await smtpSource(tcp, {
    sessions: 5,
    messages: 20,
    size: 2000,
    from: 'load@example.net',
    to: 'load@example.com',
    reuse: true,
  })
  assert.equal(result.exitCode, 0, result.stderr)
  const queued = await drainQueue(emulator.sqs, emulator.ingestQueueUrl)
  assert.equal(queued.length, 20)
  assert.equal(new Set(queued.map((q) => q.id)).size, 20)
})

test('451 4.3.0 for every recipient when the queue endpoint is unreachable', async (t) => {
  if (!needCommands(t, ['python3'])) return
  // A port that was just free and is closed again: connections are refused.
  const broken = await startTestEdge(emulator, {
    sqs: { endpoint: `http://127.0.0.1:${await freePort()}` },
    sendTimeoutMs: 5000,
  })
  try {
    const result = await pythonLmtp(broken.lmtp, {
      from: 'sender@example.net',
      to: ['a@example.com', 'b@example.com'],
      data: MESSAGE,
    })
    assert.deepEqual(
      result.data.map((r) => [r.code, r.message.slice(0, 6)]),
      [
        [451, '4.3.0 '],
        [451, '4.3.0 '],
      ],
    )
    assert.deepEqual(await drainQueue(emulator.sqs, emulator.ingestQueueUrl), [])
  } finally {
    await broken.close()
  }
})
