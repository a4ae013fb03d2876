/**
 * Word that webhook endpoints changed, for the copies ingest and deliver keep of them
 * (endpoint-cache.ts). Heard at once in the thread that made the change, and through a
 * BroadcastChannel in every other thread of the process: local mode's API runs in the
 * main thread, its functions in a worker. Lambda's functions are other processes, which
 * no word reaches; their copies expire instead.
 */
const CHANNEL = 'mailbridge:endpoints'

let generation = 0
// The global, not node:worker_threads' export: nothing is loaded until a copy is first kept.
let listening: InstanceType<typeof BroadcastChannel> | undefined

/** A number that changes whenever an endpoint or a subscription may have changed. */
export function endpointGeneration(): number {
  if (listening === undefined) {
    listening = new BroadcastChannel(CHANNEL)
    listening.onmessage = () => {
      generation++
    }
    // Hearing changes must not keep a process alive that has nothing else to do.
    listening.unref()
  }
  return generation
}

/** Tells every thread of this process that endpoints changed; this one at once. */
export function announceEndpointChange(): void {
  generation++
  const channel = new BroadcastChannel(CHANNEL)
  channel.postMessage('changed')
  channel.close()
}
