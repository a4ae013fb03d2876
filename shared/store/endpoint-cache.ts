/**
 * The copies ingest and deliver keep of webhook endpoints and of who listens to what, so
 * that a message does not wait on the same reads again and again: ingest would otherwise
 * read the subscriptions of every batch, deliver each job's endpoint. A copy serves for
 * `maxAgeMs` at most (a second), and not at all once a change is announced
 * (endpoint-changes.ts): in local mode a change through the API applies to the very next
 * message; on Lambda, where no word crosses between functions, to those a second later,
 * as routes do (ingest's RouteSnapshot).
 */
import type { WebhookEndpoint } from '../contracts/webhook.ts'
import { endpointGeneration } from './endpoint-changes.ts'
import type { EndpointStore, Listeners } from './endpoints.ts'

// How old a copy may be (ms).
const MAX_AGE_MS = 1000
// Copies kept before the stale ones are swept out (one per mailbox, route or endpoint seen).
const SWEEP_AT = 10_000

// Keys of the three kinds of listener sets.
const EVERY_MAILBOX = 'all'
const mailboxKey = (mailbox: string) => `mbx ${mailbox}`
const routeKey = (routeId: string) => `route ${routeId}`

interface Copy<T> {
  value: Promise<T>
  /** When the read began, and the generation of endpoints then. */
  readAt: number
  generation: number
}

export interface EndpointCacheOptions {
  maxAgeMs?: number
  /** Epoch ms. */
  clock?: () => number
}

export class EndpointCache {
  readonly #store: Pick<EndpointStore, 'get' | 'listeners'>
  readonly #maxAgeMs: number
  readonly #clock: () => number
  readonly #endpoints = new Map<string, Copy<WebhookEndpoint | undefined>>()
  readonly #listeners = new Map<string, Copy<string[]>>()

  constructor(store: Pick<EndpointStore, 'get' | 'listeners'>, options: EndpointCacheOptions = {}) {
    this.#store = store
    this.#maxAgeMs = options.maxAgeMs ?? MAX_AGE_MS
    this.#clock = options.clock ?? Date.now
  }

  /** The endpoint, as read within the last second and unchanged since. */
  get(id: string): Promise<WebhookEndpoint | undefined> {
    const copy = this.#fresh(this.#endpoints, id)
    if (copy) return copy
    return this.#keep(this.#endpoints, id, this.#store.get(id))
  }

  /**
   * Who listens to these mailboxes and routes, and to every mailbox: what has no fresh
   * copy is read in one request. A failed read is forgotten, so it fails its record alone.
   */
  async listeners(mailboxes: string[], routes: string[]): Promise<Listeners> {
    const missing = {
      mailboxes: mailboxes.filter((mailbox) => !this.#fresh(this.#listeners, mailboxKey(mailbox))),
      routes: routes.filter((routeId) => !this.#fresh(this.#listeners, routeKey(routeId))),
    }
    const everyMissing = !this.#fresh(this.#listeners, EVERY_MAILBOX)
    if (missing.mailboxes.length + missing.routes.length > 0 || everyMissing) {
      const read = this.#store.listeners(missing.mailboxes, missing.routes)
      const keep = (key: string, pick: (found: Listeners) => string[]) =>
        this.#keep(this.#listeners, key, read.then(pick))
      for (const mailbox of missing.mailboxes) {
        keep(mailboxKey(mailbox), (found) => found.byMailbox.get(mailbox) ?? [])
      }
      for (const routeId of missing.routes) {
        keep(routeKey(routeId), (found) => found.byRoute.get(routeId) ?? [])
      }
      if (everyMissing) keep(EVERY_MAILBOX, (found) => found.everywhere)
    }
    const ids = (key: string) => this.#listeners.get(key)?.value ?? Promise.resolve([])
    const [byMailbox, byRoute, everywhere] = await Promise.all([
      Promise.all(
        mailboxes.map(async (mailbox) => [mailbox, await ids(mailboxKey(mailbox))] as const),
      ),
      Promise.all(routes.map(async (routeId) => [routeId, await ids(routeKey(routeId))] as const)),
      ids(EVERY_MAILBOX),
    ])
    return { byMailbox: new Map(byMailbox), byRoute: new Map(byRoute), everywhere }
  }

  #fresh<T>(copies: Map<string, Copy<T>>, key: string): Promise<T> | undefined {
    const copy = copies.get(key)
    if (copy === undefined) return undefined
    if (copy.generation === endpointGeneration() && this.#clock() - copy.readAt < this.#maxAgeMs) {
      return copy.value
    }
    copies.delete(key)
    return undefined
  }

  #keep<T>(copies: Map<string, Copy<T>>, key: string, value: Promise<T>): Promise<T> {
    if (copies.size >= SWEEP_AT) {
      for (const old of [...copies.keys()]) this.#fresh(copies, old)
      // Still full of fresh copies (more mailboxes than that in one second): start afresh,
      // rather than sweep all of them again on every read that follows.
      if (copies.size >= SWEEP_AT) copies.clear()
    }
    const copy = { value, readAt: this.#clock(), generation: endpointGeneration() }
    copies.set(key, copy)
    value.catch(() => {
      if (copies.get(key) === copy) copies.delete(key)
    })
    return value
  }
}
