/**
 * The one doubling the edge cannot prevent alone, with real Postfix: SQS stores a message
 * but its answer comes after the edge's timeout, so the edge answers 451 and Postfix
 * delivers the same message again later, under a new edge id. Both are queued; ingest
 * stores the message once (functions/ingest/retries.ts).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { ingest } from '../../functions/ingest/ingest.ts'
import { startTestEdge } from '../helpers/edge.ts'
import { type Emulator, ingestDeps, startEmulator } from '../helpers/emulator.ts'
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts'
import { type Postfix, startPostfix } from '../helpers/postfix.ts'
import { drainQueue } from '../helpers/queue.ts'
import { needCommands } from '../helpers/system.ts'
import { splitTrace } from '../helpers/trace.ts'

const DOMAIN = 'retry.mailbridge.test'
// The edge gives up on SQS after 1 s; the proxy passes SQS's answer on after 2.5 s.
const TIMEOUTS = { connectionTimeout: 1000, requestTimeout: 1000 }
const ANSWER_DELAY_MS = 2500
const MESSAGE = [
  'From: alice@example.net',
  `To: bob@${DOMAIN}`,
  'Subject: late answer',
  'Message-ID: <retry-1@example.net>',
  '',
  'Sent once, delivered twice, stored once.',
  '',
].join('\n')

let emulator: Emulator
let proxy: FaultProxy
let postfix: Postfix | undefined

before(async () => {
  emulator = await startEmulator({ MAILBRIDGE_DOMAINS: DOMAIN })
  proxy = await startFaultProxy(emulator.endpoint)
})

after(async () => {
  await postfix?.stop()
  await proxy.close()
  await emulator.stop()
})

test('SQS answers too late: 451, Postfix retries, ingest stores the message once', async (t) => {
  if (!needCommands(t, ['postfix', 'sendmail', 'postqueue'])) return
  // Prepare: the edge's SDK clients go through the proxy, which delays SQS's answers.
  const via = { endpoint: proxy.endpoint, timeouts: TIMEOUTS }
  const edge = await startTestEdge(emulator, { s3: via, sqs: via, sendTimeoutMs: 1000 })
  t.after(() => edge.close())
  postfix = await startPostfix({ domain: DOMAIN, lmtp: edge.lmtp })
  proxy.fault = { target: 'SendMessageBatch', answerDelayMs: ANSWER_DELAY_MS }

  // Act: the first try is stored in SQS but answered 451; then Postfix tries again.
  await postfix.submit('alice@example.net', [`bob@${DOMAIN}`], MESSAGE)
  await postfix.waitForLog(/status=deferred .*451 4\.3\.0/, 30_000)
  await new Promise((resolve) => setTimeout(resolve, ANSWER_DELAY_MS))
  proxy.fault = undefined
  await postfix.flush()
  await postfix.waitForLog(/status=sent \(250 2\.0\.0 /, 30_000)

  // Assess: every try is queued (Postfix may have tried more than twice while the answers
  // were late), each under its own id, with the same bytes behind its own trace headers.
  const queued = await drainQueue(emulator.sqs, emulator.ingestQueueUrl)
  assert.ok(
    queued.length >= 2,
    `the late-answered tries and the retry are queued: ${queued.length}`,
  )
  assert.equal(new Set(queued.map((message) => message.id)).size, queued.length)
  const [first, ...again] = queued.map((message) => {
    assert.ok('base64' in message.raw)
    return splitTrace(Buffer.from(message.raw.base64, 'base64')).message
  })
  for (const bytes of again) assert.ok(bytes.equals(first as Buffer), 'Postfix sent the same bytes')

  // Ingest them all: one message in the mailbox.
  const deps = ingestDeps(emulator, 'postfix-retry')
  for (const message of queued) await ingest(JSON.stringify(message), deps)
  const stored = (await deps.stores.mailboxes.page(`bob@${DOMAIN}`, 10)).items
  assert.deepEqual(
    stored.map((message) => [message.id, message.subject]),
    [[queued[0]?.id, 'late answer']],
  )
})
