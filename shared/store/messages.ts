/**
 * The bytes of each message, stored once however many mailboxes it reached: the raw
 * message and its parse, in S3. Beside them a `refs` item lists every mailbox that was
 * given the message, so that its bytes go only when the last of them lets go of it. Every
 * stored message has one, a single mailbox's too: a record that comes back after the
 * routes changed may put the message in another mailbox than its first attempt did, and
 * only the refs know of both. (Messages stored before there were always refs have none,
 * and release() deletes them at once, as it did then.)
 */
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb'
import type { ParsedMessage } from '../contracts/message.ts'
import { keys, mailboxRef, parsedKey, rawKey } from './keys.ts'
import type { S3Objects } from './objects.ts'
import { isConditionFailed, type Table } from './table.ts'

export class MessageStore {
  constructor(
    private readonly objects: S3Objects,
    private readonly table: Table,
  ) {}

  /** Writes the raw message and its parse; the same keys every time, so a redelivery overwrites. */
  async putBytes(raw: Uint8Array, parsed: ParsedMessage): Promise<void> {
    await Promise.all([
      this.objects.putBytes(rawKey(parsed.id), raw, 'message/rfc822'),
      this.objects.putJson(parsedKey(parsed.id), parsed),
    ])
  }

  getRaw(id: string): Promise<Uint8Array | undefined> {
    return this.objects.getBytes(rawKey(id))
  }

  getParsed(id: string): Promise<ParsedMessage | undefined> {
    return this.objects.getJson<ParsedMessage>(parsedKey(id))
  }

  /**
   * Records that these mailboxes hold the message, before their entries are written. A
   * set union: the same again (a redelivery) changes nothing.
   */
  async addRefs(id: string, mailboxes: string[]): Promise<void> {
    await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.refs(id),
        UpdateExpression: 'ADD refs :refs',
        ExpressionAttributeValues: { ':refs': new Set(mailboxes.map(mailboxRef)) },
      }),
    )
  }

  /**
   * After a mailbox's entry is deleted: lets go of the message, and deletes its bytes when
   * no mailbox refers to it any more.
   *
   * Without transactions one race is left: the last release and a redelivered ingest of
   * the same message at the same moment can leave its new refs without bytes. It needs a
   * record redelivered (after a failure) while the message is deleted everywhere.
   */
  async release(id: string, mailbox: string): Promise<void> {
    if (!(await this.releaseRef(id, mailbox))) return
    await Promise.all([this.objects.delete(rawKey(id)), this.objects.delete(parsedKey(id))])
  }

  /**
   * True when `mailbox` held the last reference (or there were none) and the refs item is
   * gone.
   */
  private async releaseRef(id: string, mailbox: string): Promise<boolean> {
    const { Attributes } = await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.refs(id),
        UpdateExpression: 'DELETE refs :ref',
        ExpressionAttributeValues: { ':ref': new Set([mailboxRef(mailbox)]) },
        ReturnValues: 'ALL_NEW',
      }),
    )
    if ((Attributes?.refs as Set<string> | undefined)?.size) return false
    try {
      // Only while still unreferenced: a redelivered record may have added refs meanwhile.
      await this.table.doc.send(
        new DeleteCommand({
          TableName: this.table.name,
          Key: keys.refs(id),
          ConditionExpression: 'attribute_not_exists(refs)',
        }),
      )
      return true
    } catch (error) {
      if (isConditionFailed(error)) return false
      throw error
    }
  }
}
