/**
 * Ingest's budget of bytes in flight (functions/ingest/memory-budget.ts): found in review,
 * a batch of ten large messages ran all at once and could take more memory than a Lambda
 * has. Tasks here hold their bytes until released by the test, so what runs at once is seen.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setImmediate } from 'node:timers/promises'
import { ByteBudget } from '../../functions/ingest/memory-budget.ts'

/** Tasks of these sizes on one budget; each runs until finish(index). */
function tasks(budget: ByteBudget, sizes: number[]) {
  const running = new Set<number>()
  let peak = 0
  const finishers = new Map<number, () => void>()
  const done = sizes.map((bytes, index) =>
    budget.run(bytes, async () => {
      running.add(index)
      peak = Math.max(
        peak,
        [...running].reduce((sum, i) => sum + (sizes[i] as number), 0),
      )
      await new Promise<void>((resolve) => finishers.set(index, resolve))
      running.delete(index)
      return index
    }),
  )
  return {
    running: () => [...running].sort(),
    peak: () => peak,
    finish: async (index: number) => {
      finishers.get(index)?.()
      await setImmediate()
      await setImmediate()
    },
    done,
  }
}

test('small messages run side by side; a big one waits for room', async () => {
  const run = tasks(new ByteBudget(100, 1), [30, 30, 30, 60])
  await setImmediate()
  assert.deepEqual(run.running(), [0, 1, 2], 'the three small ones at once, not the 60')
  await run.finish(0)
  assert.deepEqual(run.running(), [1, 2], 'still no room for 60')
  await run.finish(1)
  assert.deepEqual(run.running(), [2, 3])
  await run.finish(2)
  await run.finish(3)
  assert.deepEqual(await Promise.all(run.done), [0, 1, 2, 3])
  assert.ok(run.peak() <= 100, `at most the budget at once: ${run.peak()}`)
})

test('a message bigger than the whole budget runs alone, and does not wait for ever', async () => {
  const run = tasks(new ByteBudget(100, 1), [10, 500, 10])
  await setImmediate()
  assert.deepEqual(run.running(), [0])
  await run.finish(0)
  assert.deepEqual(run.running(), [1], 'the big one alone')
  await run.finish(1)
  assert.deepEqual(run.running(), [2])
  await run.finish(2)
  assert.deepEqual(await Promise.all(run.done), [0, 1, 2])
})
