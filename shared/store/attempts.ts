/**
 * The attempt log: one item per attempt at a webhook, under its endpoint, newest last by
 * sort key (`{at}#{nonce}`), kept for ATTEMPT_TTL_MS. Beside it, the endpoint's failed
 * events (one item per message whose notification failed), so that "replay every failed
 * event since a time" is one query by message id, which sorts by time (ULID).
 */
import { randomBytes } from 'node:crypto'
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb'
import { encodeTime } from 'ulid'
import type { WebhookAttempt } from '../contracts/webhook-api.ts'
import { InvalidCursorError } from '../errors.ts'
import { attemptsPk, failedEventsPk, keys } from './keys.ts'
import { expiresIn, type Item, isExpired, type Table, withoutKey } from './table.ts'

/** How long attempts and failed events are kept: past any retry, long enough to look back. */
export const ATTEMPT_TTL_MS = 30 * 24 * 60 * 60 * 1000
// Characters of a ULID that encode its time.
const ULID_TIME_CHARS = 10

export interface AttemptPage {
  items: WebhookAttempt[]
  nextCursor: string | null
}

function toAttempt(item: Item): WebhookAttempt {
  const { expiresAt: _expiresAt, ...attempt } = withoutKey(item)
  return attempt as unknown as WebhookAttempt
}

export class AttemptStore {
  constructor(private readonly table: Table) {}

  async record(attempt: WebhookAttempt): Promise<void> {
    await this.table.doc.send(
      new PutCommand({
        TableName: this.table.name,
        Item: {
          ...keys.attempt(attempt.endpointId, attempt.at, randomBytes(4).toString('hex')),
          ...attempt,
          expiresAt: expiresIn(ATTEMPT_TTL_MS),
        },
      }),
    )
  }

  /** A page of an endpoint's attempts, newest first, optionally of one status. */
  async page(
    endpointId: string,
    options: { limit: number; cursor?: string; status?: WebhookAttempt['status'] },
  ): Promise<AttemptPage> {
    const values: Record<string, unknown> = { ':pk': attemptsPk(endpointId) }
    let condition = 'pk = :pk'
    if (options.cursor !== undefined) {
      values[':before'] = decodeCursor(options.cursor)
      condition += ' AND sk < :before'
    }
    if (options.status !== undefined) values[':status'] = options.status
    const items = await this.table.query(
      {
        KeyConditionExpression: condition,
        ...(options.status !== undefined && {
          FilterExpression: '#status = :status',
          ExpressionAttributeNames: { '#status': 'status' },
        }),
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
      },
      options.limit + 1,
    )
    const live = items.filter((item) => !isExpired(item))
    const page = live.slice(0, options.limit)
    const last = page.at(-1)
    return {
      items: page.map(toAttempt),
      nextCursor:
        live.length > options.limit && last
          ? Buffer.from(String(last.sk)).toString('base64url')
          : null,
    }
  }

  /** Notes that the notification of `messageId` failed, for a later replay. */
  async failed(endpointId: string, messageId: string, at: string): Promise<void> {
    await this.table.doc.send(
      new PutCommand({
        TableName: this.table.name,
        Item: {
          ...keys.failedEvent(endpointId, messageId),
          endpointId,
          messageId,
          failedAt: at,
          expiresAt: expiresIn(ATTEMPT_TTL_MS),
        },
      }),
    )
  }

  /** Forgets a failed event (it was delivered after all). */
  async recovered(endpointId: string, messageId: string): Promise<void> {
    await this.table.doc.send(
      new DeleteCommand({
        TableName: this.table.name,
        Key: keys.failedEvent(endpointId, messageId),
      }),
    )
  }

  /** Ids of the endpoint's failed events whose message arrived at or after `since`, oldest first. */
  async failedSince(endpointId: string, since: Date): Promise<string[]> {
    const items = await this.table.query({
      KeyConditionExpression: 'pk = :pk AND sk >= :since',
      ExpressionAttributeValues: {
        ':pk': failedEventsPk(endpointId),
        ':since': encodeTime(since.getTime(), ULID_TIME_CHARS),
      },
    })
    return items.filter((item) => !isExpired(item)).map((item) => String(item.messageId))
  }
}

function decodeCursor(cursor: string): string {
  const sk = Buffer.from(cursor, 'base64url').toString('utf8')
  if (!/^\d{4}-\d\d-\d\dT[\d:.]+Z#[0-9a-f]{8}$/.test(sk)) {
    throw new InvalidCursorError('This cursor was not handed out by this listing')
  }
  return sk
}
