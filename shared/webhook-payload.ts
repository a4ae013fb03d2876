/**
 * The JSON body of a webhook, shaped as Standard Webhooks recommends
 * (`type`, `timestamp`, `data`). Pure: built from the stored message alone.
 */
import type { ParsedMessage } from './contracts/message.ts'
import { MESSAGE_RECEIVED, type WebhookPayload } from './contracts/webhook.ts'

/** The value of the `webhook-id` header: the same for every retry of one notification. */
export function webhookId(messageId: string, endpointId: string): string {
  return `msg_${messageId}_${endpointId}`
}

export function buildWebhookPayload(
  message: ParsedMessage,
  mailboxes: string[],
  rcptTo: string[],
): WebhookPayload {
  const path = `/v1/mailboxes/${encodeURIComponent(mailboxes[0] ?? '')}/messages/${message.id}`
  return {
    type: MESSAGE_RECEIVED,
    timestamp: message.receivedAt,
    data: {
      ...message,
      envelope: { mailFrom: message.envelope.mailFrom, rcptTo },
      mailboxes,
      links: { message: path, raw: `${path}/raw` },
    },
  }
}
