/**
 * Routing with real parts: the bridge as local mode runs it, seeded from a routes file,
 * real LMTP clients (Python's smtplib.LMTP, swaks) and a real Postfix. A regex route with
 * a capture, a plus-address and a catch-all land where they should; an unrouted recipient
 * is refused at RCPT time (Postfix bounces it at once); a route added through the API is
 * honoured by the running edge; a mailbox at its quota gets 452 4.2.2 and Postfix defers.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { StoredMessage } from '../../shared/contracts/message.ts'
import type { WebhookPayload } from '../../shared/contracts/payload.ts'
import {
  startTestBridge,
  startWebhookReceiver,
  type TestBridge,
  type WebhookReceiver,
} from '../helpers/bridge.ts'
import { pythonLmtp, swaksLmtp } from '../helpers/lmtp-clients.ts'
import { type Postfix, startPostfix } from '../helpers/postfix.ts'
import { needCommands } from '../helpers/system.ts'

const DOMAIN = 'route.test'
const ROUTES = {
  routes: [
    {
      id: 'archive',
      priority: 10,
      match: { recipient: { type: 'regex', value: '^(?<user>[a-z]+)\\.old@route\\.test$' } },
      actions: [{ type: 'store', mailbox: '{user}@archive.route.test' }, { type: 'stop' }],
    },
    {
      id: 'bob',
      priority: 20,
      match: { recipient: { type: 'exact', value: 'bob@route.test' } },
      actions: [{ type: 'store' }],
    },
    {
      id: 'full',
      priority: 20,
      match: { recipient: { type: 'exact', value: 'full@route.test' } },
      actions: [{ type: 'store' }],
      quota: { messages: 1 },
    },
  ],
}

function message(subject: string): string {
  return [
    'From: Alice <alice@example.net>',
    `To: bob@${DOMAIN}`,
    `Subject: ${subject}`,
    `Message-ID: <${subject.replaceAll(' ', '-')}@example.net>`,
    '',
    'Routed.',
    '',
  ].join('\r\n')
}

let dir: string
let bridge: TestBridge
let receiver: WebhookReceiver
let postfix: Postfix | undefined

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailbridge-routing-'))
  const file = join(dir, 'routes.json')
  await writeFile(file, JSON.stringify(ROUTES))
  bridge = await startTestBridge({ MAILBRIDGE_DOMAINS: DOMAIN, MAILBRIDGE_ROUTES_FILE: file })
  receiver = await startWebhookReceiver()
})

after(async () => {
  await postfix?.stop()
  await receiver.close()
  await bridge.stop()
  await rm(dir, { recursive: true, force: true })
})

/** The mailbox's messages once `count` are there (ingest runs in the background). */
async function messagesIn(mailbox: string, count: number): Promise<StoredMessage[]> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const page = await bridge.request(`/v1/mailboxes/${encodeURIComponent(mailbox)}/messages`)
    const { messages } = (await page.json()) as { messages: Array<{ id: string }> }
    if (messages.length >= count) {
      return Promise.all(
        messages.map(async ({ id }) => {
          const path = `/v1/mailboxes/${encodeURIComponent(mailbox)}/messages/${id}`
          return (await (await bridge.request(path)).json()) as StoredMessage
        }),
      )
    }
    if (Date.now() > deadline) throw new Error(`${mailbox} has ${messages.length} of ${count}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

test('a regex capture and a plus-address land where they should; an unrouted recipient gets 550 5.1.1', async (t) => {
  if (!needCommands(t, ['python3'])) return
  const created = await bridge.request('/v1/webhooks', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: receiver.url, mailbox: `bob@${DOMAIN}` }),
  })
  assert.equal(created.status, 201)
  // And an endpoint that listens to the archive route rather than to a mailbox.
  const listener = await bridge.request('/v1/webhooks', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: `${receiver.url}?route`, routes: ['archive'] }),
  })
  assert.equal(listener.status, 201, await listener.clone().text())

  const result = await pythonLmtp(bridge.lmtp, {
    from: 'alice@example.net',
    to: [`bob+news@${DOMAIN}`, `carol.old@${DOMAIN}`, `eve@${DOMAIN}`],
    data: message('routed by rules'),
  })
  assert.deepEqual(
    result.rcpt.map((reply) => reply.code),
    [250, 250, 550],
  )
  assert.match(result.rcpt[2]?.message ?? '', /^5\.1\.1 <eve@route\.test>: no route accepts/)
  assert.deepEqual(
    result.data.map((reply) => reply.code),
    [250, 250],
  )

  const [bob] = await messagesIn(`bob@${DOMAIN}`, 1)
  assert.equal(bob?.mailboxHash, 'news')
  assert.deepEqual(bob?.envelope.rcptTo, [`bob+news@${DOMAIN}`])
  const [carol] = await messagesIn('carol@archive.route.test', 1)
  assert.equal(carol?.id, bob?.id)
  assert.equal(carol?.mailboxHash, null)
  // Nothing was queued for eve: the stored envelope never names her.
  const stored = await bridge.emulator.root.stores.messages.getParsed(bob?.id ?? '')
  assert.deepEqual(stored?.envelope.rcptTo, [`bob+news@${DOMAIN}`, `carol.old@${DOMAIN}`])

  // Summaries and webhook payloads carry the tag too.
  const page = await bridge.request(`/v1/mailboxes/${encodeURIComponent(`bob@${DOMAIN}`)}/messages`)
  const { messages } = (await page.json()) as { messages: Array<{ mailboxHash: string | null }> }
  assert.equal(messages[0]?.mailboxHash, 'news')
  const payloads = (await receiver.waitFor(2)).map(
    (webhook) => JSON.parse(webhook.body) as WebhookPayload,
  )
  const toBob = payloads.find((payload) => payload.data.mailboxes.includes(`bob@${DOMAIN}`))
  assert.equal(toBob?.data.mailboxHash, 'news')
  assert.deepEqual(toBob?.data.envelope.rcptTo, [`bob+news@${DOMAIN}`])
  // The route's listener hears of carol's copy only: the recipient its route matched.
  const toRoute = payloads.find((payload) => payload !== toBob)
  assert.deepEqual(toRoute?.data.mailboxes, ['carol@archive.route.test'])
  assert.deepEqual(toRoute?.data.envelope.rcptTo, [`carol.old@${DOMAIN}`])
})

test('Postfix bounces an unrouted recipient at once, and defers one over quota', async (t) => {
  if (!needCommands(t, ['postfix', 'sendmail', 'postqueue'])) return
  postfix = await startPostfix({ domain: DOMAIN, lmtp: bridge.lmtp })

  await postfix.submit('alice@example.net', [`nobody@${DOMAIN}`], message('to nobody'))
  const bounced = await postfix.waitForLog(/to=<nobody@route\.test>.*status=bounced/, 30_000)
  assert.match(bounced, /said: 550 5\.1\.1 <nobody@route\.test>: no route accepts/)

  // The first message fills full@'s quota of one; the second is deferred, not bounced.
  await postfix.submit('alice@example.net', [`full@${DOMAIN}`], message('first for full'))
  await postfix.waitForLog(/to=<full@route\.test>.*status=sent \(250 2\.0\.0 /, 30_000)
  await messagesIn(`full@${DOMAIN}`, 1)
  await postfix.submit('alice@example.net', [`full@${DOMAIN}`], message('second for full'))
  const deferred = await postfix.waitForLog(/to=<full@route\.test>.*status=deferred/, 30_000)
  assert.match(deferred, /452 4\.2\.2 <full@route\.test>: Mailbox is full/)
  assert.match(await postfix.queue(), /full@route\.test/)
})

test("a mailbox's own quota, set through the API, bounces at RCPT time with 552 5.2.2", async (t) => {
  if (!needCommands(t, ['python3'])) return
  // bob got one message in the first test; a quota of one is now used up.
  const path = `/v1/mailboxes/${encodeURIComponent(`bob@${DOMAIN}`)}/quota`
  const set = await bridge.request(path, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: 1, reply: 'permanent' }),
  })
  assert.equal(set.status, 200)
  const result = await pythonLmtp(bridge.lmtp, {
    from: 'alice@example.net',
    to: [`bob+again@${DOMAIN}`, `carol.old@${DOMAIN}`],
    data: message('over the quota'),
  })
  assert.deepEqual(
    result.rcpt.map((reply) => reply.code),
    [552, 250],
  )
  assert.match(result.rcpt[0]?.message ?? '', /^5\.2\.2 <bob\+again@route\.test>: Mailbox is full/)
  await bridge.request(path, { method: 'DELETE' })
})

test('a catch-all added through the API is honoured by the running edge at once', async (t) => {
  if (!needCommands(t, ['swaks'])) return
  const refused = await swaksLmtp(bridge.lmtp, {
    from: 'alice@example.net',
    to: [`dave@${DOMAIN}`],
    data: message('before the catch-all'),
  })
  assert.match(refused.transcript, /^<\*\* 550 5\.1\.1 <dave@route\.test>/m)

  const res = await bridge.request('/v1/routes', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      priority: 1000,
      description: 'everyone else',
      match: { recipient: { type: 'catchAll' } },
      actions: [{ type: 'store' }],
    }),
  })
  assert.equal(res.status, 201)

  const accepted = await swaksLmtp(bridge.lmtp, {
    from: 'alice@example.net',
    to: [`dave+x@${DOMAIN}`],
    data: message('after the catch-all'),
  })
  assert.equal(accepted.exitCode, 0, accepted.transcript)
  const [dave] = await messagesIn(`dave@${DOMAIN}`, 1)
  assert.equal(dave?.subject, 'after the catch-all')
  assert.equal(dave?.mailboxHash, 'x')
})
