/**
 * Deliver: one webhook job → one signed POST. A 2xx answer counts as delivered; anything
 * else (status, timeout, refused connection) throws, so SQS retries the job after its
 * visibility timeout and parks it in the dead-letter queue after maxReceiveCount.
 */
import type { Root, Stores } from '../../shared/compose.ts'
import { parseWebhookJob } from '../../shared/contracts/queue.ts'
import { MailbridgeError } from '../../shared/errors.ts'
import { createLogger, type Logger } from '../../shared/logger.ts'
import { type SqsBatchHandler, sqsBatchHandler } from '../../shared/sqs-batch.ts'
import { buildWebhookPayload, webhookId } from '../../shared/webhook-payload.ts'
import { signWebhook } from './sign.ts'

// How long a receiver may take to answer (ms); Standard Webhooks suggests a few seconds.
const REQUEST_TIMEOUT_MS = 15_000

export class WebhookDeliveryError extends MailbridgeError {
  override name = 'WebhookDeliveryError'
}

export interface DeliverDeps {
  stores: Pick<Stores, 'messages' | 'endpoints' | 'deliveries'>
  logger: Logger
  fetch?: typeof fetch
  timeoutMs?: number
}

/** Deliver's dependencies, from the composition root. */
export function deliverDeps(
  root: Root,
  options: Partial<Omit<DeliverDeps, 'stores'>> = {},
): DeliverDeps {
  return { stores: root.stores, logger: createLogger('deliver'), ...options }
}

export async function deliver(body: string, deps: DeliverDeps): Promise<void> {
  const job = parseWebhookJob(body)
  const log = deps.logger.child({ messageId: job.messageId, endpointId: job.endpointId })
  const { deliveries, endpoints, messages } = deps.stores
  const record = await deliveries.get(job.messageId, job.endpointId)
  if (record?.status === 'delivered') {
    log.info('already delivered, duplicate job dropped')
    return
  }
  const endpoint = await endpoints.get(job.endpointId)
  if (!endpoint) {
    log.info('endpoint deleted, job dropped')
    return
  }
  const message = await messages.getParsed(job.messageId)
  if (!message) {
    log.info('message deleted before its webhook was sent, job dropped')
    return
  }
  const payload = JSON.stringify(
    buildWebhookPayload(message, job.mailboxes, job.rcptTo, job.mailboxHash ?? null),
  )
  const id = webhookId(job.messageId, job.endpointId)
  const started = performance.now()
  let result: string
  let ok = false
  try {
    const response = await (deps.fetch ?? fetch)(endpoint.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'mailbridge-webhooks/1',
        ...signWebhook(endpoint.secret, id, new Date(), payload),
      },
      body: payload,
      // A redirect is not followed: the signed request goes to the URL the user registered.
      redirect: 'manual',
      signal: AbortSignal.timeout(deps.timeoutMs ?? REQUEST_TIMEOUT_MS),
    })
    await response.body?.cancel()
    ok = response.status >= 200 && response.status < 300
    result = `HTTP ${response.status}`
  } catch (error) {
    result = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  }
  const state = await deliveries.attempted(job.messageId, job.endpointId, { ok, detail: result })
  const attempts = state?.attempts
  const ms = Math.round(performance.now() - started)
  if (!ok) throw new WebhookDeliveryError(`webhook to ${endpoint.url} failed: ${result}`)
  log.info({ attempts, ms, result }, 'webhook delivered')
}

/** The SQS batch handler over injected clients: Lambda's handler.ts and local mode both use it. */
export function createDeliverHandler(deps: DeliverDeps): SqsBatchHandler {
  return sqsBatchHandler((record) => deliver(record.body, deps), deps.logger)
}
