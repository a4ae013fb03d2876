/**
 * What the records of one SQS batch share: the counters of mailboxes and routes, and the
 * retry fingerprints, written when the batch is done (a burst of ten messages to one
 * mailbox is one counter write, not ten, and their fingerprints one batch write).
 */
import type { Stores } from '../../shared/compose.ts'
import type { Memory } from '../../shared/store/fingerprints.ts'
import type { EntryRef } from '../../shared/store/mailboxes.ts'
import { type RouteStats, UNROUTED } from '../../shared/store/routes.ts'
import type { DeliveryPlan } from './plan.ts'

export class Batch {
  readonly #stores: Pick<Stores, 'mailboxes' | 'routes' | 'fingerprints'>
  readonly #entries = new Map<string, EntryRef[]>()
  readonly #routes = new Map<string, RouteStats>()
  readonly #memories: Memory[] = []

  constructor(stores: Pick<Stores, 'mailboxes' | 'routes' | 'fingerprints'>) {
    this.#stores = stores
  }

  /** Notes what a mailbox got for a fingerprint (retries.ts), to remember. */
  remember(memory: Memory): void {
    this.#memories.push(memory)
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
   * Counts the entries not counted yet, remembers the fingerprints, and counts the routes'
   * statistics. Throws when an entry could not be counted or a fingerprint remembered: the
   * batch then comes back, and they are written then.
   * The routes' statistics are best effort (a failure is logged, and a record that comes
   * back counts again).
   */
  async flush(): Promise<void> {
    const entries = [...this.#entries]
    const routes = new Map(this.#routes)
    const memories = this.#memories.splice(0)
    this.#entries.clear()
    this.#routes.clear()
    await Promise.all([
      ...entries.map(([mailbox, refs]) => this.#stores.mailboxes.countEntries(mailbox, refs)),
      memories.length > 0 ? this.#stores.fingerprints.remember(memories) : undefined,
      this.#stores.routes.countOrLog(routes),
    ])
  }
}
