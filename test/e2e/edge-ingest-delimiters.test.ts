/**
 * The edge and ingest split plus-addresses alike, whatever each one's own setting.
 *
 * Found in review: on AWS the edge reads MAILBRIDGE_RECIPIENT_DELIMITER from the mail
 * host's edge.env and ingest from the function's environment, which the stack does not set.
 * With `-` on the edge, `bob-news@` was accepted (and its quota checked) as bob's, then
 * stored by ingest in a mailbox of its own, or dropped as unrouted. The edge now says in
 * each queued message which delimiters it decided with, and ingest splits with those.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startRecipientCheck } from '../../edge/recipients.ts'
import { createLogger } from '../../shared/logger.ts'
import type { RouteSnapshot } from '../../shared/store/route-snapshot.ts'
import { startTestEdge, type TestEdge } from '../helpers/edge.ts'
import {
  type Emulator,
  idsIn,
  ingestMessages,
  readMessage,
  startEmulator,
} from '../helpers/emulator.ts'
import { swaksLmtp } from '../helpers/lmtp-clients.ts'
import { drainQueue } from '../helpers/queue.ts'

const DOMAIN = 'delimiters.test'

let emulator: Emulator
let edge: TestEdge
let routes: RouteSnapshot

before(async () => {
  // Ingest's own setting: `+`, the default.
  emulator = await startEmulator({ MAILBRIDGE_DOMAINS: DOMAIN })
  // The edge's: `-`, as a mail host with Postfix's recipient_delimiter = - would have it.
  const config = { ...emulator.config, routing: { ...emulator.config.routing, delimiters: '-' } }
  const started = await startRecipientCheck({
    config,
    s3: emulator.s3,
    dynamodb: emulator.root.clients.dynamodb,
    logger: createLogger('test-edge'),
  })
  routes = started.routes
  edge = await startTestEdge(emulator, { recipients: started.check })
})

after(async () => {
  routes?.stop()
  await edge?.close()
  await emulator?.stop()
})

test('a plus-address the edge accepted lands in the mailbox it was accepted for', async () => {
  const sent = await swaksLmtp(edge.lmtp, {
    from: 'alice@example.net',
    to: [`bob-news@${DOMAIN}`],
    data: `From: alice@example.net\nTo: bob-news@${DOMAIN}\nSubject: tagged\n\nhello\n`,
  })
  assert.equal(sent.exitCode, 0, sent.transcript)
  const queued = await drainQueue(emulator.sqs, emulator.ingestQueueUrl)
  assert.equal(queued.length, 1)
  assert.equal(queued[0]?.delimiters, '-', 'the edge says how it split')

  await ingestMessages(emulator, ...queued)

  const id = queued[0]?.id as string
  assert.deepEqual(await idsIn(emulator, `bob@${DOMAIN}`), [id])
  assert.deepEqual(await idsIn(emulator, `bob-news@${DOMAIN}`), [])
  const stored = await readMessage(emulator, `bob@${DOMAIN}`, id)
  assert.equal(stored?.mailboxHash, 'news')
})
