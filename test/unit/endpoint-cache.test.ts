import assert from 'node:assert/strict'
import { once } from 'node:events'
import { test } from 'node:test'
import { Worker } from 'node:worker_threads'
import type { WebhookEndpoint } from '../../shared/contracts/webhook.ts'
import { EndpointCache } from '../../shared/store/endpoint-cache.ts'
import { announceEndpointChange, endpointGeneration } from '../../shared/store/endpoint-changes.ts'
import type { Listeners } from '../../shared/store/endpoints.ts'

/** A store that counts its reads and answers from a map the test changes. */
function countingStore() {
  const subscribers = new Map<string, string[]>([['a@x.test', ['wh_a']]])
  const reads = { get: 0, listeners: [] as string[][] }
  let failNext = false
  return {
    subscribers,
    reads,
    failNextRead() {
      failNext = true
    },
    async get(id: string) {
      reads.get++
      return { id } as WebhookEndpoint
    },
    async listeners(mailboxes: string[], routes: string[]): Promise<Listeners> {
      reads.listeners.push([...mailboxes, ...routes])
      if (failNext) {
        failNext = false
        throw new Error('table unreachable')
      }
      return {
        byMailbox: new Map(mailboxes.map((m) => [m, subscribers.get(m) ?? []])),
        byRoute: new Map(routes.map((r) => [r, []])),
        everywhere: ['wh_all'],
      }
    },
  }
}

test('copies serve for their max age, then the store is read again', async () => {
  const store = countingStore()
  let now = 1_000_000
  const cache = new EndpointCache(store, { maxAgeMs: 1000, clock: () => now })
  const first = await cache.listeners(['a@x.test'], [])
  assert.deepEqual(first.byMailbox.get('a@x.test'), ['wh_a'])
  assert.deepEqual(first.everywhere, ['wh_all'])
  await cache.get('wh_a')
  now += 999
  await cache.listeners(['a@x.test'], [])
  await cache.get('wh_a')
  assert.deepEqual(store.reads.listeners, [['a@x.test']], 'one read of the subscriptions')
  assert.equal(store.reads.get, 1, 'one read of the endpoint')
  // Only what has no copy is read: the second mailbox alone.
  await cache.listeners(['a@x.test', 'b@x.test'], [])
  assert.deepEqual(store.reads.listeners.at(-1), ['b@x.test'])
  now += 1
  store.subscribers.set('a@x.test', ['wh_a', 'wh_new'])
  const later = await cache.listeners(['a@x.test'], [])
  assert.deepEqual(later.byMailbox.get('a@x.test'), ['wh_a', 'wh_new'], 'read afresh at max age')
  await cache.get('wh_a')
  assert.equal(store.reads.get, 2)
})

test('an announced change makes the next lookup read the store, in this thread at once', async () => {
  const store = countingStore()
  const cache = new EndpointCache(store)
  await cache.listeners(['a@x.test'], [])
  await cache.get('wh_a')
  store.subscribers.set('a@x.test', [])
  announceEndpointChange()
  const after = await cache.listeners(['a@x.test'], [])
  assert.deepEqual(after.byMailbox.get('a@x.test'), [], 'the unsubscribed endpoint is gone')
  await cache.get('wh_a')
  assert.equal(store.reads.listeners.length, 2)
  assert.equal(store.reads.get, 2)
})

test('a change announced in another thread reaches this one (local mode: API in main, functions in a worker)', async () => {
  const before = endpointGeneration()
  const worker = new Worker(
    `const { BroadcastChannel } = require('node:worker_threads')
     const channel = new BroadcastChannel('mailbridge:endpoints')
     channel.postMessage('changed')
     channel.close()`,
    { eval: true },
  )
  await once(worker, 'exit')
  // The word arrives as a message event: wait for it, up to a second.
  for (let waited = 0; endpointGeneration() === before && waited < 1000; waited += 10) {
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  assert.notEqual(endpointGeneration(), before, 'the generation moved on')
})

test('a failed read is not kept: the next lookup reads again', async () => {
  const store = countingStore()
  const cache = new EndpointCache(store)
  store.failNextRead()
  await assert.rejects(cache.listeners(['a@x.test'], []), /table unreachable/)
  const retried = await cache.listeners(['a@x.test'], [])
  assert.deepEqual(retried.byMailbox.get('a@x.test'), ['wh_a'])
  assert.equal(store.reads.listeners.length, 2)
})
