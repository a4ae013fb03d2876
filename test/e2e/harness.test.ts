/**
 * Proves the end-to-end harness against a tiny LMTP server built here with smtp-server:
 * swaks, Python's smtplib, smtp-source and a real Postfix all reach it over TCP and over a
 * UNIX socket, and each reports what the server answered.
 */
import assert from 'node:assert/strict'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server'
import {
  type LmtpTarget,
  pythonLmtp,
  smtpSource,
  swaksLmtp,
  swaksSmtp,
} from '../helpers/lmtp-clients.ts'
import { freePort, startPostfix } from '../helpers/postfix.ts'
import { needCommands } from '../helpers/system.ts'

const DOMAIN = 'example.test'
const POSTFIX_COMMANDS = ['postfix', 'sendmail', 'postqueue']

interface Delivery {
  from: string
  to: string[]
  raw: Buffer
}

interface Sink {
  tcp: LmtpTarget & { host: string; port: number }
  unix: LmtpTarget & { socketPath: string }
  deliveries: Delivery[]
  /** Recipients answered 451 once at the end of DATA, then accepted. */
  deferOnce: Set<string>
  close(): Promise<void>
}

function answer(stream: SMTPServerDataStream, session: SMTPServerSession, sink: Sink) {
  const chunks: Buffer[] = []
  stream.on('data', (chunk: Buffer) => chunks.push(chunk))
  return new Promise<(Error | string)[]>((resolve) => {
    stream.on('end', () => {
      const to = session.envelope.rcptTo.map((rcpt) => rcpt.address)
      const mailFrom = session.envelope.mailFrom
      sink.deliveries.push({
        from: mailFrom ? mailFrom.address : '',
        to,
        raw: Buffer.concat(chunks),
      })
      resolve(
        to.map((address) => {
          if (!sink.deferOnce.delete(address)) return `delivered to ${address}`
          // smtp-server adds the enhanced status code itself (4.3.0 for a 451).
          return Object.assign(new Error(`try ${address} again`), { responseCode: 451 })
        }),
      )
    })
  })
}

async function startSink(): Promise<Sink> {
  // The Postfix lmtp client runs as user postfix: it must reach and write the socket.
  const socketDir = await mkdtemp(join(tmpdir(), 'mailbridge-sink-'))
  await chmod(socketDir, 0o755)
  const socketPath = join(socketDir, 'lmtp.sock')
  const sink: Sink = {
    tcp: { host: '127.0.0.1', port: 0 },
    unix: { socketPath },
    deliveries: [],
    deferOnce: new Set(),
    close: async () => {},
  }
  const makeServer = () =>
    new SMTPServer({
      lmtp: true,
      hideENHANCEDSTATUSCODES: false,
      disabledCommands: ['AUTH', 'STARTTLS'],
      authOptional: true,
      disableReverseLookup: true,
      logger: false,
      onData(stream, session, callback) {
        answer(stream, session, sink).then((replies) => callback(null, replies), callback)
      },
    })
  const tcpServer = makeServer()
  const unixServer = makeServer()
  await new Promise<void>((resolve) => tcpServer.listen(0, '127.0.0.1', resolve))
  await new Promise<void>((resolve) => unixServer.listen(socketPath, resolve))
  await chmod(socketPath, 0o666)
  sink.tcp.port = (tcpServer.server.address() as AddressInfo).port
  sink.close = async () => {
    await new Promise<void>((resolve) => tcpServer.close(resolve))
    await new Promise<void>((resolve) => unixServer.close(resolve))
    await rm(socketDir, { recursive: true, force: true })
  }
  return sink
}

/** A message with every header Postfix would otherwise add, so it arrives unchanged. */
function message(subject: string, to: string): string {
  return [
    `From: Sender <sender@outside.test>`,
    `To: ${to}`,
    `Subject: ${subject}`,
    'Date: Tue, 25 Nov 2025 06:00:00 +0000',
    `Message-ID: <${subject.replace(/\W+/g, '-')}@outside.test>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    'Grüße aus dem Harness.',
    '.a line that starts with a dot',
    '.',
    'last line',
    '',
  ].join('\n')
}

function crlf(text: string): Buffer {
  return Buffer.from(text.replace(/\n/g, '\r\n'))
}

describe('e2e harness', () => {
  let sink: Sink

  before(async () => {
    sink = await startSink()
  })

  after(async () => {
    await sink.close()
  })

  for (const transport of ['tcp', 'unix'] as const) {
    test(`swaks gets one 250 per recipient over ${transport}`, async (t) => {
      if (!needCommands(t, ['swaks'])) return
      const to = [`a@${DOMAIN}`, `b@${DOMAIN}`]

      const result = await swaksLmtp(sink[transport], {
        from: 'sender@outside.test',
        to,
        data: message(`swaks ${transport}`, to.join(', ')),
      })

      assert.equal(result.exitCode, 0, result.transcript)
      const afterData = result.transcript.slice(result.transcript.lastIndexOf(' -> .'))
      const replies = afterData.match(/^<- {1,2}250 2\.6\.0 delivered to \S+$/gm) ?? []
      assert.deepEqual(
        replies.map((line) => line.split(' ').pop()),
        to,
        result.transcript,
      )
    })

    test(`pythonLmtp reads one reply per accepted recipient over ${transport}`, async (t) => {
      if (!needCommands(t, ['python3'])) return
      const to = [`a@${DOMAIN}`, `b@${DOMAIN}`, `c@${DOMAIN}`]
      const data = Buffer.concat([
        crlf(message(`python ${transport}`, to[0] ?? '')),
        Buffer.from([0xff, 0x0d, 0x0a]),
      ])
      const before = sink.deliveries.length

      const result = await pythonLmtp(sink[transport], { from: 'sender@outside.test', to, data })

      assert.deepEqual(
        result.rcpt.map((reply) => reply.code),
        [250, 250, 250],
      )
      assert.deepEqual(
        result.data.map((reply) => `${reply.code} ${reply.message}`),
        to.map((address) => `250 2.6.0 delivered to ${address}`),
      )
      // The 8-bit bytes (and the dot-stuffed lines) arrive exactly as sent.
      assert.deepEqual(sink.deliveries[before]?.raw, data)
    })

    test(`smtp-source -L sends N messages over ${transport}`, async (t) => {
      if (!needCommands(t, ['smtp-source'])) return
      for (const reuse of [false, true]) {
        const before = sink.deliveries.length

        const result = await smtpSource(sink[transport], {
          sessions: 2,
          messages: 6,
          size: 2000,
          from: 'load@outside.test',
          to: `load@${DOMAIN}`,
          reuse,
        })

        assert.equal(result.exitCode, 0, result.stderr)
        assert.equal(sink.deliveries.length - before, 6)
      }
    })
  }

  test('Postfix delivers over LMTP TCP, retrying a 451 within seconds', async (t) => {
    if (!needCommands(t, POSTFIX_COMMANDS)) return
    const postfix = await startPostfix({ domain: DOMAIN, lmtp: sink.tcp })
    t.after(() => postfix.stop())
    const to = `flaky@${DOMAIN}`
    const text = message('postfix tcp', to)
    sink.deferOnce.add(to)

    await postfix.submit('sender@outside.test', [to], text)

    await postfix.waitForLog(
      /to=<flaky@example\.test>.*status=deferred \(host .* said: 451 4\.3\.0 try/,
    )
    const sent = await postfix.waitForLog(/to=<flaky@example\.test>.*status=sent/, 20_000)
    assert.match(
      sent,
      /relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+.*\(250 2\.6\.0 delivered to flaky@example\.test\)/,
    )
    const delivery = sink.deliveries.findLast((d) => d.to.includes(to))
    assert.ok(delivery)
    assert.equal(delivery.from, 'sender@outside.test')
    const raw = delivery.raw.toString('utf8')
    // A local submission gets "Received: by" (an SMTP one "Received: from").
    assert.match(raw, /^Received: by mx\.mailbridge-test\.localhost \(Postfix/)
    assert.ok(raw.endsWith(crlf(text).toString('utf8')), raw)
    assert.match(await postfix.queue(), /Mail queue is empty/)
    await postfix.stop()
    await postfix.stop()
  })

  test('Postfix delivers over an LMTP UNIX socket, several recipients in one transaction', async (t) => {
    if (!needCommands(t, POSTFIX_COMMANDS)) return
    const postfix = await startPostfix({ domain: DOMAIN, lmtp: sink.unix })
    t.after(() => postfix.stop())
    const to = [`x@${DOMAIN}`, `y@${DOMAIN}`]
    const text = message('postfix unix', to.join(', '))

    await postfix.submit('sender@outside.test', to, Buffer.from(text))

    await postfix.waitForLog(/status=sent/, 20_000, 2)
    const log = await postfix.maillog()
    for (const address of to) {
      // The relay is logged as myhostname[socket path].
      const relay = `relay=[^,]*\\[${sink.unix.socketPath.replace(/[.]/g, '\\.')}\\]`
      assert.match(log, new RegExp(`to=<${address}>, ${relay}, .*status=sent`))
    }
    const delivery = sink.deliveries.findLast((d) => d.to.includes(to[0] ?? ''))
    assert.ok(delivery)
    assert.deepEqual(delivery.to, to)
    assert.ok(delivery.raw.toString('utf8').endsWith(crlf(text).toString('utf8')))
  })

  test('Postfix takes SMTP on smtpPort and relays it over LMTP', async (t) => {
    if (!needCommands(t, [...POSTFIX_COMMANDS, 'swaks'])) return
    const smtpPort = await freePort()
    const postfix = await startPostfix({ domain: DOMAIN, lmtp: sink.tcp, smtpPort })
    t.after(() => postfix.stop())
    const to = `smtp-in@${DOMAIN}`

    const result = await swaksSmtp(
      { host: '127.0.0.1', port: smtpPort },
      { from: 'sender@outside.test', to: [to], data: message('postfix smtp', to) },
    )

    assert.equal(result.exitCode, 0, result.transcript)
    assert.match(result.transcript, /<- {1,2}220 mx\.mailbridge-test\.localhost ESMTP/)
    await postfix.waitForLog(/to=<smtp-in@example\.test>.*status=sent/)
    const delivery = sink.deliveries.findLast((d) => d.to.includes(to))
    assert.match(delivery?.raw.toString('utf8') ?? '', /^Received: from /)
  })
})
