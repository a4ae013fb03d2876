/**
 * Which message each mailbox got for a fingerprint of the bytes a client sent, so that
 * ingest spots a client's retry of a message already queued (functions/ingest/retries.ts).
 * Each record expires after FINGERPRINT_TTL_MS.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb'
import { fingerprintPk, keys } from './keys.ts'
import { expiresIn, isExpired, type Table } from './table.ts'

// Longer than the retry window looked back (Postfix's 5 days).
export const FINGERPRINT_TTL_MS = 7 * 24 * 60 * 60 * 1000

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

  /** Remembers `received` for each mailbox; the last write wins, as the latest try should. */
  async remember(fingerprint: string, mailboxes: string[], received: Received): Promise<void> {
    await Promise.all(
      mailboxes.map((mailbox) =>
        this.table.doc.send(
          new PutCommand({
            TableName: this.table.name,
            Item: {
              ...keys.fingerprint(fingerprint, mailbox),
              ...received,
              expiresAt: expiresIn(FINGERPRINT_TTL_MS),
            },
          }),
        ),
      ),
    )
  }
}
