import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  MAX_ATTEMPTS,
  nextStep,
  RETRY_AFTER_MAX_MS,
  RETRY_DELAYS_MS,
  retryAfterMs,
  retryDelay,
} from '../../functions/deliver/schedule.ts'

const mid = () => 0.5

test('the schedule spans about three days in ten attempts, with jitter', () => {
  assert.equal(MAX_ATTEMPTS, 10)
  const total = RETRY_DELAYS_MS.reduce((sum, ms) => sum + ms, 0)
  assert.ok(total > 3 * 24 * 3600_000 && total < 3.5 * 24 * 3600_000)
  assert.equal(retryDelay(1, mid), 5000)
  assert.equal(
    retryDelay(1, () => 0),
    4000,
  )
  assert.equal(
    retryDelay(1, () => 0.999999),
    6000,
  )
  assert.equal(retryDelay(10, mid), undefined)
})

test('2xx delivers, 410 is gone, others retry until the last attempt fails', () => {
  assert.deepEqual(nextStep({ status: 204 }, 1, 0, mid), { kind: 'delivered' })
  assert.deepEqual(nextStep({ status: 410 }, 1, 0, mid), { kind: 'gone' })
  assert.deepEqual(nextStep({ status: 500 }, 2, 0, mid), { kind: 'retry', retryAt: 300_000 })
  assert.deepEqual(nextStep({}, 1, 0, mid), { kind: 'retry', retryAt: 5000 })
  assert.deepEqual(nextStep({ status: 500 }, 10, 0, mid), { kind: 'failed' })
})

test('429, 502 and 503 pause the endpoint, honouring Retry-After within bounds', () => {
  assert.deepEqual(nextStep({ status: 429, retryAfter: '120' }, 1, 0, mid), {
    kind: 'retry',
    retryAt: 120_000,
    pauseEndpointUntil: 120_000,
  })
  const huge = nextStep({ status: 503, retryAfter: '999999' }, 1, 0, mid)
  assert.deepEqual(huge, {
    kind: 'retry',
    retryAt: RETRY_AFTER_MAX_MS,
    pauseEndpointUntil: RETRY_AFTER_MAX_MS,
  })
  // The schedule's delay wins when longer than what the receiver asked.
  const late = nextStep({ status: 502, retryAfter: '1' }, 3, 0, mid)
  assert.deepEqual(late, { kind: 'retry', retryAt: 1_800_000, pauseEndpointUntil: 1000 })
  assert.equal(
    retryAfterMs('Wed, 21 Oct 2015 07:28:30 GMT', Date.parse('2015-10-21T07:28:00Z')),
    30_000,
  )
  assert.equal(retryAfterMs('soon', 0), undefined)
  assert.equal(retryAfterMs('0', 0), 1000)
})
