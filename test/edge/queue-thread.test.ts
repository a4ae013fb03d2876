/**
 * The edge's SQS sender thread against the emulator: each message gets its own answer,
 * and a worker that goes away fails what it held (SQS may have it, so not "refused")
 * instead of leaving it hanging; the next message starts a new worker.
 */
import assert from 'node:assert/strict'
import { after, before, beforeEach, test } from 'node:test'
import { GetQueueAttributesCommand, PurgeQueueCommand } from '@aws-sdk/client-sqs'
import { QueueSendError } from '../../edge/errors.ts'
import { QueueThread } from '../../edge/queue-thread.ts'
import { type Emulator, startEmulator } from '../helpers/emulator.ts'
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts'

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

async function queued(): Promise<number> {
  const { Attributes } = await emulator.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: emulator.ingestQueueUrl,
      AttributeNames: ['ApproximateNumberOfMessages'],
    }),
  )
  return Number(Attributes?.ApproximateNumberOfMessages)
}

test('every message gets its own SQS MessageId and is in the queue', async () => {
  const queue = thread()
  try {
    const bodies = Array.from({ length: 25 }, (_, i) => JSON.stringify({ n: i }))
    const ids = await Promise.all(bodies.map((body) => queue.send(body)))
    assert.equal(new Set(ids).size, bodies.length)
    assert.equal(await queued(), bodies.length)
  } finally {
    await queue.close()
  }
})

test('a worker that stops while holding messages fails them; the next one starts anew', async () => {
  const queue = thread()
  try {
    // Held by the proxy, so the worker still waits for SQS when it is stopped.
    proxy.fault = { target: 'SendMessageBatch', delayMs: 1000 }
    const held = queue.send('{"held":1}')
    await new Promise((resolve) => setTimeout(resolve, 300))
    await queue.close()
    await assert.rejects(held, (error) => error instanceof QueueSendError && !error.refused)

    proxy.fault = undefined
    assert.match(await queue.send('{"after":1}'), /\S/)
  } finally {
    await queue.close()
  }
})
