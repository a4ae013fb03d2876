/**
 * Where each notification (a message for an endpoint) stands, beside the message in the
 * table. Kept for DELIVERY_TTL_MS: longer than any job can wait in the webhook queue.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb'
import type { Delivery } from '../contracts/webhook-api.ts'
import { keys } from './keys.ts'
import {
  expiresIn,
  type Item,
  isConditionFailed,
  isExpired,
  type Table,
  withoutKey,
} from './table.ts'

// SQS keeps a message 14 days at most.
export const DELIVERY_TTL_MS = 14 * 24 * 60 * 60 * 1000

function toDelivery(item: Item): Delivery {
  const { expiresAt: _expiresAt, ...delivery } = withoutKey(item)
  return delivery as unknown as Delivery
}

export class DeliveryStore {
  constructor(private readonly table: Table) {}

  async get(messageId: string, endpointId: string): Promise<Delivery | undefined> {
    const { Item } = await this.table.doc.send(
      new GetCommand({
        TableName: this.table.name,
        Key: keys.delivery(messageId, endpointId),
        ConsistentRead: true,
      }),
    )
    return Item && !isExpired(Item) ? toDelivery(Item) : undefined
  }

  /**
   * Claims the sending of a notification's job: `claimed` when this call created its
   * record, else the record someone else made (a redelivery, or an invocation racing this
   * one).
   */
  async claim(messageId: string, endpointId: string): Promise<'claimed' | Delivery> {
    const delivery: Delivery = {
      messageId,
      endpointId,
      status: 'claimed',
      attempts: 0,
      updatedAt: new Date().toISOString(),
    }
    try {
      await this.table.doc.send(
        new PutCommand({
          TableName: this.table.name,
          Item: {
            ...keys.delivery(messageId, endpointId),
            ...delivery,
            expiresAt: expiresIn(DELIVERY_TTL_MS),
          },
          // An expired record is one DynamoDB has not deleted yet (or an emulator never will).
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
          ExpressionAttributeValues: { ':now': Math.floor(Date.now() / 1000) },
        }),
      )
      return 'claimed'
    } catch (error) {
      if (!isConditionFailed(error)) throw error
    }
    const existing = await this.get(messageId, endpointId)
    // Expired between the two requests: nothing newer to go by, so it is ours.
    return existing ?? 'claimed'
  }

  /** Marks a claimed job sent; a deliver attempt that came first has said more already. */
  async sent(messageId: string, endpointId: string): Promise<void> {
    try {
      await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.delivery(messageId, endpointId),
          UpdateExpression: 'SET #status = :queued, updatedAt = :now',
          ConditionExpression: '#status = :claimed',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':queued': 'queued',
            ':claimed': 'claimed',
            ':now': new Date().toISOString(),
          },
        }),
      )
    } catch (error) {
      if (!isConditionFailed(error)) throw error
    }
  }

  /**
   * Records the outcome of the attempt made when `expected` attempts had been recorded:
   * `stale` when another attempt was recorded first (a job that SQS handed over twice),
   * whose outcome then stands. A delivered notification stays delivered.
   */
  async attempted(
    messageId: string,
    endpointId: string,
    expected: number,
    result: {
      status: 'delivered' | 'queued' | 'failed'
      detail: string
      nextAttemptAt?: string
      /** The job's mailboxes and recipients, kept for a replay. */
      mailboxes: string[]
      rcptTo: string[]
    },
  ): Promise<'recorded' | 'stale'> {
    const values: Record<string, unknown> = {
      ':messageId': messageId,
      ':endpointId': endpointId,
      ':status': result.status,
      ':delivered': 'delivered',
      ':now': new Date().toISOString(),
      ':detail': result.detail,
      ':expires': expiresIn(DELIVERY_TTL_MS),
      ':expected': expected,
      ':next': expected + 1,
      ':mailboxes': result.mailboxes,
      ':rcptTo': result.rcptTo,
    }
    if (result.nextAttemptAt !== undefined) values[':at'] = result.nextAttemptAt
    try {
      await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.delivery(messageId, endpointId),
          UpdateExpression:
            'SET messageId = :messageId, endpointId = :endpointId, #status = :status, ' +
            'updatedAt = :now, lastResult = :detail, expiresAt = :expires, attempts = :next, ' +
            'mailboxes = :mailboxes, rcptTo = :rcptTo' +
            (result.nextAttemptAt === undefined
              ? ' REMOVE nextAttemptAt'
              : ', nextAttemptAt = :at'),
          // A record that a first job finds missing (expired, or written by an older ingest)
          // counts as none made.
          ConditionExpression:
            '(attribute_not_exists(attempts) AND :expected = :zero) OR ' +
            '(attempts = :expected AND #status <> :delivered)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ...values, ':zero': 0 },
        }),
      )
      return 'recorded'
    } catch (error) {
      if (!isConditionFailed(error)) throw error
      return 'stale'
    }
  }

  /**
   * Reopens a delivered or failed notification for a replay: it becomes `queued` again and
   * keeps its attempt count, which the replay's job carries. Undefined when there is no
   * such record (expired) or it is still on its way (`claimed`, `queued`).
   */
  async reopen(messageId: string, endpointId: string): Promise<Delivery | undefined> {
    try {
      const { Attributes } = await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.delivery(messageId, endpointId),
          UpdateExpression: 'SET #status = :queued, updatedAt = :now, expiresAt = :expires',
          ConditionExpression: '#status IN (:delivered, :failed) AND expiresAt > :epoch',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':queued': 'queued',
            ':delivered': 'delivered',
            ':failed': 'failed',
            ':now': new Date().toISOString(),
            ':expires': expiresIn(DELIVERY_TTL_MS),
            ':epoch': Math.floor(Date.now() / 1000),
          },
          ReturnValues: 'ALL_NEW',
        }),
      )
      return Attributes && toDelivery(Attributes)
    } catch (error) {
      if (!isConditionFailed(error)) throw error
      return undefined
    }
  }

  /** Every notification of a message, one per endpoint it was sent to. */
  async ofMessage(messageId: string): Promise<Delivery[]> {
    const items = await this.table.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :dlv)',
      ExpressionAttributeValues: { ':pk': keys.refs(messageId).pk, ':dlv': 'dlv#' },
      ConsistentRead: true,
    })
    return items.filter((item) => !isExpired(item)).map(toDelivery)
  }
}
