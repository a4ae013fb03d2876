/**
 * The mail store's contract, as ingest writes it: each message stored, counted and notified
 * once, however often and however concurrently its record comes; counters exact; the bytes
 * kept while any mailbox holds them; any address. Against the real emulators (fauxqs for
 * S3 and SQS, dynalite for DynamoDB) over HTTP; reads are in store-reads.test.ts. Each test
 * has mailboxes of its own.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb'
import { Batch } from '../../functions/ingest/batch.ts'
import { createIngestHandler, ingest as ingestRecord } from '../../functions/ingest/ingest.ts'
import { ByteBudget } from '../../functions/ingest/memory-budget.ts'
import type { Stores } from '../../shared/compose.ts'
import type { QueuedMessage } from '../../shared/contracts/queue.ts'
import { keys, parsedKey, rawKey } from '../../shared/store/keys.ts'
import { type Emulator, ingestDeps, startEmulator } from '../helpers/emulator.ts'
import { queuedMessage, sqsEvent, sqsRecord } from '../helpers/factories.ts'
import {
  bucketKeys,
  countersOf,
  deleteMessage,
  drainWebhookJobs,
  ingestBatch,
  listedIds,
  mail,
  messageBatches,
  newestFirst,
  subscribe,
  totalSize,
} from '../helpers/store.ts'

// S3's limit on the length of a key, in UTF-8 bytes.
const S3_MAX_KEY_BYTES = 1024

let emulator: Emulator
let stores: Stores
let handler: ReturnType<typeof createIngestHandler>

before(async () => {
  emulator = await startEmulator()
  stores = emulator.root.stores
  handler = createIngestHandler(ingestDeps(emulator, 'test-store'))
})
after(() => emulator.stop())

function ingest(queued: QueuedMessage[]) {
  return ingestBatch(handler, queued)
}

/** The keys of a message's bytes in the bucket. */
async function objectsOf(id: string): Promise<string[]> {
  return (await bucketKeys(emulator, 'messages/')).filter((key) => key.includes(id)).sort()
}

/** Asserts each of `queued` is stored once in `mailbox`, counted once and notified once. */
async function assertStoredOnce(mailbox: string, queued: QueuedMessage[], endpointId: string) {
  assert.deepEqual(await listedIds(stores, mailbox), newestFirst(queued))
  assert.deepEqual(await countersOf(stores, mailbox), {
    address: mailbox,
    messages: queued.length,
    bytes: totalSize(queued),
    unseen: queued.length,
  })
  const jobs = await drainWebhookJobs(emulator)
  assert.deepEqual(
    jobs.map((job) => `${job.messageId} ${job.endpointId} ${job.mailboxes.join()}`).sort(),
    queued.map((q) => `${q.id} ${endpointId} ${mailbox}`).sort(),
    'one webhook job per message',
  )
}

test('a record handled twice, in two batches, is stored, counted and notified once', async () => {
  // Prepare
  const endpoint = await subscribe(emulator, 'twice@dup.example')
  const queued = queuedMessage(mail('twice'), ['twice@dup.example'])
  const body = JSON.stringify(queued)
  // Act
  const first = await handler(sqsEvent(sqsRecord(body)))
  const second = await handler(sqsEvent(sqsRecord(body, 2)))
  // Assess
  assert.deepEqual([first.batchItemFailures, second.batchItemFailures], [[], []])
  await assertStoredOnce('twice@dup.example', [queued], endpoint.id)
})

test('a record twice in one batch is stored, counted and notified once', async () => {
  // Prepare
  const endpoint = await subscribe(emulator, 'one-batch@dup.example')
  const queued = queuedMessage(mail('one batch'), ['one-batch@dup.example'])
  const body = JSON.stringify(queued)
  // Act
  const result = await handler(sqsEvent(sqsRecord(body), sqsRecord(body)))
  // Assess
  assert.deepEqual(result.batchItemFailures, [])
  await assertStoredOnce('one-batch@dup.example', [queued], endpoint.id)
})

test('records handled by two invocations at once are stored, counted and notified once', async () => {
  // Prepare: one record alone, then 5 batches of 10, each batch given to two invocations
  // at once: a race shows only with some timings, and 51 tries show it in every run.
  const mailbox = 'racing@dup.example'
  const endpoint = await subscribe(emulator, mailbox)
  const batches = [[queuedMessage(mail('racing'), [mailbox])], ...messageBatches(5, 10, mailbox)]
  // Act
  const results = []
  for (const batch of batches) {
    const event = sqsEvent(...batch.map((q) => sqsRecord(JSON.stringify(q))))
    results.push(...(await Promise.all([handler(event), handler(event)])))
  }
  // Assess
  assert.deepEqual(
    results.map((result) => result.batchItemFailures),
    results.map(() => []),
  )
  await assertStoredOnce(mailbox, batches.flat(), endpoint.id)
})

test('an invocation that dies before it counts: the record that comes back counts its entries', async () => {
  // Prepare: the record stored by an invocation that died before its batch was counted
  // (a Lambda timeout, kill -9 in local mode): entries written, counters never.
  const queued = queuedMessage(mail('died'), ['died@count.example', 'also@count.example'])
  const body = JSON.stringify(queued)
  await ingestRecord(body, ingestDeps(emulator, 'test-store-died'), new Batch(stores))
  assert.deepEqual(await listedIds(stores, 'died@count.example'), [queued.id])
  assert.equal((await stores.mailboxes.counters('died@count.example')).messages, 0)
  // Act: SQS hands the record over again, twice.
  const again = await handler(sqsEvent(sqsRecord(body, 2)))
  const thrice = await handler(sqsEvent(sqsRecord(body, 3)))
  // Assess: counted once in each mailbox, and each mailbox listed.
  assert.deepEqual([again.batchItemFailures, thrice.batchItemFailures], [[], []])
  for (const mailbox of ['died@count.example', 'also@count.example']) {
    assert.deepEqual(await countersOf(stores, mailbox), {
      address: mailbox,
      messages: 1,
      bytes: queued.size,
      unseen: 1,
    })
  }
  const { items } = await stores.mailboxes.mailboxes(1000)
  const listed = items.map((m) => m.address)
  assert.ok(listed.includes('died@count.example') && listed.includes('also@count.example'))
})

test('an entry marked or deleted before it is counted leaves the counters exact', async () => {
  // Prepare: two messages stored by an invocation that died before counting.
  const [read, deleted] = ['read', 'deleted'].map((subject) =>
    queuedMessage(mail(subject), ['early@count.example']),
  ) as [QueuedMessage, QueuedMessage]
  const deps = ingestDeps(emulator, 'test-store-early')
  for (const queued of [read, deleted]) {
    await ingestRecord(JSON.stringify(queued), deps, new Batch(stores))
  }
  // Act: a client reads one and deletes the other before their records come back.
  await stores.mailboxes.setSeen('early@count.example', read.id, true)
  await deleteMessage(stores, 'early@count.example', deleted.id)
  // Assess: neither changed counters that never counted them.
  assert.deepEqual(await stores.mailboxes.counters('early@count.example'), {
    address: 'early@count.example',
    messages: 0,
    bytes: 0,
    unseen: 0,
  })
  // Act: the read one's record comes back.
  await ingest([read])
  // Assess: counted once, as read.
  assert.deepEqual(await countersOf(stores, 'early@count.example'), {
    address: 'early@count.example',
    messages: 1,
    bytes: read.size,
    unseen: 0,
  })
})

test('a record that comes back under other routes keeps the bytes while either mailbox holds them', async () => {
  // Prepare: two messages stored in ann's own mailbox (the default route)...
  const [first, second] = ['moved 1', 'moved 2'].map((subject) =>
    queuedMessage(mail(subject), ['ann@moved.example']),
  ) as [QueuedMessage, QueuedMessage]
  await ingest([first, second])
  // ...then a route sends ann's mail to an archive, and their records come back (their
  // invocation had failed after storing): each message is now in both mailboxes.
  await stores.routes.put({
    id: 'move-ann',
    priority: 10,
    description: 'ann to the archive',
    enabled: true,
    match: { recipient: { type: 'exact', value: 'ann@moved.example' }, address: 'base' },
    actions: [{ type: 'store', mailbox: 'archive@moved.example' }, { type: 'stop' }],
    origin: 'api',
    updatedAt: new Date().toISOString(),
  })
  const later = createIngestHandler(ingestDeps(emulator, 'test-store-moved'))
  const again = await later(
    sqsEvent(...[first, second].map((queued) => sqsRecord(JSON.stringify(queued), 2))),
  )
  assert.deepEqual(again.batchItemFailures, [])
  assert.deepEqual(await listedIds(stores, 'archive@moved.example'), newestFirst([first, second]))
  // Act and assess, in both orders: whichever mailbox deletes first, the other still reads
  // the message; the bytes go with the second.
  for (const [queued, order] of [
    [first, ['ann@moved.example', 'archive@moved.example']],
    [second, ['archive@moved.example', 'ann@moved.example']],
  ] as const) {
    await deleteMessage(stores, order[0], queued.id)
    assert.ok(await stores.messages.getRaw(queued.id), `${order[1]} still reads the raw message`)
    assert.ok(await stores.messages.getParsed(queued.id), 'and its parse')
    await deleteMessage(stores, order[1], queued.id)
    assert.deepEqual(await objectsOf(queued.id), [], 'gone with the last mailbox')
  }
  await stores.routes.delete('move-ann')
})

test('a record that comes back after its message was deleted leaves it deleted, bytes and all', async () => {
  // Prepare: stored and counted, then deleted by a client (as the API does).
  const queued = queuedMessage(mail('gone'), ['gone@tomb.example'])
  await ingest([queued])
  await deleteMessage(stores, 'gone@tomb.example', queued.id)
  // Act: its record comes back (the invocation that stored it failed afterwards).
  const again = await handler(sqsEvent(sqsRecord(JSON.stringify(queued), 2)))
  // Assess: still deleted, uncounted, its bytes and references gone again.
  assert.deepEqual(again.batchItemFailures, [])
  assert.deepEqual(await listedIds(stores, 'gone@tomb.example'), [])
  assert.equal(await stores.mailboxes.get('gone@tomb.example', queued.id), undefined)
  assert.deepEqual(await countersOf(stores, 'gone@tomb.example'), {
    address: 'gone@tomb.example',
    messages: 0,
    bytes: 0,
    unseen: 0,
  })
  assert.deepEqual(await objectsOf(queued.id), [])
  const doc = DynamoDBDocumentClient.from(emulator.root.clients.dynamodb)
  const refs = await doc.send(
    new GetCommand({ TableName: emulator.config.table, Key: keys.refs(queued.id) }),
  )
  assert.equal(refs.Item, undefined, 'no refs item left behind')
  // And a second delete finds nothing to delete.
  assert.equal(await deleteMessage(stores, 'gone@tomb.example', queued.id), undefined)
})

test('a batch bigger together than the bytes ingest holds at once is stored whole, a part at a time', async () => {
  const queued = [1, 2, 3].map((i) =>
    queuedMessage(mail(`big ${i}`, 'x'.repeat(200_000)), ['budget@mem.example']),
  )
  // The budget ingest is given, watched: the bytes of the records running at once.
  const budget = new ByteBudget(250_000, 1000)
  let running = 0
  let peak = 0
  const inFlight = {
    run: <T>(bytes: number, task: () => Promise<T>) =>
      budget.run(bytes, async () => {
        running += bytes
        peak = Math.max(peak, running)
        try {
          return await task()
        } finally {
          running -= bytes
        }
      }),
  }
  const deps = { ...ingestDeps(emulator, 'test-store-budget'), inFlight }
  await ingestBatch(createIngestHandler(deps), queued)
  assert.deepEqual(await listedIds(stores, 'budget@mem.example'), newestFirst(queued))
  // Two of them at once would be over the budget: one ran at a time.
  assert.equal(peak, Math.max(...queued.map((q) => q.size)))
})

test('counters stay exact under 200 concurrent ingests, marks and deletes', async () => {
  // Prepare
  const mailbox = 'busy@count.example'
  const batches = messageBatches(20, 10, mailbox)
  const queued = batches.flat()
  // Act: 20 batches of 10 at once
  await Promise.all(batches.map((batch) => ingest(batch)))
  // Assess
  const counters = { address: mailbox, messages: 200, bytes: totalSize(queued), unseen: 200 }
  assert.deepEqual(await countersOf(stores, mailbox), counters)
  const listed = await listedIds(stores, mailbox, 25)
  assert.equal(new Set(listed).size, 200)
  assert.deepEqual(listed, newestFirst(queued))

  // Act: 30 marked seen, each twice at once; 5 of them back to unseen, twice in a row
  const ids = queued.map((q) => q.id)
  const seen = await Promise.all(
    ids
      .slice(0, 30)
      .flatMap((id) => [
        stores.mailboxes.setSeen(mailbox, id, true),
        stores.mailboxes.setSeen(mailbox, id, true),
      ]),
  )
  for (const id of ids.slice(0, 5)) {
    await stores.mailboxes.setSeen(mailbox, id, false)
    await stores.mailboxes.setSeen(mailbox, id, false)
  }
  // Assess
  assert.ok(seen.every((entry) => entry?.seen === true))
  assert.deepEqual(await countersOf(stores, mailbox), { ...counters, unseen: 175 })

  // Act: 20 removed (5 seen, 15 unseen), each twice at once
  const removed = queued.slice(25, 45)
  const entries = await Promise.all(
    removed.flatMap((q) => [
      deleteMessage(stores, mailbox, q.id),
      deleteMessage(stores, mailbox, q.id),
    ]),
  )
  // Assess
  assert.equal(entries.filter((entry) => entry !== undefined).length, 20, 'one remover each')
  assert.deepEqual(await countersOf(stores, mailbox), {
    address: mailbox,
    messages: 180,
    bytes: totalSize(queued) - totalSize(removed),
    unseen: 160,
  })
  const kept = queued.filter((q) => !removed.includes(q))
  assert.deepEqual(await listedIds(stores, mailbox, 25), newestFirst(kept))
  assert.equal(await stores.messages.getRaw(removed[0]?.id ?? ''), undefined)
})

test('the bytes stay while any mailbox holds the message, and go with the last', async () => {
  // Prepare
  const rcptTo = ['a@refs.example', 'b@refs.example', 'c@refs.example']
  const raw = mail('to three')
  const shared = queuedMessage(raw, rcptTo)
  const single = queuedMessage(mail('to one'), ['d@refs.example'])
  await ingest([shared, single])
  // Assess: stored once
  assert.deepEqual(await objectsOf(shared.id), [rawKey(shared.id), parsedKey(shared.id)].sort())
  assert.deepEqual(Buffer.from((await stores.messages.getRaw(shared.id)) ?? []), raw)
  assert.equal((await stores.messages.getParsed(shared.id))?.id, shared.id)

  // Act
  await deleteMessage(stores, 'a@refs.example', shared.id)
  await deleteMessage(stores, 'b@refs.example', shared.id)
  // Assess: c still reads it
  assert.equal((await stores.mailboxes.get('c@refs.example', shared.id))?.id, shared.id)
  assert.deepEqual(Buffer.from((await stores.messages.getRaw(shared.id)) ?? []), raw)
  assert.equal((await stores.messages.getParsed(shared.id))?.subject, 'to three')

  // Act
  await deleteMessage(stores, 'c@refs.example', shared.id)
  await deleteMessage(stores, 'd@refs.example', single.id)
  // Assess
  for (const id of [shared.id, single.id]) {
    assert.equal(await stores.messages.getRaw(id), undefined)
    assert.equal(await stores.messages.getParsed(id), undefined)
    assert.deepEqual(await objectsOf(id), [])
  }
  const doc = DynamoDBDocumentClient.from(emulator.root.clients.dynamodb)
  const refs = await doc.send(
    new GetCommand({ TableName: emulator.config.table, Key: keys.refs(shared.id) }),
  )
  assert.equal(refs.Item, undefined, 'no refs item left behind')
})

test('an address too long for a key is stored, listed and counted under its full name', async () => {
  // Prepare: 613 and 1,213 bytes of UTF-8, 1,815 and 3,615 URI-encoded; the second is
  // past the table's own key limit
  const long = `${'受'.repeat(200)}@long.example`
  const longer = `${'受'.repeat(400)}@long.example`
  // The same bytes relayed twice (a client's retry): each mailbox remembers their
  // fingerprint under its key, and must recognise the retry by it.
  const sent = Buffer.concat([Buffer.from('Received: from mx by mail (Postfix)\r\n'), mail('long')])
  const relayed = (attempt: number) => {
    const trace = Buffer.from(`Received: with LMTP, attempt ${attempt}\r\n`)
    return queuedMessage(Buffer.concat([trace, sent]), [long, longer], { traceBytes: trace.length })
  }
  const queued = relayed(1)
  // Act
  await ingest([queued])
  await ingest([relayed(2)])
  // Assess
  for (const mailbox of [long, longer]) {
    const page = await stores.mailboxes.page(mailbox, 10)
    assert.deepEqual(
      page.items.map((item) => [item.id, item.mailbox]),
      [[queued.id, mailbox]],
    )
    assert.deepEqual(await countersOf(stores, mailbox), {
      address: mailbox,
      messages: 1,
      bytes: queued.size,
      unseen: 1,
    })
  }
  for (const key of await bucketKeys(emulator)) {
    assert.ok(
      Buffer.byteLength(key) <= S3_MAX_KEY_BYTES,
      `S3 key of ${Buffer.byteLength(key)} bytes`,
    )
  }
  // Act: deleted from both
  for (const mailbox of [long, longer]) await deleteMessage(stores, mailbox, queued.id)
  // Assess
  assert.equal(await stores.messages.getRaw(queued.id), undefined)
})
