/**
 * The JSON body of a webhook, shaped as Standard Webhooks recommends
 * (`type`, `timestamp`, `data`). Pure: built from the stored message alone.
 */
import type { StoredMessage } from './message.ts'

export const MESSAGE_RECEIVED = 'message.received'

export interface WebhookPayload {
  /** Event type; the only one so far is `message.received`. */
  type: typeof MESSAGE_RECEIVED
  /** When the edge received the message, ISO 8601. */
  timestamp: string
  data: Omit<StoredMessage, 'mailbox'> & {
    /** The mailboxes of this endpoint's that the message was stored in. */
    mailboxes: string[]
    /** API paths to read the message and its raw source, relative to the API's base URL. */
    links: { message: string; raw: string }
  }
}

/** The value of the `webhook-id` header: the same for every retry of one notification. */
export function webhookId(messageId: string, endpointId: string): string {
  return `msg_${messageId}_${endpointId}`
}

export function buildWebhookPayload(
  message: StoredMessage,
  mailboxes: string[],
  rcptTo: string[],
): WebhookPayload {
  const { mailbox, ...rest } = message
  const path = `/v1/mailboxes/${encodeURIComponent(mailbox)}/messages/${message.id}`
  return {
    type: MESSAGE_RECEIVED,
    timestamp: message.receivedAt,
    data: {
      ...rest,
      envelope: { mailFrom: message.envelope.mailFrom, rcptTo },
      mailboxes,
      links: { message: path, raw: `${path}/raw` },
    },
  }
}
