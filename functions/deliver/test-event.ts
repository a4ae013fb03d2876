/**
 * `POST /v1/webhooks/{id}/test`: one signed `webhook.test` event, sent at once in the
 * endpoint's own format (a sample message), its attempt logged, the receiver's answer
 * returned. Not retried: the caller sees the outcome and decides.
 */
import { randomBytes } from 'node:crypto'
import type { WebhookEndpoint } from '../../shared/contracts/webhook.ts'
import { buildParsedMessage, parseMail } from '../../shared/message.ts'
import { newMessageId } from '../../shared/message-id.ts'
import type { AttemptStore } from '../../shared/store/attempts.ts'
import { type AttemptOutcome, attemptWebhook, succeeded } from './attempt.ts'
import type { WebhookAgent } from './http-client.ts'
import { renderWebhook } from './render.ts'

export const TEST_EVENT = 'webhook.test'

/** A small message standing for a real one, to the endpoint's mailbox or a sample one. */
function sampleRaw(to: string, id: string): Buffer {
  return Buffer.from(
    [
      'From: "mailbridge" <test@mailbridge.invalid>',
      `To: ${to}`,
      'Subject: mailbridge test event',
      `Message-ID: <${id}@mailbridge.invalid>`,
      `Date: ${new Date().toUTCString()}`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'This is a test event sent from the mailbridge API; it is not a received message.',
      '',
    ].join('\r\n'),
  )
}

export async function sendTestEvent(
  agent: WebhookAgent,
  endpoint: WebhookEndpoint,
  attempts: AttemptStore,
): Promise<AttemptOutcome & { ok: boolean; webhookId: string }> {
  const id = newMessageId()
  const to = endpoint.mailbox ?? 'someone@example.com'
  const raw = sampleRaw(to, id)
  const queued = {
    v: 1 as const,
    id,
    receivedAt: new Date().toISOString(),
    envelope: { mailFrom: 'test@mailbridge.invalid', rcptTo: [to] },
    size: raw.length,
    raw: { base64: '' },
  }
  const message = buildParsedMessage(queued, await parseMail(raw))
  const rendered = await renderWebhook(endpoint, {
    message,
    mailboxes: [to],
    rcptTo: [to],
    event: TEST_EVENT,
    loadRaw: async () => raw,
  })
  const webhookId = `test_${randomBytes(12).toString('hex')}`
  const outcome = await attemptWebhook(agent, endpoint, webhookId, rendered, Date.now())
  const ok = succeeded(outcome)
  await attempts.record({
    endpointId: endpoint.id,
    messageId: null,
    webhookId,
    at: outcome.at,
    status: ok ? 'succeeded' : 'failed',
    httpStatus: outcome.httpStatus ?? null,
    latencyMs: outcome.latencyMs,
    response: outcome.response,
    error: outcome.error ?? null,
    trigger: 'test',
  })
  return { ...outcome, ok, webhookId }
}
