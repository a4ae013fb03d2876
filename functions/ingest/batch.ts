/**
 * What the records of one SQS batch share: the endpoints subscribed to its mailboxes, read
 * once per batch, and the counters of mailboxes and routes, written once each when the
 * batch is done (a burst of ten messages to one mailbox is one counter write, not ten).
 */
import type { Stores } from '../../shared/compose.ts'
import type { Listeners } from '../../shared/store/endpoints.ts'
import { type RouteStats, UNROUTED } from '../../shared/store/routes.ts'
import type { DeliveryPlan } from './plan.ts'

// Cache keys of the three kinds of listener sets.
const EVERY_MAILBOX = 'all'
const mailboxKey = (mailbox: string) => `mbx ${mailbox}`
const routeKey = (routeId: string) => `route ${routeId}`

export class Batch {
  readonly #stores: Pick<Stores, 'mailboxes' | 'endpoints' | 'routes'>
  readonly #listeners = new Map<string, Promise<string[]>>()
  readonly #counts = new Map<string, { messages: number; bytes: number }>()
  readonly #routes = new Map<string, RouteStats>()

  constructor(stores: Pick<Stores, 'mailboxes' | 'endpoints' | 'routes'>) {
    this.#stores = stores
  }

  /**
   * Who listens to these mailboxes and routes, and to every mailbox: what the batch has
   * not read yet is read in one request. A failed read is forgotten, so it fails its
   * record alone.
   */
  async listeners(mailboxes: string[], routes: string[]): Promise<Listeners> {
    const missing = {
      mailboxes: mailboxes.filter((mailbox) => !this.#listeners.has(mailboxKey(mailbox))),
      routes: routes.filter((routeId) => !this.#listeners.has(routeKey(routeId))),
    }
    if (
      missing.mailboxes.length + missing.routes.length > 0 ||
      !this.#listeners.has(EVERY_MAILBOX)
    ) {
      const read = this.#stores.endpoints.listeners(missing.mailboxes, missing.routes)
      const keysRead = [
        ...missing.mailboxes.map(mailboxKey),
        ...missing.routes.map(routeKey),
        EVERY_MAILBOX,
      ]
      read.catch(() => {
        for (const key of keysRead) this.#listeners.delete(key)
      })
      const set = (key: string, pick: (found: Listeners) => string[]) =>
        this.#listeners.set(key, read.then(pick))
      for (const mailbox of missing.mailboxes) {
        set(mailboxKey(mailbox), (found) => found.byMailbox.get(mailbox) ?? [])
      }
      for (const routeId of missing.routes) {
        set(routeKey(routeId), (found) => found.byRoute.get(routeId) ?? [])
      }
      if (!this.#listeners.has(EVERY_MAILBOX)) set(EVERY_MAILBOX, (found) => found.everywhere)
    }
    const ids = (key: string) => this.#listeners.get(key) ?? Promise.resolve([])
    const [byMailbox, byRoute, everywhere] = await Promise.all([
      Promise.all(
        mailboxes.map(async (mailbox) => [mailbox, await ids(mailboxKey(mailbox))] as const),
      ),
      Promise.all(routes.map(async (routeId) => [routeId, await ids(routeKey(routeId))] as const)),
      ids(EVERY_MAILBOX),
    ])
    return { byMailbox: new Map(byMailbox), byRoute: new Map(byRoute), everywhere }
  }

  /** Counts a new entry of `bytes` bytes in `mailbox`. */
  added(mailbox: string, bytes: number): void {
    const count = this.#counts.get(mailbox) ?? { messages: 0, bytes: 0 }
    count.messages += 1
    count.bytes += bytes
    this.#counts.set(mailbox, count)
  }

  /** Counts what the routes did with one message's recipients. */
  routed(plan: Pick<DeliveryPlan, 'matched' | 'dropped' | 'unrouted'>): void {
    const stats = (id: string) => {
      const entry = this.#routes.get(id) ?? { matched: 0, dropped: 0 }
      this.#routes.set(id, entry)
      return entry
    }
    for (const [id, count] of plan.matched) stats(id).matched += count
    for (const { routeId } of plan.dropped) stats(routeId).dropped += 1
    if (plan.unrouted.length > 0) stats(UNROUTED).dropped += plan.unrouted.length
  }

  /**
   * Writes the counts. The entries are stored already, and a retried record would not
   * count them again, so a failure here is logged, not retried: the counters are then
   * short by what it names.
   */
  async flush(): Promise<void> {
    const routes = new Map(this.#routes)
    this.#routes.clear()
    await Promise.all([
      ...[...this.#counts].map(([mailbox, { messages, bytes }]) =>
        this.#stores.mailboxes.countOrLog(mailbox, { messages, bytes, unseen: messages }),
      ),
      this.#stores.routes.countOrLog(routes),
    ])
    this.#counts.clear()
  }
}
