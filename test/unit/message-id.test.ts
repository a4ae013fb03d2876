import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  invertMessageId,
  isMessageId,
  messageIdTime,
  newMessageId,
} from '../../shared/message-id.ts'

test('message ids sort by receive time, even within one millisecond', () => {
  const now = Date.UTC(2026, 10, 25, 12, 0, 0)
  const ids = [
    newMessageId(now),
    newMessageId(now),
    newMessageId(now + 1),
    newMessageId(now + 1000),
  ]
  assert.deepEqual([...ids].sort(), ids)
  assert.equal(new Set(ids).size, ids.length)
  assert.equal(messageIdTime(ids[0] as string), now)
  for (const id of ids) assert.ok(isMessageId(id), id)
})

test('inverted ids sort newest first', () => {
  const ids = Array.from({ length: 50 }, (_, i) => newMessageId(1_700_000_000_000 + i * 7))
  const inverted = ids.map(invertMessageId)
  const byInverted = [...inverted].sort().map((key) => ids[inverted.indexOf(key)])
  assert.deepEqual(byInverted, [...ids].reverse())
})

test('inverting twice gives the id back; a non-id is refused', () => {
  const id = newMessageId()
  assert.equal(invertMessageId(invertMessageId(id)), id)
  assert.equal(invertMessageId('00000000000000000000000000'), 'ZZZZZZZZZZZZZZZZZZZZZZZZZZ')
  assert.throws(() => invertMessageId('not-an-id'), RangeError)
  assert.equal(isMessageId('01j0000000000000000000000a'), false)
  assert.equal(isMessageId('short'), false)
})
