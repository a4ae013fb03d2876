/** What the store's contract tests share: small mail, batches of it, listings walked to the end. */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { ListObjectsV2Command } from '@aws-sdk/client-s3'
import type { createIngestHandler } from '../../functions/ingest/ingest.ts'
import type { Stores } from '../../shared/compose.ts'
import type { Mailbox } from '../../shared/contracts/message.ts'
import type { QueuedMessage } from '../../shared/contracts/queue.ts'
import { parseWebhookJob, type WebhookJob } from '../../shared/contracts/webhook-job.ts'
import type { Emulator } from './emulator.ts'
import { queuedMessage, sqsEvent, sqsRecord } from './factories.ts'
import { drainQueue } from './queue.ts'

/** A small RFC 5322 message; `body` sets its size. */
export function mail(subject: string, body = `Body of ${subject}.`): Buffer {
  return Buffer.from(
    'From: Alice <alice@example.net>\r\n' +
      'To: someone@example.com\r\n' +
      `Subject: ${subject}\r\n` +
      `Message-ID: <${randomUUID()}@example.net>\r\n` +
      'Date: Tue, 24 Nov 2026 10:00:00 +0000\r\n' +
      `\r\n${body}\r\n`,
  )
}

/** `count` messages of distinct sizes, each to `rcptTo`, oldest first (ids ascending). */
export function messages(count: number, rcptTo: string[]): QueuedMessage[] {
  return Array.from({ length: count }, (_, i) =>
    queuedMessage(mail(`m${i}`, 'x'.repeat(i)), rcptTo),
  )
}

/** `batches` × `size` messages to `mailbox`, oldest first, in batches. */
export function messageBatches(batches: number, size: number, mailbox: string): QueuedMessage[][] {
  const all = messages(batches * size, [mailbox])
  return Array.from({ length: batches }, (_, i) => all.slice(i * size, i * size + size))
}

export function totalSize(queued: QueuedMessage[]): number {
  return queued.reduce((sum, q) => sum + q.size, 0)
}

/** Ids newest first: message ids are ULIDs, so descending order. */
export function newestFirst(queued: QueuedMessage[]): string[] {
  return queued.map((q) => q.id).sort((a, b) => (a < b ? 1 : -1))
}

/** Hands the messages to `handler` as one batch; every record must succeed. */
export async function ingestBatch(
  handler: ReturnType<typeof createIngestHandler>,
  queued: QueuedMessage[],
): Promise<void> {
  const result = await handler(sqsEvent(...queued.map((q) => sqsRecord(JSON.stringify(q)))))
  assert.deepEqual(result.batchItemFailures, [])
}

/** Every key in the bucket under `prefix`, all pages. */
export async function bucketKeys(emulator: Emulator, prefix = ''): Promise<string[]> {
  const keys: string[] = []
  let token: string | undefined
  do {
    const page = await emulator.s3.send(
      new ListObjectsV2Command({
        Bucket: emulator.bucket,
        Prefix: prefix,
        ContinuationToken: token,
      }),
    )
    keys.push(...(page.Contents ?? []).flatMap((object) => (object.Key ? [object.Key] : [])))
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token)
  return keys
}

/** Every page of the list of mailboxes, `limit` at a time. */
export async function mailboxPages(stores: Stores, limit: number) {
  const pages: Awaited<ReturnType<Stores['mailboxes']['mailboxes']>>[] = []
  let cursor: string | undefined
  do {
    const page = await stores.mailboxes.mailboxes(limit, cursor)
    pages.push(page)
    cursor = page.nextCursor ?? undefined
  } while (cursor)
  return pages
}

/** A mailbox's line in the list of mailboxes (its counters), or undefined when not listed. */
export async function countersOf(stores: Stores, address: string): Promise<Mailbox | undefined> {
  const pages = await mailboxPages(stores, 100)
  return pages.flatMap((page) => page.items).find((mailbox) => mailbox.address === address)
}

/** The ids a mailbox lists, newest first, walking pages of `limit`. */
export async function listedIds(stores: Stores, mailbox: string, limit = 100): Promise<string[]> {
  const ids: string[] = []
  let cursor: string | undefined
  do {
    const page = await stores.mailboxes.page(mailbox, limit, cursor)
    ids.push(...page.items.map((item) => item.id))
    cursor = page.nextCursor ?? undefined
  } while (cursor)
  return ids
}

/** Deletes a message from a mailbox as the API does: the entry, then the bytes if last. */
export async function deleteMessage(stores: Stores, mailbox: string, id: string) {
  const entry = await stores.mailboxes.remove(mailbox, id)
  if (entry !== undefined) await stores.messages.release(id, mailbox)
  return entry
}

/** Subscribes a new endpoint to `mailbox`, then empties the webhook queue. */
export async function subscribe(emulator: Emulator, mailbox: string) {
  const endpoint = await emulator.root.stores.endpoints.create({
    url: 'http://127.0.0.1:9/',
    mailbox,
  })
  await drainWebhookJobs(emulator)
  return endpoint
}

/** Every webhook job now queued, removed from the queue. */
export function drainWebhookJobs(emulator: Emulator): Promise<WebhookJob[]> {
  return drainQueue(emulator.sqs, emulator.webhookQueueUrl, (message) =>
    parseWebhookJob(message.Body ?? ''),
  )
}
