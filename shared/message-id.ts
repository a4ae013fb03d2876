import { randomFillSync } from 'node:crypto'
import { decodeTime, isValid, monotonicFactory } from 'ulid'

// Crockford's base32, the alphabet of ULIDs, in ascending order.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

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

/**
 * The id with every digit mirrored (0 <-> Z), so that ascending order of inverted ids
 * is descending order of ids. S3 lists keys in ascending order only: keying the index
 * by inverted id makes a plain listing newest first.
 */
export function invertMessageId(id: string): string {
  let out = ''
  for (const char of id) {
    const index = ALPHABET.indexOf(char)
    if (index < 0) throw new RangeError(`not a message id: ${id}`)
    out += ALPHABET[ALPHABET.length - 1 - index]
  }
  return out
}
