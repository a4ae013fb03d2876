/**
 * SIGTERM during a burst, with the real parts: Postfix delivers over the UNIX socket in
 * its chroot (`lmtp:unix:private/mailbridge-lmtp`, mode 0600, owner postfix) to the edge
 * running as its own process; the edge is stopped mid-burst and started again. Every
 * message Postfix saw answered 250 is in the queue, the rest are retried by Postfix, and
 * no message is queued twice.
 */
import assert from 'node:assert/strict'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { type EdgeProcess, startEdgeProcess } from '../helpers/edge-process.ts'
import { type Emulator, startEmulator } from '../helpers/emulator.ts'
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts'
import { type Postfix, startPostfix } from '../helpers/postfix.ts'
import { drainQueue } from '../helpers/queue.ts'
import { needCommands, needRoot } from '../helpers/system.ts'

const DOMAIN = 'shutdown.mailbridge.test'
const MESSAGES = 60
// Delivered messages seen in the maillog before the SIGTERM.
const SIGTERM_AFTER = 10
// Each SendMessageBatch is held this long, so that hand-offs are in flight at SIGTERM (ms).
const HANDOFF_DELAY_MS = 150
const SOCKET = 'private/mailbridge-lmtp'

let emulator: Emulator
let proxy: FaultProxy
let postfix: Postfix | undefined
let edge: EdgeProcess | undefined

before(async () => {
  emulator = await startEmulator({ MAILBRIDGE_DOMAINS: DOMAIN })
  proxy = await startFaultProxy(emulator.endpoint)
})

after(async () => {
  await edge?.stop('SIGKILL')
  await postfix?.stop()
  await proxy.close()
  await emulator.stop()
})

function edgeEnv(socketPath: string): NodeJS.ProcessEnv {
  return {
    ...emulator.env(proxy.endpoint),
    MAILBRIDGE_DOMAINS: DOMAIN,
    MAILBRIDGE_LMTP_PORT: 'off',
    MAILBRIDGE_LMTP_SOCKET: socketPath,
    MAILBRIDGE_LMTP_SOCKET_MODE: '0600',
    MAILBRIDGE_LMTP_SOCKET_OWNER: 'postfix',
    MAILBRIDGE_LMTP_SOCKET_GROUP: 'postfix',
    MAILBRIDGE_EDGE_HTTP_PORT: 'off',
  }
}

function message(index: number): string {
  return [
    'From: burst@example.net',
    `To: rcpt${index}@${DOMAIN}`,
    `Subject: burst ${index}`,
    `Message-ID: <burst-${index}@example.net>`,
    '',
    `message ${index}`,
    '',
  ].join('\n')
}

test('SIGTERM during a burst: every 250 is queued, the rest retried, none twice', async (t) => {
  if (!needCommands(t, ['postfix', 'sendmail', 'postqueue'])) return
  if (!needRoot(t)) return
  // Prepare: Postfix with a chrooted lmtp client, the edge on private/ in its queue dir.
  postfix = await startPostfix({
    domain: DOMAIN,
    lmtp: { socketPath: SOCKET },
    chrootLmtp: true,
  })
  const socketPath = join(postfix.queueDir, SOCKET)
  proxy.fault = { target: 'SendMessageBatch', delayMs: HANDOFF_DELAY_MS }
  edge = await startEdgeProcess(edgeEnv(socketPath))
  const { uid: postfixUid } = await stat(join(postfix.queueDir, 'private'))
  const socket = await stat(socketPath)
  assert.ok(socket.isSocket())
  assert.equal(socket.mode & 0o777, 0o600)
  assert.equal(socket.uid, postfixUid, 'the socket belongs to postfix')

  // Act: the burst, and SIGTERM once some of it is delivered.
  const submitted = Promise.all(
    Array.from({ length: MESSAGES }, (_, i) =>
      postfix?.submit('burst@example.net', [`rcpt${i}@${DOMAIN}`], message(i)),
    ),
  )
  await postfix.waitForLog(/status=sent \(250 /, 30_000, SIGTERM_AFTER)
  const exitCode = await edge.stop('SIGTERM')
  await submitted
  const acknowledged = [
    ...(await postfix.maillog()).matchAll(/status=sent \(250 2\.0\.0 Ok: queued as (\w+)\)/g),
  ].map((match) => match[1])
  const queuedBeforeRestart = await drainQueue(emulator.sqs, emulator.ingestQueueUrl)

  // Assess the stop: a clean exit, and every 250 Postfix saw is in the queue.
  assert.equal(exitCode, 0, edge.output())
  assert.ok(acknowledged.length >= SIGTERM_AFTER)
  assert.ok(acknowledged.length < MESSAGES, 'the SIGTERM came in the middle of the burst')
  const queuedIds = new Set(queuedBeforeRestart.map((queued) => queued.id))
  assert.deepEqual(
    acknowledged.filter((id) => !queuedIds.has(id as string)),
    [],
    'acknowledged but not queued',
  )
  assert.equal(queuedBeforeRestart.length, acknowledged.length, 'queued but not acknowledged')

  // Act again: the edge comes back (over the stale socket file) and Postfix retries.
  proxy.fault = undefined
  edge = await startEdgeProcess(edgeEnv(socketPath))
  await postfix.flush()
  await postfix.waitForLog(/status=sent \(250 /, 60_000, MESSAGES)
  const queuedAfterRestart = await drainQueue(emulator.sqs, emulator.ingestQueueUrl)

  // Assess: all delivered, each exactly once.
  const subjects = [...queuedBeforeRestart, ...queuedAfterRestart].map((queued) => {
    const raw = 'base64' in queued.raw ? Buffer.from(queued.raw.base64, 'base64') : Buffer.alloc(0)
    return /^Subject: (burst \d+)\r$/m.exec(raw.toString())?.[1]
  })
  assert.equal(subjects.length, MESSAGES, 'as many queued as sent')
  assert.equal(new Set(subjects).size, MESSAGES, 'no message queued twice')
  assert.match(await postfix.queue(), /Mail queue is empty/)
  assert.match(await postfix.maillog(), /status=deferred/, 'Postfix kept and retried the rest')
})
