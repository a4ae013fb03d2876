/**
 * Mailboxes in DynamoDB: per mailbox, an entry per message (its summary, newest first),
 * a `meta` item with its counters and the endpoints subscribed to it, and a line in the
 * list of mailboxes. A page of summaries is one query; the list of mailboxes is one query
 * and one batch read per page, whatever the number of messages stored.
 *
 * Counters change only after a write that changed an entry. An entry is added marked
 * `uncounted`; whoever removes that mark (a conditional write: one caller wins, however many
 * invocations handle the record) adds it to the counters. A record that comes back after
 * its invocation died (before it counted) finds its entry still marked, and counts it then.
 * A removal or a change of `seen` counts only what the write's returned item says it
 * changed, and nothing for an entry not counted yet. A process that dies between removing
 * the mark and the counter write leaves the counters short by that entry (no transactions:
 * the emulator has none); that window is one write long.
 *
 * A deleted entry leaves a tombstone under its key (no summary, `deletedAt`, expiring after
 * DELETED_TTL_MS): a record that comes back after the message was deleted (its invocation
 * failed after storing) finds the key taken, and the message stays deleted. Every read
 * leaves tombstones out.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb'
import type { Mailbox, MessageSummary } from '../contracts/message.ts'
import { InvalidCursorError } from '../errors.ts'
import type { Logger } from '../logger.ts'
import { isMessageId } from '../message-id.ts'
import { ENTRY_PREFIX, keys, MAILBOXES_PK, mailboxPk } from './keys.ts'
import { expiresIn, type Item, isConditionFailed, type Table } from './table.ts'

/** A mailbox's entry for one message. */
export interface Entry extends MessageSummary {
  /** The recipients that led to this mailbox; absent on entries from before routing. */
  rcptTo?: string[]
}

export interface Page<T> {
  items: T[]
  /** Opaque; pass back as `cursor` for the next page, null on the last page. */
  nextCursor: string | null
}

// How long a deleted entry's tombstone is kept (ms): longer than a record can come back
// (4 days on the ingest queue, 14 more in its dead-letter queue before a redrive).
const DELETED_TTL_MS = 30 * 24 * 3600 * 1000

/** What adding an entry found: nothing (added), the entry, or the tombstone of one deleted. */
export type AddOutcome = 'added' | 'present' | 'deleted'

// DynamoDB's limit on a sort key, bytes.
const MAX_CURSOR_BYTES = 1024

/** An entry of `bytes` bytes to count in its mailbox, once (see the top). */
export interface EntryRef {
  id: string
  bytes: number
}

/**
 * An entry as a new item: the summary as one JSON string, beside the attributes that
 * writes change (`seen`, `uncounted`). One string instead of nested maps and lists halves
 * what the table and the SDK do per item on every page.
 */
function toItem(entry: Entry): Item {
  const { seen, rcptTo, ...summary } = entry
  const item = {
    ...keys.entry(entry.mailbox, entry.id),
    summary: JSON.stringify(summary),
    seen,
    uncounted: true,
  }
  return rcptTo === undefined ? item : { ...item, rcptTo }
}

/** A mailbox's counters, from its meta item (absent: none yet). */
function toMailbox(address: string, meta: Item = {}): Mailbox {
  return {
    address,
    messages: Number(meta.messages ?? 0),
    bytes: Number(meta.bytes ?? 0),
    unseen: Number(meta.unseen ?? 0),
  }
}

function toEntry(item: Item): Entry {
  const summary = JSON.parse(String(item.summary)) as Omit<Entry, 'seen' | 'rcptTo'>
  const entry: Entry = {
    ...summary,
    // Entries from before routing have no tag.
    mailboxHash: summary.mailboxHash ?? null,
    seen: item.seen === true,
  }
  if (Array.isArray(item.rcptTo)) entry.rcptTo = item.rcptTo as string[]
  return entry
}

function encodeCursor(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64url')
}

function decodeCursor(cursor: string, valid: (value: string) => boolean): string {
  const value = Buffer.from(cursor, 'base64url').toString('utf8')
  if (!valid(value)) throw new InvalidCursorError('cursor is not valid')
  return value
}

export class MailboxStore {
  constructor(
    private readonly table: Table,
    private readonly logger: Logger,
  ) {}

  /**
   * Adds a message's entry to its mailbox, not counted yet (countEntries()), unless the
   * key is taken: by the entry (a redelivered record, or an invocation racing this one), or
   * by its tombstone (it was deleted since).
   */
  async add(entry: Entry): Promise<AddOutcome> {
    const key = keys.entry(entry.mailbox, entry.id)
    try {
      await this.table.doc.send(
        new PutCommand({
          TableName: this.table.name,
          Item: toItem(entry),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      )
      return 'added'
    } catch (error) {
      if (!isConditionFailed(error)) throw error
    }
    const { Item } = await this.table.doc.send(
      new GetCommand({ TableName: this.table.name, Key: key, ConsistentRead: true }),
    )
    return Item?.deletedAt === undefined ? 'present' : 'deleted'
  }

  /**
   * Counts these entries of `mailbox` that nobody counted yet: each one's mark is removed
   * (the write that succeeds is the one that counts it), then the counters get what those
   * add up to, one write. Ingest calls it once per mailbox for a whole batch, for every
   * entry its records stored or found stored. Throws if a mark could not be removed (the
   * batch comes back, and its entries are counted then); a failed counter write after
   * that is logged, as the counters are then short by what it names.
   */
  async countEntries(mailbox: string, entries: EntryRef[]): Promise<void> {
    const claimed = await Promise.all(entries.map(({ id }) => this.claimCount(mailbox, id)))
    const delta = { messages: 0, bytes: 0, unseen: 0 }
    entries.forEach(({ bytes }, index) => {
      const claim = claimed[index]
      if (claim === undefined) return
      delta.messages += 1
      delta.bytes += bytes
      if (!claim.seen) delta.unseen += 1
    })
    if (delta.messages > 0) await this.countOrLog(mailbox, delta)
  }

  /** Removes an entry's `uncounted` mark; undefined when it had none (or is gone). */
  private async claimCount(mailbox: string, id: string): Promise<{ seen: boolean } | undefined> {
    try {
      const { Attributes } = await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.entry(mailbox, id),
          UpdateExpression: 'REMOVE uncounted',
          ConditionExpression: 'attribute_exists(uncounted)',
          ReturnValues: 'ALL_NEW',
        }),
      )
      return { seen: Attributes?.seen === true }
    } catch (error) {
      if (isConditionFailed(error)) return undefined
      throw error
    }
  }

  /** Adds `delta` to a mailbox's counters, atomically, and lists the mailbox the first time. */
  private async count(mailbox: string, delta: Omit<Mailbox, 'address'>): Promise<void> {
    const { Attributes: meta = {} } = await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.mailboxMeta(mailbox),
        UpdateExpression:
          'SET address = :address ADD messages :messages, bytes :bytes, unseen :unseen',
        ExpressionAttributeValues: {
          ':address': mailbox,
          ':messages': delta.messages,
          ':bytes': delta.bytes,
          ':unseen': delta.unseen,
        },
        ReturnValues: 'ALL_NEW',
      }),
    )
    if (meta.listed !== true) await this.list(mailbox)
  }

  /** Puts a mailbox in the list of mailboxes, once: it stays there, empty or not. */
  private async list(mailbox: string): Promise<void> {
    await this.table.doc.send(
      new PutCommand({
        TableName: this.table.name,
        Item: { ...keys.mailboxListing(mailbox), address: mailbox },
      }),
    )
    await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.mailboxMeta(mailbox),
        UpdateExpression: 'SET listed = :true',
        ExpressionAttributeValues: { ':true': true },
      }),
    )
  }

  async get(mailbox: string, id: string): Promise<Entry | undefined> {
    const { Item } = await this.table.doc.send(
      new GetCommand({ TableName: this.table.name, Key: keys.entry(mailbox, id) }),
    )
    return Item?.deletedAt === undefined ? Item && toEntry(Item) : undefined
  }

  /**
   * Removes an entry, leaving its tombstone, and uncounts it; undefined when there was none
   * (or another removed it).
   */
  async remove(mailbox: string, id: string, now = Date.now()): Promise<Entry | undefined> {
    let Attributes: Item | undefined
    try {
      ;({ Attributes } = await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.entry(mailbox, id),
          UpdateExpression:
            'SET deletedAt = :now, expiresAt = :expires REMOVE summary, seen, rcptTo, uncounted',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deletedAt)',
          ExpressionAttributeValues: {
            ':now': new Date(now).toISOString(),
            ':expires': expiresIn(DELETED_TTL_MS, now),
          },
          ReturnValues: 'ALL_OLD',
        }),
      ))
    } catch (error) {
      if (isConditionFailed(error)) return undefined
      throw error
    }
    // The entry as it was at that instant (the condition found it): one remover gets it.
    const old = Attributes as Item
    const entry = toEntry(old)
    if (old.uncounted === true) return entry
    await this.countOrLog(mailbox, {
      messages: -1,
      bytes: -entry.size,
      unseen: entry.seen ? 0 : -1,
    })
    return entry
  }

  /** Marks an entry read or unread; undefined when there is none. */
  async setSeen(mailbox: string, id: string, seen: boolean): Promise<Entry | undefined> {
    try {
      const { Attributes } = await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.entry(mailbox, id),
          UpdateExpression: 'SET seen = :seen',
          ConditionExpression:
            'attribute_exists(pk) AND attribute_not_exists(deletedAt) AND seen <> :seen',
          ExpressionAttributeValues: { ':seen': seen },
          ReturnValues: 'ALL_NEW',
        }),
      )
      // One not counted yet is counted as it is when it is.
      if (Attributes?.uncounted !== true) {
        await this.countOrLog(mailbox, { messages: 0, bytes: 0, unseen: seen ? -1 : 1 })
      }
      return Attributes && toEntry(Attributes)
    } catch (error) {
      // No such entry, or it was so already: nothing to count.
      if (isConditionFailed(error)) return this.get(mailbox, id)
      throw error
    }
  }

  /**
   * count(), after a write that a retry would not repeat: a failure is logged (with what
   * the counters are now off by), not thrown, so the caller finishes what it started.
   */
  private async countOrLog(mailbox: string, delta: Omit<Mailbox, 'address'>): Promise<void> {
    try {
      await this.count(mailbox, delta)
    } catch (error) {
      this.logger.error(
        { err: error, mailbox, ...delta },
        'counters not updated: the mailbox counts are off by these',
      )
    }
  }

  /** A page of a mailbox's summaries, newest first: one query (more only past 1 MB). */
  async page(mailbox: string, limit: number, cursor?: string): Promise<Page<MessageSummary>> {
    const after = cursor === undefined ? undefined : decodeCursor(cursor, isMessageId)
    // One more than asked, to know whether there is a next page.
    const found = await this.table.query(
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :entry)',
        FilterExpression: 'attribute_not_exists(deletedAt)',
        ExpressionAttributeValues: { ':pk': mailboxPk(mailbox), ':entry': ENTRY_PREFIX },
        ScanIndexForward: false,
        ExclusiveStartKey: after === undefined ? undefined : keys.entry(mailbox, after),
      },
      limit + 1,
    )
    const items = found.slice(0, limit).map((item) => {
      const { rcptTo: _rcptTo, ...summary } = toEntry(item)
      return summary
    })
    const last = items.at(-1)
    return {
      items,
      nextCursor: found.length > limit && last ? encodeCursor(last.id) : null,
    }
  }

  /** A page of mailboxes in address order, with their counters. */
  async mailboxes(limit: number, cursor?: string): Promise<Page<Mailbox>> {
    // A sort key has at most 1,024 bytes: a longer cursor was not handed out here.
    const after =
      cursor === undefined
        ? undefined
        : decodeCursor(cursor, (key) => key !== '' && Buffer.byteLength(key) <= MAX_CURSOR_BYTES)
    const found = await this.table.query(
      {
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': MAILBOXES_PK },
        ExclusiveStartKey: after === undefined ? undefined : { pk: MAILBOXES_PK, sk: after },
      },
      limit + 1,
    )
    const page = found.slice(0, limit)
    const addresses = page.map((item) => String(item.address))
    const metas = await this.metas(addresses)
    const last = page.at(-1)
    return {
      items: addresses.map((address) => toMailbox(address, metas.get(mailboxPk(address)))),
      nextCursor: found.length > limit && last ? encodeCursor(String(last.sk)) : null,
    }
  }

  /** The meta items of these mailboxes, by pk. */
  private async metas(mailboxes: string[]): Promise<Map<string, Item>> {
    const items = await this.table.getMany(mailboxes.map((mailbox) => keys.mailboxMeta(mailbox)))
    return new Map(items.map((item) => [String(item.pk), item]))
  }

  /**
   * A mailbox's counters; zero for one that never got mail. Only those attributes are
   * read: the edge's policy (quotas) allows no other.
   */
  async counters(mailbox: string): Promise<Mailbox> {
    const { Item } = await this.table.doc.send(
      new GetCommand({
        TableName: this.table.name,
        Key: keys.mailboxMeta(mailbox),
        ProjectionExpression: 'messages, #bytes, unseen',
        ExpressionAttributeNames: { '#bytes': 'bytes' },
      }),
    )
    return toMailbox(mailbox, Item)
  }

  async subscribe(mailbox: string, endpointId: string): Promise<void> {
    await this.updateSubscription('ADD', mailbox, endpointId)
  }

  async unsubscribe(mailbox: string, endpointId: string): Promise<void> {
    await this.updateSubscription('DELETE', mailbox, endpointId)
  }

  private async updateSubscription(action: 'ADD' | 'DELETE', mailbox: string, id: string) {
    await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.mailboxMeta(mailbox),
        UpdateExpression: `${action} webhooks :id`,
        ExpressionAttributeValues: { ':id': new Set([id]) },
      }),
    )
  }
}
