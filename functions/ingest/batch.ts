/**
 * What the records of one SQS batch share: the counters of mailboxes and routes, written
 * once each when the batch is done (a burst of ten messages to one mailbox is one counter
 * write, not ten).
 */
import type { Stores } from '../../shared/compose.ts'
import { type RouteStats, UNROUTED } from '../../shared/store/routes.ts'
import type { DeliveryPlan } from './plan.ts'

export class Batch {
  readonly #stores: Pick<Stores, 'mailboxes' | 'routes'>
  readonly #counts = new Map<string, { messages: number; bytes: number }>()
  readonly #routes = new Map<string, RouteStats>()

  constructor(stores: Pick<Stores, 'mailboxes' | 'routes'>) {
    this.#stores = stores
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
