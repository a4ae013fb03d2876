import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseQueuedMessage, queueBody, queueStringBytes } from '../../shared/contracts/queue.ts'
import { parseWebhookJob } from '../../shared/contracts/webhook-job.ts'
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

test('a queue body is pure ASCII and parses back to the same addresses, whatever they hold', () => {
  // SQS refuses U+FFFE and U+FFFF; lone surrogates are not even Unicode text.
  const odd = ['u\uffff@x', 'u\ufffe@x', 'e\u{1f600}@x', 'l\ud800@x', 'c\u0001\u007f@x', 'é@x']
  const queued = queuedMessage('x', odd, { envelope: { mailFrom: 'ü\u{10ffff}@y', rcptTo: odd } })
  const body = queueBody(queued)
  assert.match(body, /^[\x20-\x7e]*$/)
  assert.deepEqual(parseQueuedMessage(body), queued)
  assert.equal(queueStringBytes('e\u{1f600}'), '"e\\ud83d\\ude00"'.length)
})
