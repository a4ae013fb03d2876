/**
 * Routes: kept in the table (the API's reads and writes), and published after every
 * change as one snapshot object, routes/routes.json, which is all the edge and ingest read
 * (RouteSnapshot). The edge so needs read access to one object, not to the table.
 *
 * A version counter orders the snapshots: each change bumps it, then writes the snapshot
 * of every route; a writer that finds the counter moved on while it wrote writes again,
 * so the last snapshot written always holds the last change.
 */
import { randomBytes } from 'node:crypto'
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb'
import type { Quota, Route, RouteSet } from '../contracts/route.ts'
import type { Logger } from '../logger.ts'
import { DEFAULT_ROUTES, sortRoutes } from '../routing/route-table.ts'
import {
  keys,
  QUOTA_PREFIX,
  ROUTE_PREFIX,
  ROUTE_STATS_PREFIX,
  ROUTES_KEY,
  ROUTES_PK,
} from './keys.ts'
import type { S3Objects } from './objects.ts'
import { type Item, type Table, withoutKey } from './table.ts'

export function newRouteId(): string {
  return `rt_${randomBytes(10).toString('hex')}`
}

/** How often a route was matched and how often it dropped a recipient. */
export interface RouteStats {
  matched: number
  dropped: number
}

export class RouteStore {
  readonly #listeners = new Set<(set: RouteSet) => Promise<void> | void>()

  constructor(
    private readonly table: Table,
    private readonly objects: S3Objects,
    private readonly logger: Logger,
  ) {}

  /**
   * Every route, in evaluation order. A store that never had routes saved holds
   * DEFAULT_ROUTES, as the edge and ingest apply them; the first change writes them.
   */
  async list(): Promise<Route[]> {
    const items = await this.table.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': ROUTES_PK, ':prefix': ROUTE_PREFIX },
    })
    if (items.length === 0 && (await this.version()) === 0) return DEFAULT_ROUTES
    return sortRoutes(items.map((item) => JSON.parse(item.route as string) as Route))
  }

  async get(id: string): Promise<Route | undefined> {
    const { Item } = await this.table.doc.send(
      new GetCommand({ TableName: this.table.name, Key: keys.route(id) }),
    )
    if (Item) return JSON.parse(Item.route as string) as Route
    return (await this.version()) === 0
      ? DEFAULT_ROUTES.find((route) => route.id === id)
      : undefined
  }

  /**
   * Calls `listener` with every snapshot this store publishes, and waits for it before
   * the change returns: local mode's edge so has a route before the API answers.
   */
  onPublish(listener: (set: RouteSet) => Promise<void> | void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Stores a route (created, or replacing one of the same id), then publishes. */
  async put(route: Route): Promise<'created' | 'replaced'> {
    await this.materializeDefaults()
    const { Attributes } = await this.table.doc.send(
      new PutCommand({
        TableName: this.table.name,
        // One JSON string: a route's nesting maps poorly onto DynamoDB attributes.
        Item: { ...keys.route(route.id), route: JSON.stringify(route) },
        ReturnValues: 'ALL_OLD',
      }),
    )
    await this.publish()
    return Attributes ? 'replaced' : 'created'
  }

  /** Deletes a route, then publishes; false when there was none. */
  async delete(id: string): Promise<boolean> {
    await this.materializeDefaults()
    const { Attributes } = await this.table.doc.send(
      new DeleteCommand({
        TableName: this.table.name,
        Key: keys.route(id),
        ReturnValues: 'ALL_OLD',
      }),
    )
    if (Attributes === undefined) return false
    await this.publish()
    return true
  }

  /** The quotas set on mailboxes themselves, by mailbox. */
  async quotas(): Promise<Record<string, Quota>> {
    const items = await this.table.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': ROUTES_PK, ':prefix': QUOTA_PREFIX },
    })
    return Object.fromEntries(
      items.map((item) => [String(item.mailbox), JSON.parse(String(item.quota)) as Quota]),
    )
  }

  /** Sets (or with null, removes) a mailbox's own quota, then publishes. */
  async setQuota(mailbox: string, quota: Quota | null): Promise<void> {
    const key = keys.mailboxQuota(mailbox)
    const TableName = this.table.name
    if (quota === null) await this.table.doc.send(new DeleteCommand({ TableName, Key: key }))
    else {
      const Item = { ...key, mailbox, quota: JSON.stringify(quota) }
      await this.table.doc.send(new PutCommand({ TableName, Item }))
    }
    await this.publish()
  }

  /**
   * Makes sure a route set exists: a store that never had one gets DEFAULT_ROUTES (or
   * `seed`, the routes of MAILBRIDGE_ROUTES_FILE). With `seed`, routes that came from the
   * file before and are no longer in it are deleted, and those in it replace their
   * earlier version; routes made through the API are left alone. Publishes either way,
   * which also repairs a snapshot a crash left behind its table.
   */
  async initialize(seed?: Route[]): Promise<void> {
    const fresh = (await this.version()) === 0
    if (seed !== undefined) {
      const kept = new Set(seed.map((route) => route.id))
      const stale = (await this.list()).filter(
        (route) => route.origin === 'file' && !kept.has(route.id),
      )
      for (const route of stale) {
        await this.table.doc.send(
          new DeleteCommand({ TableName: this.table.name, Key: keys.route(route.id) }),
        )
      }
    }
    const routes = seed ?? (fresh ? DEFAULT_ROUTES : [])
    await this.write(routes)
    await this.publish()
    this.logger.info({ seeded: routes.length, fresh }, 'route set published')
  }

  /** Bumps the version and writes the snapshot, again until no other writer overtook it. */
  async publish(): Promise<RouteSet> {
    let version = await this.bump()
    for (;;) {
      const [routes, quotas] = await Promise.all([this.list(), this.quotas()])
      const snapshot: RouteSet = { version, updatedAt: new Date().toISOString(), routes, quotas }
      await this.objects.putJson(ROUTES_KEY, snapshot)
      const now = await this.version()
      if (now === version) {
        await Promise.all([...this.#listeners].map((listener) => listener(snapshot)))
        return snapshot
      }
      version = now
    }
  }

  /** The defaults a store without routes applies, written before its first change. */
  private async materializeDefaults(): Promise<void> {
    if ((await this.version()) === 0) await this.write(DEFAULT_ROUTES)
  }

  private async write(routes: Route[]): Promise<void> {
    for (const route of routes) {
      await this.table.doc.send(
        new PutCommand({
          TableName: this.table.name,
          Item: { ...keys.route(route.id), route: JSON.stringify(route) },
        }),
      )
    }
  }

  /**
   * Counts matches and drops, added to what is there (ingest, once per batch). A failure
   * is logged, not thrown: the mail is stored, and the counts are then short by what the
   * log names. (A record retried after a failure later in its batch counts again.)
   */
  async countOrLog(counts: Map<string, RouteStats>): Promise<void> {
    await Promise.all(
      [...counts].map(([id, { matched, dropped }]) =>
        this.table.doc
          .send(
            new UpdateCommand({
              TableName: this.table.name,
              Key: keys.routeStats(id),
              UpdateExpression: 'ADD matched :m, dropped :d',
              ExpressionAttributeValues: { ':m': matched, ':d': dropped },
            }),
          )
          .catch((error: unknown) =>
            this.logger.error(
              { err: error, route: id, matched, dropped },
              'route counts not written',
            ),
          ),
      ),
    )
  }

  /** Every route's counts, by route id; UNROUTED holds the recipients no route matched. */
  async stats(): Promise<Map<string, RouteStats>> {
    const items = await this.table.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': ROUTES_PK, ':prefix': ROUTE_STATS_PREFIX },
    })
    return new Map(
      items.map((item: Item) => {
        const { sk, matched, dropped } = item as { sk: string; matched?: number; dropped?: number }
        return [
          sk.slice(ROUTE_STATS_PREFIX.length),
          { matched: Number(matched ?? 0), dropped: Number(dropped ?? 0) },
        ]
      }),
    )
  }

  private async version(): Promise<number> {
    const { Item } = await this.table.doc.send(
      new GetCommand({
        TableName: this.table.name,
        Key: keys.routesVersion(),
        ConsistentRead: true,
      }),
    )
    return Number(Item?.version ?? 0)
  }

  private async bump(): Promise<number> {
    const { Attributes } = await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.routesVersion(),
        UpdateExpression: 'ADD version :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    )
    return Number(withoutKey(Attributes ?? {}).version)
  }
}

/** The stats key of the recipients no route matched (not a valid route id). */
export const UNROUTED = '#unrouted'
