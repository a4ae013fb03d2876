import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isMessageId, messageIdTime, newMessageId } from '../../shared/message-id.ts'

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

test('a non-id is refused', () => {
  assert.equal(isMessageId('01j0000000000000000000000a'), false)
  assert.equal(isMessageId('short'), false)
  assert.equal(isMessageId('not-an-id-but-26-chars-long'), false)
})
