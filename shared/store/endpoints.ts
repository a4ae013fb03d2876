/**
 * Webhook endpoints, with their secrets, and who listens to what: an endpoint for one
 * mailbox is in that mailbox's subscription set (MailboxStore), one for every mailbox in
 * the `#all` set. Ingest reads only those sets, never the list of endpoints.
 */
import { randomBytes } from 'node:crypto'
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb'
import type { WebhookEndpoint } from '../contracts/webhook.ts'
import { keys, WEBHOOKS_PK } from './keys.ts'
import type { MailboxStore } from './mailboxes.ts'
import { type Item, type Table, withoutKey } from './table.ts'

const ENDPOINT_ID = /^wh_[0-9a-f]{20}$/

export function newEndpointId(): string {
  return `wh_${randomBytes(10).toString('hex')}`
}

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`
}

function toEndpoint(item: Item): WebhookEndpoint {
  return withoutKey(item) as unknown as WebhookEndpoint
}

export class EndpointStore {
  constructor(
    private readonly table: Table,
    private readonly mailboxes: MailboxStore,
  ) {}

  /** Stores a new endpoint, then subscribes it: a subscription never names a missing endpoint. */
  async create(input: { url: string; mailbox: string | null }): Promise<WebhookEndpoint> {
    const endpoint: WebhookEndpoint = {
      id: newEndpointId(),
      url: input.url,
      mailbox: input.mailbox,
      secret: newWebhookSecret(),
      createdAt: new Date().toISOString(),
    }
    await this.table.doc.send(
      new PutCommand({
        TableName: this.table.name,
        Item: { ...keys.endpoint(endpoint.id), ...endpoint },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    )
    if (endpoint.mailbox === null) await this.updateAll('ADD', endpoint.id)
    else await this.mailboxes.subscribe(endpoint.mailbox, endpoint.id)
    return endpoint
  }

  async get(id: string): Promise<WebhookEndpoint | undefined> {
    if (!ENDPOINT_ID.test(id)) return undefined
    const { Item } = await this.table.doc.send(
      new GetCommand({ TableName: this.table.name, Key: keys.endpoint(id) }),
    )
    return Item && toEndpoint(Item)
  }

  /** Every endpoint, oldest first. */
  async list(): Promise<WebhookEndpoint[]> {
    const items = await this.table.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :wh)',
      ExpressionAttributeValues: { ':pk': WEBHOOKS_PK, ':wh': 'wh_' },
    })
    return items
      .map(toEndpoint)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
  }

  /** Unsubscribes, then deletes; false when there was no such endpoint. */
  async delete(id: string): Promise<boolean> {
    const endpoint = await this.get(id)
    if (endpoint === undefined) return false
    if (endpoint.mailbox === null) await this.updateAll('DELETE', id)
    else await this.mailboxes.unsubscribe(endpoint.mailbox, id)
    const { Attributes } = await this.table.doc.send(
      new DeleteCommand({
        TableName: this.table.name,
        Key: keys.endpoint(id),
        ReturnValues: 'ALL_OLD',
      }),
    )
    return Attributes !== undefined
  }

  /** The endpoints subscribed to every mailbox. */
  async subscribedToAll(): Promise<string[]> {
    const { Item } = await this.table.doc.send(
      new GetCommand({ TableName: this.table.name, Key: keys.allMailboxesSubscription() }),
    )
    return [...((Item?.ids as Set<string>) ?? [])]
  }

  private async updateAll(action: 'ADD' | 'DELETE', id: string): Promise<void> {
    await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.allMailboxesSubscription(),
        UpdateExpression: `${action} ids :id`,
        ExpressionAttributeValues: { ':id': new Set([id]) },
      }),
    )
  }
}
