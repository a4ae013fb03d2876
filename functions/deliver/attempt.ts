/**
 * One attempt: sign the rendered webhook with the endpoint's keys and POST it through the
 * checked client. Never throws for what the receiver or the network did: every outcome
 * (an answer, a timeout, a reset, a refused address) comes back as an AttemptOutcome, to
 * be logged and scheduled.
 */
import type { WebhookEndpoint } from '../../shared/contracts/webhook.ts'
import { postWebhook, type WebhookAgent } from './http-client.ts'
import type { RenderedWebhook } from './render.ts'
import { type SigningKeys, signWebhook } from './sign.ts'

/** What the attempt log keeps of a response body, in characters. */
const LOGGED_RESPONSE_CHARS = 1024
const USER_AGENT = 'mailbridge-webhooks/1'

export interface AttemptOutcome {
  /** When the request started, ISO 8601. */
  at: string
  /** The receiver's status, undefined when no answer came. */
  httpStatus?: number
  retryAfter?: string
  /** The start of the response body. */
  response: string
  /** Why no answer came. */
  error?: string
  latencyMs: number
}

/** The keys that sign at `now`: the current ones, then those of a rotation still overlapping. */
export function signingKeys(endpoint: WebhookEndpoint, now: number): SigningKeys {
  const previous = endpoint.previousKeys.filter((key) => Date.parse(key.until) > now)
  if (endpoint.signing === 'v1a' && endpoint.signingKey !== undefined) {
    return {
      v1: [],
      v1a: [endpoint.signingKey, ...previous.flatMap((key) => key.signingKey ?? [])],
    }
  }
  return { v1: [endpoint.secret, ...previous.map((key) => key.secret)], v1a: [] }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  // The exchange's deadline (AbortSignal.timeout) aborts the request.
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timed out'
  if ((error as { code?: string }).code === 'ECONNRESET') {
    return `connection reset (${error.message})`
  }
  return `${error.name}: ${error.message}`
}

export async function attemptWebhook(
  agent: WebhookAgent,
  endpoint: WebhookEndpoint,
  webhookId: string,
  rendered: RenderedWebhook,
  now: number,
): Promise<AttemptOutcome> {
  const headers = {
    ...rendered.headers,
    'user-agent': USER_AGENT,
    ...signWebhook(signingKeys(endpoint, now), webhookId, new Date(now), rendered.body),
  }
  const at = new Date(now).toISOString()
  const started = performance.now()
  try {
    const answer = await postWebhook(
      agent,
      endpoint.url,
      headers,
      rendered.body,
      endpoint.timeoutSeconds * 1000,
    )
    const retryAfter = answer.headers['retry-after']
    return {
      at,
      httpStatus: answer.status,
      ...(typeof retryAfter === 'string' && { retryAfter }),
      response: answer.body.slice(0, LOGGED_RESPONSE_CHARS),
      latencyMs: Math.round(performance.now() - started),
    }
  } catch (error) {
    return {
      at,
      response: '',
      error: describe(error),
      latencyMs: Math.round(performance.now() - started),
    }
  }
}

/** One line for the delivery record: `HTTP 503` or the error. */
export function summary(outcome: AttemptOutcome): string {
  return outcome.httpStatus !== undefined ? `HTTP ${outcome.httpStatus}` : (outcome.error ?? '')
}

export function succeeded(outcome: AttemptOutcome): boolean {
  const status = outcome.httpStatus
  return status !== undefined && status >= 200 && status < 300
}
