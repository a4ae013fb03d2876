import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseQueuedMessage, parseWebhookJob } from '../../shared/contracts/queue.ts'
import { MalformedRecordError } from '../../shared/errors.ts'
import { queuedMessage } from '../helpers/factories.ts'

test('a queued message survives the queue as JSON', () => {
  const queued = queuedMessage('Subject: x\r\n\r\nbody\r\n', ['a@example.com', 'b@example.com'])
  assert.deepEqual(parseQueuedMessage(JSON.stringify(queued)), queued)
})

test('the staged form points at S3', () => {
  const queued = queuedMessage('x', ['a@example.com'], {
    raw: { s3: { bucket: 'b', key: 'incoming/x.eml' } },
  })
  assert.deepEqual(parseQueuedMessage(JSON.stringify(queued)).raw, {
    s3: { bucket: 'b', key: 'incoming/x.eml' },
  })
})

test('malformed records are refused with a reason', () => {
  assert.throws(() => parseQueuedMessage('not json'), MalformedRecordError)
  const noRecipients = {
    ...queuedMessage('x', ['a@example.com']),
    envelope: { mailFrom: '', rcptTo: [] },
  }
  assert.throws(() => parseQueuedMessage(JSON.stringify(noRecipients)), /rcptTo/)
  assert.throws(() => parseQueuedMessage(JSON.stringify({ ...noRecipients, v: 2 })), /v/)
  assert.throws(() => parseWebhookJob('{"v":1}'), MalformedRecordError)
})
