/**
 * The edge's SQS sender thread against the emulator: each message gets its own answer,
 * and a worker that goes away fails what it held (SQS may have it, so not "refused")
 * instead of leaving it hanging; the next message starts a new worker.
 */
import assert from 'node:assert/strict'
import { after, before, beforeEach, test } from 'node:test'
import { PurgeQueueCommand } from '@aws-sdk/client-sqs'
import { QueueSendError } from '../../edge/errors.ts'
import { QueueThread } from '../../edge/queue-thread.ts'
import { type Emulator, startEmulator } from '../helpers/emulator.ts'
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts'
import { drainQueue } from '../helpers/queue.ts'

let emulator: Emulator
let proxy: FaultProxy

before(async () => {
  emulator = await startEmulator()
  proxy = await startFaultProxy(emulator.endpoint)
})

beforeEach(async () => {
  proxy.fault = undefined
  await emulator.sqs.send(new PurgeQueueCommand({ QueueUrl: emulator.ingestQueueUrl }))
})

after(async () => {
  await proxy.close()
  await emulator.stop()
})

function thread(): QueueThread {
  return new QueueThread({
    aws: { ...emulator.config.aws, endpoint: proxy.endpoint },
    queueUrl: emulator.ingestQueueUrl,
    maxBatchBytes: emulator.config.edge.queueMessageMaxBytes,
    timeoutMs: 5000,
  })
}

/** Every message now in the queue (deleted from it): MessageId → body. */
async function receiveAll(): Promise<Map<string, string | undefined>> {
  const messages = await drainQueue(emulator.sqs, emulator.ingestQueueUrl, (message) => {
    return [message.MessageId ?? '', message.Body] as const
  })
  return new Map(messages)
}

test('every message is answered with the SQS MessageId of its own body', async () => {
  const queue = thread()
  try {
    const bodies = Array.from({ length: 25 }, (_, i) => JSON.stringify({ n: i }))
    const ids = await Promise.all(bodies.map((body) => queue.send(body)))
    const stored = await receiveAll()
    assert.equal(stored.size, bodies.length)
    for (const [index, id] of ids.entries()) assert.equal(stored.get(id), bodies[index], id)
  } finally {
    await queue.close()
  }
})

test('a worker that stops while holding messages fails them; the next one starts anew', async () => {
  const queue = thread()
  try {
    // A first message, so that the worker is up and its SDK loaded.
    await queue.send('{"first":1}')
    // Held by the proxy, so the worker still waits for SQS when it is stopped.
    proxy.fault = { target: 'SendMessageBatch', delayMs: 2000 }
    const held = queue.send('{"held":1}')
    await new Promise((resolve) => setTimeout(resolve, 300))
    await queue.close()
    await assert.rejects(held, (error) => error instanceof QueueSendError && !error.refused)

    proxy.fault = undefined
    const id = await queue.send('{"after":1}')
    assert.equal((await receiveAll()).get(id), '{"after":1}')
  } finally {
    await queue.close()
  }
})
