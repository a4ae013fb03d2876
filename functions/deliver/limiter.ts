/**
 * Requests in flight per endpoint, in this process. A job finding its endpoint at its
 * limit is not made to wait (it would hold its batch, and every other endpoint's jobs in
 * it, behind the slow one): the deliverer puts it back on the queue for a moment instead.
 */
export class EndpointLimiter {
  readonly #inFlight = new Map<string, number>()

  /** Takes a slot for `endpointId` if fewer than `limit` are taken; false otherwise. */
  tryAcquire(endpointId: string, limit: number): boolean {
    const count = this.#inFlight.get(endpointId) ?? 0
    if (count >= limit) return false
    this.#inFlight.set(endpointId, count + 1)
    return true
  }

  release(endpointId: string): void {
    const count = (this.#inFlight.get(endpointId) ?? 1) - 1
    if (count <= 0) this.#inFlight.delete(endpointId)
    else this.#inFlight.set(endpointId, count)
  }
}
