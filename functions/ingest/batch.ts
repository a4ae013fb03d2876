/**
 * What the records of one SQS batch share: the counters of mailboxes and routes, written
 * once each when the batch is done (a burst of ten messages to one mailbox is one counter
 * write, not ten).
 */
import type { Stores } from '../../shared/compose.ts'
import type { EntryRef } from '../../shared/store/mailboxes.ts'
import { type RouteStats, UNROUTED } from '../../shared/store/routes.ts'
import type { DeliveryPlan } from './plan.ts'

export class Batch {
  readonly #stores: Pick<Stores, 'mailboxes' | 'routes'>
  readonly #entries = new Map<string, EntryRef[]>()
  readonly #routes = new Map<string, RouteStats>()

  constructor(stores: Pick<Stores, 'mailboxes' | 'routes'>) {
    this.#stores = stores
  }

  /** Notes an entry of `bytes` bytes in `mailbox`, stored now or found stored, to count. */
  stored(mailbox: string, id: string, bytes: number): void {
    this.#entries.set(mailbox, [...(this.#entries.get(mailbox) ?? []), { id, bytes }])
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
   * Counts the entries not counted yet, and the routes' statistics. Throws when an entry
   * could not be counted: the batch then comes back, and its entries are counted then.
   * The routes' statistics are best effort (a failure is logged, and a record that comes
   * back counts again).
   */
  async flush(): Promise<void> {
    const entries = [...this.#entries]
    const routes = new Map(this.#routes)
    this.#entries.clear()
    this.#routes.clear()
    await Promise.all([
      ...entries.map(([mailbox, refs]) => this.#stores.mailboxes.countEntries(mailbox, refs)),
      this.#stores.routes.countOrLog(routes),
    ])
  }
}
