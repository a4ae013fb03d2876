/**
 * Requests in flight per endpoint, in this process. A job finding its endpoint at its
 * limit waits for a slot a short while (a fast endpoint frees one in milliseconds); past
 * that it is not made to wait longer, since it would hold its batch, and every other
 * endpoint's jobs in it, behind the slow one: the deliverer puts it back on the queue.
 */
export class EndpointLimiter {
  readonly #inFlight = new Map<string, number>()
  readonly #waiting = new Map<string, Array<() => void>>()

  /** Takes a slot for `endpointId`, waiting up to `maxWaitMs` for one; false if none came. */
  async acquire(endpointId: string, limit: number, maxWaitMs: number): Promise<boolean> {
    if ((this.#inFlight.get(endpointId) ?? 0) < limit) {
      this.#inFlight.set(endpointId, (this.#inFlight.get(endpointId) ?? 0) + 1)
      return true
    }
    return new Promise((resolve) => {
      const queue = this.#waiting.get(endpointId) ?? []
      this.#waiting.set(endpointId, queue)
      const handOver = () => {
        clearTimeout(timer)
        resolve(true)
      }
      const timer = setTimeout(() => {
        queue.splice(queue.indexOf(handOver), 1)
        resolve(false)
      }, maxWaitMs)
      queue.push(handOver)
    })
  }

  /** Frees a slot: handed straight to the next waiter, if any. */
  release(endpointId: string): void {
    const next = this.#waiting.get(endpointId)?.shift()
    if (next) {
      next()
      return
    }
    this.#waiting.delete(endpointId)
    const count = (this.#inFlight.get(endpointId) ?? 1) - 1
    if (count <= 0) this.#inFlight.delete(endpointId)
    else this.#inFlight.set(endpointId, count)
  }
}
