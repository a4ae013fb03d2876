/**
 * The whole path with real parts: a message submitted to a real Postfix is delivered over
 * LMTP to the edge, queued in SQS, stored by ingest, signed and POSTed by deliver to a real
 * HTTP receiver, and read back from the API with the bytes Postfix sent.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Webhook } from 'standardwebhooks'
import type { WebhookPayload } from '../../shared/contracts/payload.ts'
import {
  startTestBridge,
  startWebhookReceiver,
  type TestBridge,
  type WebhookReceiver,
} from '../helpers/bridge.ts'
import { type Postfix, startPostfix } from '../helpers/postfix.ts'
import { needCommands } from '../helpers/system.ts'
import { splitTrace } from '../helpers/trace.ts'

const DOMAIN = 'e2e.mailbridge.test'
const MESSAGE = [
  'From: Alice <alice@example.net>',
  `To: Bob <bob@${DOMAIN}>`,
  'Subject: end to end',
  'Date: Wed, 25 Nov 2026 10:00:00 +0000',
  'Message-ID: <e2e-1@example.net>',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: 8bit',
  '',
  'Hello Bob, this went through Postfix.',
  '.a line with a leading dot',
  'Grüße',
  '',
].join('\n')

let bridge: TestBridge
let receiver: WebhookReceiver
let postfix: Postfix | undefined

before(async () => {
  bridge = await startTestBridge({ MAILBRIDGE_DOMAINS: DOMAIN })
  receiver = await startWebhookReceiver()
})
after(async () => {
  await postfix?.stop()
  await receiver.close()
  await bridge.stop()
})

test('Postfix → LMTP edge → SQS → ingest → S3 → signed webhook → API', async (t) => {
  if (!needCommands(t, ['postfix', 'sendmail', 'postqueue'])) return
  // Prepare: a webhook for every mailbox, registered through the API.
  const created = await bridge.request('/v1/webhooks', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: receiver.url }),
  })
  assert.equal(created.status, 201)
  const { secret } = (await created.json()) as { secret: string }
  postfix = await startPostfix({ domain: DOMAIN, lmtp: bridge.lmtp })

  // Act
  await postfix.submit('alice@example.net', [`bob@${DOMAIN}`], MESSAGE)

  // Assess: Postfix got 250 2.0.0 from the edge.
  const sent = await postfix.waitForLog(/status=sent \(250 2\.0\.0 /, 30_000)
  assert.match(sent, new RegExp(`to=<bob@${DOMAIN.replaceAll('.', '\\.')}>`))

  // The webhook arrived, and standardwebhooks verifies its signature.
  const [webhook] = await receiver.waitFor(1)
  assert.ok(webhook)
  const payload = new Webhook(secret).verify(webhook.body, {
    'webhook-id': String(webhook.headers['webhook-id']),
    'webhook-timestamp': String(webhook.headers['webhook-timestamp']),
    'webhook-signature': String(webhook.headers['webhook-signature']),
  }) as WebhookPayload
  assert.equal(payload.type, 'message.received')
  assert.equal(payload.data.subject, 'end to end')
  assert.deepEqual(payload.data.mailboxes, [`bob@${DOMAIN}`])
  assert.deepEqual(payload.data.envelope, {
    mailFrom: 'alice@example.net',
    rcptTo: [`bob@${DOMAIN}`],
  })
  assert.match(payload.data.text ?? '', /Grüße/)

  // The API lists it and returns the raw bytes as Postfix sent them: the submitted message
  // with CRLF line ends, after the Received header Postfix prepends, after the edge's
  // trace headers.
  const list = await bridge.request(`/v1/mailboxes/${encodeURIComponent(`bob@${DOMAIN}`)}/messages`)
  const { messages } = (await list.json()) as { messages: { id: string }[] }
  assert.deepEqual(
    messages.map((m) => m.id),
    [payload.data.id],
  )
  const rawResponse = await bridge.request(payload.data.links?.raw ?? 'no links')
  assert.equal(rawResponse.headers.get('content-type'), 'message/rfc822')
  const { trace, message } = splitTrace(Buffer.from(await rawResponse.arrayBuffer()))
  assert.match(
    trace,
    new RegExp(`^Return-Path: <alice@example\\.net>\r\nDelivered-To: bob@${DOMAIN}\r\n`),
  )
  assert.match(trace, /^Received: from \S+ \(\[127\.0\.0\.1\]\)\r\n\tby /m)
  const raw = message.toString('utf8')
  const sentBytes = MESSAGE.replaceAll('\n', '\r\n')
  assert.ok(raw.endsWith(sentBytes), `raw ends with the submitted message:\n${raw}`)
  const prepended = raw.slice(0, raw.length - sentBytes.length)
  assert.match(prepended, /^Received: by mx\.mailbridge-test\.localhost \(Postfix/)
  assert.match(
    prepended,
    /^(?:[!-9;-~]+:.*\r\n(?:[ \t].*\r\n)*)+$/,
    'only header fields are prepended',
  )
})
