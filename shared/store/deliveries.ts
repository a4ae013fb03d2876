/**
 * Where each notification (a message for an endpoint) stands, beside the message in the
 * table. Kept for DELIVERY_TTL_MS: longer than any job can wait in the webhook queue.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb'
import type { Delivery } from '../contracts/webhook.ts'
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
   * Counts one attempt atomically and records its result; returns the new state. A
   * delivered notification stays delivered, whatever a late duplicate attempt got.
   */
  async attempted(
    messageId: string,
    endpointId: string,
    result: { ok: boolean; detail: string },
  ): Promise<Delivery | undefined> {
    try {
      const { Attributes } = await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.delivery(messageId, endpointId),
          UpdateExpression:
            'SET messageId = :messageId, endpointId = :endpointId, #status = :status, ' +
            'updatedAt = :now, lastResult = :detail, expiresAt = :expires ADD attempts :one',
          ConditionExpression: 'attribute_not_exists(#status) OR #status <> :delivered',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':messageId': messageId,
            ':endpointId': endpointId,
            ':status': result.ok ? 'delivered' : 'queued',
            ':delivered': 'delivered',
            ':now': new Date().toISOString(),
            ':detail': result.detail,
            ':expires': expiresIn(DELIVERY_TTL_MS),
            ':one': 1,
          },
          ReturnValues: 'ALL_NEW',
        }),
      )
      return Attributes && toDelivery(Attributes)
    } catch (error) {
      if (!isConditionFailed(error)) throw error
      return this.get(messageId, endpointId)
    }
  }
}
