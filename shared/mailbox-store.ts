/**
 * Mailboxes in S3: per mailbox, the raw message, the parsed message and a small index
 * entry. Writes are idempotent (keys derive from the message id), so a redelivered
 * queue message overwrites instead of duplicating.
 */
import type { S3Client } from '@aws-sdk/client-s3'
import { InvalidCursorError } from './errors.ts'
import {
  indexKey,
  indexPrefix,
  MAILBOXES_PREFIX,
  mailboxFromPrefix,
  messageKey,
  rawKey,
} from './mailbox-layout.ts'
import { type MessageSummary, type StoredMessage, summarize } from './message.ts'
import { S3Objects } from './s3-objects.ts'

export interface MessagePage {
  messages: MessageSummary[]
  /** Opaque; pass back as `cursor` for the next page, null on the last page. */
  nextCursor: string | null
}

export class MailboxStore {
  readonly objects: S3Objects

  constructor(s3: S3Client, bucket: string) {
    this.objects = new S3Objects(s3, bucket)
  }

  /**
   * Stores one message in its mailbox. The index entry goes last: a message that shows
   * in a listing can always be read.
   */
  async put(raw: Uint8Array, message: StoredMessage): Promise<void> {
    const { mailbox, id } = message
    await Promise.all([
      this.objects.putBytes(rawKey(mailbox, id), raw, 'message/rfc822'),
      this.objects.putJson(messageKey(mailbox, id), message),
    ])
    await this.objects.putJson(indexKey(mailbox, id), summarize(message))
  }

  async has(mailbox: string, id: string): Promise<boolean> {
    return (await this.objects.getBytes(indexKey(mailbox, id))) !== undefined
  }

  get(mailbox: string, id: string): Promise<StoredMessage | undefined> {
    return this.objects.getJson<StoredMessage>(messageKey(mailbox, id))
  }

  getRaw(mailbox: string, id: string): Promise<Uint8Array | undefined> {
    return this.objects.getBytes(rawKey(mailbox, id))
  }

  /** Removes a message; false when there was none. */
  async delete(mailbox: string, id: string): Promise<boolean> {
    if (!(await this.has(mailbox, id))) return false
    // Index first, so a half-done delete never leaves a listed message that cannot be read.
    await this.objects.delete(indexKey(mailbox, id))
    await Promise.all([
      this.objects.delete(messageKey(mailbox, id)),
      this.objects.delete(rawKey(mailbox, id)),
    ])
    return true
  }

  /** Every mailbox that has held a message. */
  async mailboxes(): Promise<string[]> {
    const out: string[] = []
    for await (const prefix of this.objects.listAll(MAILBOXES_PREFIX, '/')) {
      const mailbox = mailboxFromPrefix(prefix)
      if (mailbox !== undefined) out.push(mailbox)
    }
    return out
  }

  async count(mailbox: string): Promise<number> {
    let count = 0
    for await (const _key of this.objects.listAll(indexPrefix(mailbox))) count++
    return count
  }

  /** A page of summaries, newest first; the cursor is the last index key returned. */
  async list(mailbox: string, limit: number, cursor?: string): Promise<MessagePage> {
    const prefix = indexPrefix(mailbox)
    const startAfter = cursor === undefined ? undefined : decodeCursor(cursor, prefix)
    const page = await this.objects.listPage({ prefix, maxKeys: limit, startAfter })
    const keys = (page.Contents ?? []).flatMap(({ Key }) => (Key ? [Key] : [])).slice(0, limit)
    const summaries = await Promise.all(
      keys.map((key) => this.objects.getJson<MessageSummary>(key)),
    )
    const lastKey = keys.at(-1)
    return {
      // An entry deleted between the listing and the read is skipped, not an error.
      messages: summaries.filter((summary): summary is MessageSummary => summary !== undefined),
      nextCursor: page.IsTruncated && lastKey ? encodeCursor(lastKey, prefix) : null,
    }
  }
}

function encodeCursor(key: string, prefix: string): string {
  return Buffer.from(key.slice(prefix.length)).toString('base64url')
}

function decodeCursor(cursor: string, prefix: string): string {
  const rest = Buffer.from(cursor, 'base64url').toString('utf8')
  if (!/^[0-9A-Z]{26}\.json$/.test(rest)) throw new InvalidCursorError('cursor is not valid')
  return prefix + rest
}
