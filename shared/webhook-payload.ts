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
  mailboxHash: string | null = null,
): WebhookPayload {
  const mailbox = mailboxes[0]
  const path =
    mailbox === undefined
      ? undefined
      : `/v1/mailboxes/${encodeURIComponent(mailbox)}/messages/${message.id}`
  return {
    type: MESSAGE_RECEIVED,
    timestamp: message.receivedAt,
    data: {
      ...message,
      envelope: { mailFrom: message.envelope.mailFrom, rcptTo },
      mailboxes,
      mailboxHash,
      links: path === undefined ? null : { message: path, raw: `${path}/raw` },
    },
  }
}
