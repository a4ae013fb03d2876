/**
 * Which message each mailbox got for a fingerprint of the bytes a client sent, so that
 * ingest spots a client's retry of a message already queued (functions/ingest/retries.ts).
 * Each record expires after FINGERPRINT_TTL_MS.
 */
import { fingerprintPk, keys } from './keys.ts'
import { expiresIn, type Item, isExpired, type Table } from './table.ts'

// Longer than the retry window looked back (Postfix's 5 days).
export const FINGERPRINT_TTL_MS = 7 * 24 * 60 * 60 * 1000

/** That `mailbox` got `received` for `fingerprint`. */
export interface Memory {
  fingerprint: string
  mailbox: string
  received: Received
}

/** What a mailbox remembers about one fingerprint. */
export interface Received {
  messageId: string
  receivedAt: string
}

export class FingerprintStore {
  constructor(private readonly table: Table) {}

  /** What each mailbox got for this fingerprint, by mailboxKey(): one query for all of them. */
  async lookup(fingerprint: string): Promise<Map<string, Received>> {
    const items = await this.table.query({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': fingerprintPk(fingerprint) },
      ConsistentRead: true,
    })
    const out = new Map<string, Received>()
    for (const item of items) {
      if (isExpired(item)) continue
      out.set(String(item.sk), {
        messageId: String(item.messageId),
        receivedAt: String(item.receivedAt),
      })
    }
    return out
  }

  /**
   * Remembers each of `memories` (what a mailbox got for a fingerprint), a batch at a time;
   * of two for one fingerprint and mailbox the last wins, as the latest try should.
   */
  async remember(memories: Memory[]): Promise<void> {
    const items = new Map<string, Item>()
    for (const { fingerprint, mailbox, received } of memories) {
      const key = keys.fingerprint(fingerprint, mailbox)
      items.set(`${key.pk} ${key.sk}`, {
        ...key,
        ...received,
        expiresAt: expiresIn(FINGERPRINT_TTL_MS),
      })
    }
    await this.table.putMany([...items.values()])
  }
}
