import { randomFillSync } from 'node:crypto'
import { decodeTime, isValid, monotonicFactory } from 'ulid'

// Random bytes drawn at once: ulid asks its PRNG once per character, and a system call
// for each of 16 characters was a noticeable share of the edge's CPU per message.
const POOL_BYTES = 4096
const pool = Buffer.alloc(POOL_BYTES)
let poolIndex = POOL_BYTES

/** A uniform number in [0, 1) from the pool: byte / 256, all ulid needs for 32 letters. */
function pooledRandom(): number {
  if (poolIndex === POOL_BYTES) {
    randomFillSync(pool)
    poolIndex = 0
  }
  return (pool[poolIndex++] as number) / 256
}

const nextUlid = monotonicFactory(pooledRandom)

/**
 * A new message id: a ULID, so ids sort by the time the edge received the message
 * (monotonic within one process, even within one millisecond).
 */
export function newMessageId(now: number = Date.now()): string {
  return nextUlid(now)
}

/** True for a string that is a message id (a canonical, upper-case ULID). */
export function isMessageId(value: string): boolean {
  return value.length === 26 && value === value.toUpperCase() && isValid(value)
}

/** The millisecond timestamp encoded in a message id. */
export function messageIdTime(id: string): number {
  return decodeTime(id)
}
