/**
 * The mail store's contract, as the API and ingest read it: pages of a mailbox walked while
 * messages go, the list of mailboxes in address order with counters, records past their
 * expiry ignored. Against the real emulators over HTTP; writes are in store.test.ts. Each
 * test has mailboxes of its own; the list of mailboxes is shared, so tests look only at
 * their own lines in it.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb'
import { createIngestHandler } from '../../functions/ingest/ingest.ts'
import { createDynamoDbClient } from '../../shared/aws-clients.ts'
import type { Stores } from '../../shared/compose.ts'
import type { QueuedMessage } from '../../shared/contracts/queue.ts'
import { InvalidCursorError } from '../../shared/errors.ts'
import { createLogger } from '../../shared/logger.ts'
import { newMessageId } from '../../shared/message-id.ts'
import { keys } from '../../shared/store/keys.ts'
import { type Entry, MailboxStore } from '../../shared/store/mailboxes.ts'
import { Table } from '../../shared/store/table.ts'
import { startCallRecorder } from '../helpers/aws-calls.ts'
import { type Emulator, ingestDeps, startEmulator } from '../helpers/emulator.ts'
import { queuedMessage } from '../helpers/factories.ts'
import {
  deleteMessage,
  ingestBatch,
  mail,
  mailboxPages,
  messages,
  subscribe,
  totalSize,
} from '../helpers/store.ts'

let emulator: Emulator
let stores: Stores
let handler: ReturnType<typeof createIngestHandler>
/** The table itself, to plant what no store method writes: records past their expiry. */
let doc: DynamoDBDocumentClient
let table: string

before(async () => {
  emulator = await startEmulator()
  stores = emulator.root.stores
  handler = createIngestHandler(ingestDeps(emulator, 'test-store-reads'))
  doc = DynamoDBDocumentClient.from(emulator.root.clients.dynamodb)
  table = emulator.config.table
})
after(() => emulator.stop())

function ingest(queued: QueuedMessage[]) {
  return ingestBatch(handler, queued)
}

/** A delivered notification's record as DeliveryStore writes it, expiring at `expiresAt` (s). */
function delivery(messageId: string, endpointId: string, expiresAt: number) {
  const updatedAt = new Date().toISOString()
  const state = { messageId, endpointId, status: 'delivered', attempts: 1, updatedAt }
  return { ...keys.delivery(messageId, endpointId), ...state, expiresAt }
}

/** An address as an assertion shows it: long runs of one character counted. */
function short(address: string): string {
  return address.replace(/(.)\1{9,}/g, (run, char: string) => `${char}×${run.length}`)
}

/** A mailbox entry as ingest writes one, of 10 bytes, unread, with nothing but a subject. */
function entry(mailbox: string, id: string, subject: string): Entry {
  return {
    id,
    mailbox,
    receivedAt: new Date().toISOString(),
    size: 10,
    from: null,
    to: [],
    subject,
    date: null,
    snippet: '',
    attachments: 0,
    seen: false,
    mailboxHash: null,
  }
}

test('pages walk every message once while messages are deleted between pages', async () => {
  // Prepare: ids[24] is the newest
  const mailbox = 'pages@paging.example'
  const queued = messages(25, [mailbox])
  await ingest(queued)
  const ids = queued.map((q) => q.id)
  const at = (i: number) => ids[i] ?? ''
  // Act
  const first = await stores.mailboxes.page(mailbox, 10)
  assert.equal(first.items.at(-1)?.id, at(15))
  // The entry the cursor points at, one already returned, one not yet returned.
  for (const i of [15, 20, 12]) await deleteMessage(stores, mailbox, at(i))
  const second = await stores.mailboxes.page(mailbox, 10, first.nextCursor ?? undefined)
  assert.equal(second.items.at(-1)?.id, at(4))
  for (const i of [4, 2]) await deleteMessage(stores, mailbox, at(i))
  const third = await stores.mailboxes.page(mailbox, 10, second.nextCursor ?? undefined)
  // Assess
  const walked = [first, second, third].flatMap((page) => page.items.map((item) => item.id))
  // Each message once, newest first; none deleted before its page came.
  const deletedAhead = new Set([at(12), at(2)])
  assert.deepEqual(
    walked,
    [...ids].reverse().filter((id) => !deletedAhead.has(id)),
  )
  assert.deepEqual(
    [first.nextCursor === null, second.nextCursor === null, third.nextCursor],
    [false, false, null],
  )
  // A last page exactly `limit` long has no next page either.
  const exact = await stores.mailboxes.page(mailbox, 3, second.nextCursor ?? undefined)
  assert.deepEqual([exact.items.length, exact.nextCursor], [3, null])
})

test('a page of big summaries goes on past the 1 MB a query answers, and hides nothing', async () => {
  // Summaries of 50 long To addresses (any sender can write them): 40 of them are over 1 MB,
  // where a DynamoDB query stops short of its Limit.
  const mailbox = 'big-summaries@example.com'
  const long = (i: number) => ({
    address: `${'a'.repeat(300)}${i}@example.com`,
    name: 'n'.repeat(300),
  })
  const ids: string[] = []
  for (let i = 0; i < 50; i++) {
    const id = newMessageId()
    ids.push(id)
    await stores.mailboxes.add({
      ...entry(mailbox, id, `message ${i}`),
      size: 100,
      to: i < 40 ? Array.from({ length: 50 }, (_, j) => long(j)) : [],
    })
  }
  const newest = [...ids].reverse()

  const all = await stores.mailboxes.page(mailbox, 200)
  assert.deepEqual(
    all.items.map((summary) => summary.id),
    newest,
  )
  assert.equal(all.nextCursor, null)
  const walked: string[] = []
  let cursor: string | undefined
  do {
    const page = await stores.mailboxes.page(mailbox, 45, cursor)
    walked.push(...page.items.map((summary) => summary.id))
    cursor = page.nextCursor ?? undefined
  } while (cursor)
  assert.deepEqual(walked, newest)
})

// Found in review: DynamoDB applies Limit before the filter that leaves tombstones out, so
// a page behind n deleted messages took about n / limit queries (40 for 2,000).
test('a page behind many deleted messages takes a few queries, and hides nothing', async () => {
  const mailbox = 'tombstones@example.com'
  const ids: string[] = []
  for (let i = 0; i < 400; i++) {
    const id = newMessageId()
    ids.push(id)
    await stores.mailboxes.add(entry(mailbox, id, `message ${i}`))
  }
  // The 395 newest are deleted: the 5 left are behind all of their tombstones.
  await Promise.all(ids.slice(5).map((id) => stores.mailboxes.remove(mailbox, id)))
  const recorder = await startCallRecorder(emulator.config.aws.dynamodbEndpoint as string)
  const client = createDynamoDbClient({
    ...emulator.config.aws,
    dynamodbEndpoint: recorder.endpoint,
  })
  try {
    const through = new MailboxStore(new Table(client, table), createLogger('test-store-reads'))
    const page = await through.page(mailbox, 3)
    const next = await through.page(mailbox, 3, page.nextCursor ?? undefined)
    assert.deepEqual(
      [...page.items, ...next.items].map((summary) => summary.id),
      ids.slice(0, 5).reverse(),
    )
    assert.equal(next.nextCursor, null)
    const queries = recorder.take().filter((call) => call.action === 'dynamodb:Query')
    assert.ok(queries.length <= 8, `${queries.length} queries for two pages`)
  } finally {
    client.destroy()
    await recorder.close()
  }
})

test('a cursor no listing could have handed out is refused as invalid', async () => {
  // Prepare: none, not base64url, a lower-case id, past DynamoDB's 1,024 bytes for a key
  const encode = (value: string) => Buffer.from(value).toString('base64url')
  const tooLong = encode('x'.repeat(2000))
  const forged = ['', 'not-a-cursor', encode(newMessageId().toLowerCase()), tooLong]
  const shown = (cursor: string) => `cursor "${cursor.slice(0, 16)}", ${cursor.length} characters`
  // Act, Assess: a page's cursor is a message id
  for (const cursor of forged) {
    const page = stores.mailboxes.page('x@cursor.example', 10, cursor)
    await assert.rejects(page, InvalidCursorError, shown(cursor))
  }
  // A cursor of the list of mailboxes is a key, which any short enough string may be.
  for (const cursor of ['', tooLong]) {
    const list = stores.mailboxes.mailboxes(10, cursor)
    await assert.rejects(list, InvalidCursorError, shown(cursor))
  }
})

test('the list of mailboxes pages in address order with counters, not listing the empty', async () => {
  // Prepare: out of order, different sizes; one subscribed to but never written to
  const [a, b, c9, c10] = [
    'a@list.example',
    'b@list.example',
    'c9@list.example',
    'c10@list.example',
  ]
  const sent = new Map([c9, a, c10, b].map((address, i) => [address, messages(i + 1, [address])]))
  await ingest([...sent.values()].flat())
  await stores.mailboxes.setSeen(b, sent.get(b)?.[0]?.id ?? '', true)
  await subscribe(emulator, 'empty@list.example')
  const expected = (address: string, seen = 0) => {
    const mine = sent.get(address) ?? []
    return { address, messages: mine.length, bytes: totalSize(mine), unseen: mine.length - seen }
  }
  // Act
  const pages = await mailboxPages(stores, 2)
  // Assess
  assert.ok(pages.every((page) => page.items.length <= 2))
  assert.ok(pages.slice(0, -1).every((page) => page.items.length === 2 && page.nextCursor))
  const mine = pages
    .flatMap((page) => page.items)
    .filter((m) => m.address.endsWith('@list.example'))
  assert.deepEqual(mine, [expected(a), expected(b, 1), expected(c10), expected(c9)])
})

test('the list of mailboxes is in address order, also past the key limit', async () => {
  // Prepare: two addresses past the key limit (keyed by their start and a digest), two not,
  // in no order; they differ early, so a key keeping the address's start keeps the order.
  const long = '受'.repeat(400)
  const addresses = [`${long}@order.example`, 'z@order.example', `a${long}@order.example`]
  addresses.push(`${'受'.repeat(20)}@order.example`)
  await ingest(addresses.map((address) => queuedMessage(mail('order'), [address])))
  // Act
  const pages = await mailboxPages(stores, 2)
  // Assess: in UTF-8 byte order, DynamoDB's order of keys
  const listed = pages
    .flatMap((page) => page.items.map((mailbox) => mailbox.address))
    .filter((address) => address.endsWith('@order.example'))
  const byAddress = [...addresses].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  assert.deepEqual(listed.map(short), byAddress.map(short))
})

test('reads ignore delivery and fingerprint records past their expiry', async () => {
  // Prepare: dynalite never deletes expired items, as DynamoDB may not for days
  const messageId = newMessageId()
  const past = Math.floor(Date.now() / 1000) - 60
  const future = Math.floor(Date.now() / 1000) + 3600
  const print = 'f'.repeat(64)
  const received = (mailbox: string, expiresAt: number) => ({
    ...keys.fingerprint(print, mailbox),
    messageId,
    receivedAt: new Date().toISOString(),
    expiresAt,
  })
  for (const Item of [
    delivery(messageId, 'wh_00000000000000000001', past),
    delivery(messageId, 'wh_00000000000000000002', future),
    received('old@ttl.example', past),
    received('new@ttl.example', future),
  ]) {
    await doc.send(new PutCommand({ TableName: table, Item }))
  }
  // Act
  const expired = await stores.deliveries.get(messageId, 'wh_00000000000000000001')
  const live = await stores.deliveries.get(messageId, 'wh_00000000000000000002')
  const fingerprints = await stores.fingerprints.lookup(print)
  // Assess
  assert.equal(expired, undefined)
  assert.equal(live?.status, 'delivered')
  assert.deepEqual([...fingerprints.keys()], ['new@ttl.example'])
})

test('a notification whose record has expired is claimed anew', { timeout: 5_000 }, async () => {
  // Prepare: a record DynamoDB's TTL has not deleted yet
  const messageId = newMessageId()
  const endpointId = 'wh_00000000000000000003'
  const Item = delivery(messageId, endpointId, Math.floor(Date.now() / 1000) - 60)
  await doc.send(new PutCommand({ TableName: table, Item }))
  // Act
  const claim = await stores.deliveries.claim(messageId, endpointId)
  // Assess
  assert.equal(claim, 'claimed')
  assert.equal((await stores.deliveries.get(messageId, endpointId))?.status, 'claimed')
})
