/**
 * When a failed webhook is tried again, and what an answer means: pure, on a clock and a
 * random source the caller passes in, so tests run days of retries in milliseconds.
 *
 * The schedule is Standard Webhooks' (and Svix's): after the first attempt, 5 s, 5 min,
 * 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h, about 3 days in all, each with jitter so
 * that a receiver coming back is not hit by every queued webhook in the same second.
 */

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE

/** Waits before each retry (ms): RETRY_DELAYS_MS[n] comes after the (n+1)-th attempt. */
export const RETRY_DELAYS_MS = [
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  14 * HOUR,
  20 * HOUR,
  24 * HOUR,
]
/** Attempts in one run of the schedule: the first, then one per delay. */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1
/** Spread of each delay, as a fraction of it either way. */
const JITTER = 0.2
/** Bounds of a Retry-After honoured (ms): at least a second, at most an hour of waiting. */
export const RETRY_AFTER_MIN_MS = SECOND
export const RETRY_AFTER_MAX_MS = HOUR
/** An endpoint that has failed without a success for this long is disabled (Svix: 5 days). */
export const DISABLE_AFTER_FAILING_MS = 5 * 24 * HOUR

/** Statuses that ask the sender to slow down: the endpoint pauses, and Retry-After counts. */
const SLOW_DOWN = new Set([429, 502, 503])

export type Outcome =
  /** 2xx. */
  | { kind: 'delivered' }
  /** 410 Gone: the receiver says the endpoint is no more; it is disabled. */
  | { kind: 'gone' }
  /** Anything else: another attempt at `retryAt`, or none left. */
  | { kind: 'retry'; retryAt: number; pauseEndpointUntil?: number }
  | { kind: 'failed' }

/** The delay after attempt number `attempt` (1-based) with jitter; undefined after the last. */
export function retryDelay(attempt: number, random: () => number): number | undefined {
  const base = RETRY_DELAYS_MS[attempt - 1]
  if (base === undefined) return undefined
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()))
}

/**
 * A Retry-After header in ms from `now`: delta-seconds or an HTTP date (RFC 9110 §10.2.3),
 * bounded to [RETRY_AFTER_MIN_MS, RETRY_AFTER_MAX_MS]; undefined when absent or garbled.
 */
export function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined
  const text = value.trim()
  let ms: number
  if (/^\d+$/.test(text)) ms = Number(text) * SECOND
  else {
    const at = Date.parse(text)
    if (Number.isNaN(at)) return undefined
    ms = at - now
  }
  return Math.min(RETRY_AFTER_MAX_MS, Math.max(RETRY_AFTER_MIN_MS, ms))
}

export interface AttemptResult {
  /** HTTP status, or undefined when no answer came (timeout, refused, reset). */
  status?: number
  retryAfter?: string
}

/**
 * What follows attempt number `attempt` (1-based, within this run of the schedule) that
 * got `result` at `now`.
 */
export function nextStep(
  result: AttemptResult,
  attempt: number,
  now: number,
  random: () => number,
): Outcome {
  const { status } = result
  if (status !== undefined && status >= 200 && status < 300) return { kind: 'delivered' }
  if (status === 410) return { kind: 'gone' }
  const delay = retryDelay(attempt, random)
  if (delay === undefined) return { kind: 'failed' }
  if (status !== undefined && SLOW_DOWN.has(status)) {
    const asked = retryAfterMs(result.retryAfter, now)
    const wait = Math.max(delay, asked ?? 0)
    return { kind: 'retry', retryAt: now + wait, pauseEndpointUntil: now + (asked ?? delay) }
  }
  return { kind: 'retry', retryAt: now + delay }
}
