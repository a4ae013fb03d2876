/**
 * The SQS events of the ingest bench (ingest.ts): records as Lambda's SQS event source hands
 * them over, with bodies as the edge queues a message Postfix delivered. The raw message is
 * the edge's trace headers, then Postfix's Received line with a queue id of its own (so
 * that no message is taken for a client's retry of another, functions/ingest/retries.ts),
 * then the message; inline as base64, or staged in S3 under the key the edge uses.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import type { SQSEvent } from 'aws-lambda'
import { traceHeaders } from '../../edge/trace-headers.ts'
import type { QueuedMessage, RawRef } from '../../shared/contracts/queue.ts'
import { newMessageId } from '../../shared/message-id.ts'
import { incomingRawKey } from '../../shared/store/keys.ts'

// The 10 KB message: 10,000 bytes of headers and text as the client sent them, about
// 10,400 with Postfix's Received line and the edge's trace headers.
const SMALL_BYTES = 10_000
// The 1 MB message's two attachments: 364,000 decoded bytes each, about 498,000 as
// base64 lines, so that the whole raw message is about 1,000,000 bytes.
const ATTACHMENT_BYTES = 364_000
// Mailboxes of the many-recipient case.
const RECIPIENTS = 50
const DOMAIN = 'ingest.bench.test'
const MAIL_FROM = 'sender@sender.test'
// Base64 lines of 76 characters (RFC 2045 §6.8).
const BASE64_LINE = 76
const TEXT_LINE = `${'The quick brown fox jumps over the lazy dog. '.repeat(2).slice(0, 76)}\r\n`

/** One case: what is sent, to whom, and how the raw message travels. */
export interface IngestCase {
  name: string
  rcptTo: string[]
  /** Staged in S3 under incoming/, as the edge does with what does not fit a queue message. */
  staged: boolean
  /** What the client (Postfix) sent after its Received line: headers and body. */
  content: Buffer
}

/** Puts a raw message where the edge stages it; returns the queue message's reference. */
export type Stage = (key: string, raw: Buffer) => Promise<RawRef>

function base64Lines(bytes: Buffer): string {
  const base64 = bytes.toString('base64')
  const lines: string[] = []
  for (let at = 0; at < base64.length; at += BASE64_LINE) {
    lines.push(base64.slice(at, at + BASE64_LINE))
  }
  return lines.join('\r\n')
}

function headers(to: string, subject: string, extra: string[]): string[] {
  return [
    `From: Sender <${MAIL_FROM}>`,
    `To: <${to}>`,
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString().replace(/GMT$/, '+0000')}`,
    `Message-ID: <${randomUUID()}@sender.test>`,
    'MIME-Version: 1.0',
    ...extra,
  ]
}

function textMessage(to: string, bytes: number): Buffer {
  const head = `${headers(to, 'mailbridge ingest bench', ['Content-Type: text/plain; charset=utf-8']).join('\r\n')}\r\n\r\n`
  const lines = Math.max(1, Math.floor((bytes - head.length) / TEXT_LINE.length))
  return Buffer.from(head + TEXT_LINE.repeat(lines))
}

function multipartMessage(to: string): Buffer {
  const boundary = `=_bench_${randomUUID()}`
  const attachment = (filename: string, type: string) =>
    [
      `--${boundary}`,
      `Content-Type: ${type}; name="${filename}"`,
      `Content-Disposition: attachment; filename="${filename}"`,
      'Content-Transfer-Encoding: base64',
      '',
      base64Lines(randomBytes(ATTACHMENT_BYTES)),
    ].join('\r\n')
  const message = [
    ...headers(to, 'mailbridge ingest bench, two attachments', [
      `Content-Type: multipart/mixed; boundary="${boundary}"`,
    ]),
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    TEXT_LINE.repeat(25),
    attachment('report.pdf', 'application/pdf'),
    attachment('photo.jpg', 'image/jpeg'),
    `--${boundary}--`,
    '',
  ]
  return Buffer.from(message.join('\r\n'))
}

/** The three cases, each to mailboxes of its own. */
export function ingestCases(): IngestCase[] {
  const single = (name: string) => `${name}@${DOMAIN}`
  const many = Array.from({ length: RECIPIENTS }, (_, i) => `many-${i}@${DOMAIN}`)
  return [
    {
      name: '10 KB text, 1 recipient',
      rcptTo: [single('small')],
      staged: false,
      content: textMessage(single('small'), SMALL_BYTES),
    },
    {
      name: '1 MB, 2 attachments, staged in S3, 1 recipient',
      rcptTo: [single('big')],
      staged: true,
      content: multipartMessage(single('big')),
    },
    {
      name: `10 KB text, ${RECIPIENTS} recipients (${RECIPIENTS} mailboxes)`,
      rcptTo: many,
      staged: false,
      content: textMessage(many[0] ?? '', SMALL_BYTES),
    },
  ]
}

/**
 * One message as the edge queues it, after Postfix delivered it: the edge's trace headers,
 * then Postfix's Received line with a queue id of its own (so that no message is taken for
 * a retry of another, functions/ingest/retries.ts), then the content.
 */
function queuedBody(c: IngestCase, id: string, now: Date): { body: QueuedMessage; raw: Buffer } {
  const trace = traceHeaders({
    id,
    mailFrom: MAIL_FROM,
    rcptTo: c.rcptTo,
    client: { address: '127.0.0.1', lhlo: 'mx.bench.test' },
    hostname: 'mailbridge.bench.test',
    receivedAt: now,
  })
  const received = [
    'Received: from client.sender.test (client.sender.test [192.0.2.1])',
    `\tby mx.bench.test (Postfix) with ESMTPS id ${id.slice(-10)}`,
    `\tfor <${c.rcptTo[0]}>; ${now.toUTCString().replace(/GMT$/, '+0000')}`,
    '',
  ].join('\r\n')
  const raw = Buffer.concat([Buffer.from(trace + received), c.content])
  const body: QueuedMessage = {
    v: 1,
    id,
    receivedAt: now.toISOString(),
    envelope: { mailFrom: MAIL_FROM, rcptTo: c.rcptTo },
    size: raw.length,
    raw: { base64: '' },
    traceBytes: Buffer.byteLength(trace),
    client: { address: '127.0.0.1', hostname: 'mx.bench.test', lhlo: 'mx.bench.test' },
  }
  return { body, raw }
}

/** An SQS event of `records` fresh messages of case `c`, staged first if the case says so. */
export async function sqsEvent(c: IngestCase, records: number, stage: Stage): Promise<SQSEvent> {
  const bodies = await Promise.all(
    Array.from({ length: records }, async () => {
      const id = newMessageId()
      const { body, raw } = queuedBody(c, id, new Date())
      body.raw = c.staged
        ? await stage(incomingRawKey(id), raw)
        : { base64: raw.toString('base64') }
      return JSON.stringify(body)
    }),
  )
  const now = String(Date.now())
  return {
    Records: bodies.map((body) => ({
      messageId: randomUUID(),
      receiptHandle: randomUUID(),
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: now,
        SenderId: 'bench',
        ApproximateFirstReceiveTimestamp: now,
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:mailbridge-ingest',
      awsRegion: 'us-east-1',
    })),
  }
}
