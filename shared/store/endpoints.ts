/**
 * Webhook endpoints, with their keys, and who listens to what: an endpoint for one
 * mailbox is in that mailbox's subscription set (MailboxStore), one for every mailbox in
 * the `#all` set. Ingest reads only those sets, never the list of endpoints. Every change
 * is announced (endpoint-changes.ts) to the copies ingest and deliver keep.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb'
import { type WebhookEndpoint, WebhookEndpointSchema } from '../contracts/webhook.ts'
import type { CreateWebhook, UpdateWebhook } from '../contracts/webhook-api.ts'
import { announceEndpointChange } from './endpoint-changes.ts'
import { keys, type TableKey, WEBHOOKS_PK } from './keys.ts'
import type { MailboxStore } from './mailboxes.ts'
import { type Item, isConditionFailed, type Table, withoutKey } from './table.ts'

const ENDPOINT_ID = /^wh_[0-9a-f]{20}$/

export function newEndpointId(): string {
  return `wh_${randomBytes(10).toString('hex')}`
}

/** A new `whsec_` secret: 24 random bytes, base64. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`
}

/** A new ed25519 key pair: `whsk_` and the 32-byte seed, `whpk_` and the 32-byte public key. */
export function newSigningKeyPair(): { signingKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32)
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32)
  return {
    signingKey: `whsk_${seed.toString('base64')}`,
    publicKey: `whpk_${raw.toString('base64')}`,
  }
}

/** A stored item as an endpoint; fields added since it was written take their defaults. */
function toEndpoint(item: Item): WebhookEndpoint {
  return WebhookEndpointSchema.parse(withoutKey(item))
}

/** Endpoint ids by what they listen to (EndpointStore.listeners). */
export interface Listeners {
  byMailbox: Map<string, string[]>
  everywhere: string[]
  byRoute: Map<string, string[]>
}

/** What creating an endpoint takes: the API's body, with the mailbox already normalised. */
export type NewEndpoint = Omit<CreateWebhook, 'mailbox'> & { mailbox: string | null }

export class EndpointStore {
  constructor(
    private readonly table: Table,
    private readonly mailboxes: MailboxStore,
  ) {}

  /** Stores a new endpoint, then subscribes it: a subscription never names a missing endpoint. */
  async create(input: NewEndpoint): Promise<WebhookEndpoint> {
    const endpoint = WebhookEndpointSchema.parse({
      ...input,
      id: newEndpointId(),
      secret: newWebhookSecret(),
      ...(input.signing === 'v1a' && newSigningKeyPair()),
      createdAt: new Date().toISOString(),
    })
    await this.table.doc.send(
      new PutCommand({
        TableName: this.table.name,
        Item: { ...keys.endpoint(endpoint.id), ...endpoint },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    )
    await this.subscribe(endpoint, 'ADD')
    return endpoint
  }

  /**
   * Adds the endpoint to (or removes it from) the sets ingest reads: its mailbox's, every
   * mailbox's (no mailbox and no routes), and each of its routes'.
   */
  private async subscribe(
    endpoint: Pick<WebhookEndpoint, 'id' | 'mailbox' | 'routes'>,
    action: 'ADD' | 'DELETE',
  ): Promise<void> {
    const { id, mailbox, routes } = endpoint
    if (mailbox !== null) {
      if (action === 'ADD') await this.mailboxes.subscribe(mailbox, id)
      else await this.mailboxes.unsubscribe(mailbox, id)
    } else if (routes.length === 0) {
      await this.updateSet(keys.allMailboxesSubscription(), action, id)
    }
    for (const routeId of routes) await this.updateSet(keys.routeSubscription(routeId), action, id)
    announceEndpointChange()
  }

  /**
   * Who listens to what, in one read: the endpoints of each of `mailboxes`, of every
   * mailbox (`everywhere`), and of each of `routes` (besides those its notify actions name).
   */
  async listeners(mailboxes: string[], routes: string[]): Promise<Listeners> {
    const wanted = [
      ...mailboxes.map((mailbox) => keys.mailboxMeta(mailbox)),
      keys.allMailboxesSubscription(),
      ...routes.map((routeId) => keys.routeSubscription(routeId)),
    ]
    const found = new Map(
      (await this.table.getMany(wanted, 'pk, sk, webhooks, ids')).map((item) => [
        `${item.pk}\n${item.sk}`,
        [...((item.webhooks ?? item.ids ?? []) as Set<string>)],
      ]),
    )
    const ids = (key: TableKey) => found.get(`${key.pk}\n${key.sk}`) ?? []
    return {
      byMailbox: new Map(mailboxes.map((mailbox) => [mailbox, ids(keys.mailboxMeta(mailbox))])),
      everywhere: ids(keys.allMailboxesSubscription()),
      byRoute: new Map(routes.map((routeId) => [routeId, ids(keys.routeSubscription(routeId))])),
    }
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

  /**
   * Changes settings; undefined when there is no such endpoint. Enabling an endpoint
   * forgets why it was disabled and its run of failures, so it gets five days afresh.
   */
  async update(id: string, changes: UpdateWebhook): Promise<WebhookEndpoint | undefined> {
    const set: Record<string, unknown> = { ...changes }
    if (changes.enabled === true) {
      Object.assign(set, { disabledReason: null, failingSince: null, pausedUntil: 0 })
    }
    const before = changes.routes === undefined ? undefined : await this.get(id)
    const after = await this.set(id, set)
    if (before !== undefined && after !== undefined) {
      // New subscriptions first: a message in between is notified twice, never missed.
      await this.subscribe(after, 'ADD')
      const dropped = before.routes.filter((route) => !after.routes.includes(route))
      const wasAll = before.mailbox === null && before.routes.length === 0
      const isAll = after.mailbox === null && after.routes.length === 0
      for (const routeId of dropped) {
        await this.updateSet(keys.routeSubscription(routeId), 'DELETE', id)
      }
      if (wasAll && !isAll) await this.updateSet(keys.allMailboxesSubscription(), 'DELETE', id)
    }
    return after
  }

  /**
   * A new secret (and key pair, for v1a), the old one signing beside it until `overlapMs`
   * from now; keys whose overlap has ended are dropped.
   */
  async rotate(
    id: string,
    overlapMs: number,
    now = Date.now(),
  ): Promise<WebhookEndpoint | undefined> {
    const endpoint = await this.get(id)
    if (endpoint === undefined) return undefined
    const until = new Date(now + overlapMs).toISOString()
    const current = {
      secret: endpoint.secret,
      ...(endpoint.signingKey && { signingKey: endpoint.signingKey }),
      until,
    }
    const kept = endpoint.previousKeys.filter((key) => Date.parse(key.until) > now)
    return this.set(
      id,
      {
        secret: newWebhookSecret(),
        ...(endpoint.signing === 'v1a' && newSigningKeyPair()),
        previousKeys: overlapMs > 0 ? [current, ...kept] : kept,
      },
      // Only if nobody rotated meanwhile: two rotations at once must not lose a key.
      { secret: endpoint.secret },
    )
  }

  /** Stops sending to the endpoint, saying why (410, days of failures). */
  async disable(id: string, reason: string): Promise<void> {
    await this.set(id, { enabled: false, disabledReason: reason })
  }

  /**
   * Marks the start of a run of failures. Called only when the endpoint was not failing;
   * two failures racing here write nearly the same time, which is harmless.
   */
  async startFailing(id: string, now: number): Promise<void> {
    await this.set(id, { failingSince: new Date(now).toISOString() })
  }

  /** Ends a run of failures (a 2xx came back). */
  async healthy(id: string): Promise<void> {
    await this.set(id, { failingSince: null })
  }

  /** Holds back every webhook to the endpoint until `until` (epoch ms): it asked to slow down. */
  async pause(id: string, until: number): Promise<void> {
    await this.set(id, { pausedUntil: until })
  }

  /** Unsubscribes, then deletes; false when there was no such endpoint. */
  async delete(id: string): Promise<boolean> {
    const endpoint = await this.get(id)
    if (endpoint === undefined) return false
    await this.subscribe(endpoint, 'DELETE')
    const { Attributes } = await this.table.doc.send(
      new DeleteCommand({
        TableName: this.table.name,
        Key: keys.endpoint(id),
        ReturnValues: 'ALL_OLD',
      }),
    )
    announceEndpointChange()
    return Attributes !== undefined
  }

  /**
   * Sets attributes of an existing endpoint (undefined when there is none, or when an
   * attribute of `expect` no longer has its value) and returns it as it is now.
   */
  private async set(
    id: string,
    values: Record<string, unknown>,
    expect: Record<string, unknown> = {},
  ): Promise<WebhookEndpoint | undefined> {
    if (!ENDPOINT_ID.test(id)) return undefined
    const entries = Object.entries(values).filter(([, value]) => value !== undefined)
    // Nothing to change (an empty PATCH): the endpoint as it is.
    if (entries.length === 0 && Object.keys(expect).length === 0) return this.get(id)
    const names: Record<string, string> = {}
    const vals: Record<string, unknown> = {}
    const sets = entries.map(([name, value], i) => {
      names[`#n${i}`] = name
      vals[`:v${i}`] = value
      return `#n${i} = :v${i}`
    })
    const conditions = ['attribute_exists(pk)']
    Object.entries(expect).forEach(([name, value], i) => {
      names[`#e${i}`] = name
      vals[`:e${i}`] = value
      conditions.push(`#e${i} = :e${i}`)
    })
    try {
      const { Attributes } = await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.endpoint(id),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: vals,
          ReturnValues: 'ALL_NEW',
        }),
      )
      announceEndpointChange()
      return Attributes && toEndpoint(Attributes)
    } catch (error) {
      if (isConditionFailed(error)) return undefined
      throw error
    }
  }

  private async updateSet(key: TableKey, action: 'ADD' | 'DELETE', id: string): Promise<void> {
    await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: key,
        UpdateExpression: `${action} ids :id`,
        ExpressionAttributeValues: { ':id': new Set([id]) },
      }),
    )
    announceEndpointChange()
  }
}
