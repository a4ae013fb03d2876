import assert from 'node:assert/strict'
import { test } from 'node:test'
import { EndpointLimiter } from '../../functions/deliver/limiter.ts'

test('an endpoint at its limit hands a freed slot to a waiter; a long wait gives up; others are unaffected', async () => {
  const limiter = new EndpointLimiter()
  assert.equal(await limiter.acquire('slow', 2, 50), true)
  assert.equal(await limiter.acquire('slow', 2, 50), true)
  const waiter = limiter.acquire('slow', 2, 1000)
  assert.equal(await limiter.acquire('fast', 2, 50), true, 'another endpoint has slots of its own')
  limiter.release('slow')
  assert.equal(await waiter, true)
  assert.equal(await limiter.acquire('slow', 2, 20), false, 'no slot within the wait')
  limiter.release('slow')
  limiter.release('slow')
  assert.equal(await limiter.acquire('slow', 2, 20), true)
})
