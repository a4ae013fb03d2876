/**
 * The JSON body of a `mailbridge` webhook, shaped as Standard Webhooks recommends
 * (`type`, `timestamp`, `data`). Pure: built from the stored message and, for attachments
 * small enough to go inline, their bytes.
 */
import type { ParsedMessage } from './contracts/message.ts'
import { MESSAGE_RECEIVED, type WebhookPayload } from './contracts/webhook.ts'

/** A stored message, with the fields routing and parsing may add to it. */
export type PayloadMessage = ParsedMessage & {
  /** What followed `+` in the recipient's local part, when routing worked it out. */
  mailboxHash?: string | null
  /** The text body without quoted replies and signature, when parsing worked it out. */
  strippedText?: string | null
}

/** The value of the `webhook-id` header: the same for every retry of one notification. */
export function webhookId(messageId: string, endpointId: string): string {
  return `msg_${messageId}_${endpointId}`
}

/**
 * The mailbox hash of a recipient, as Postmark's `MailboxHash`: what follows the first
 * `+` of its local part (`bob+orders@example.com` → `orders`), or null without one.
 */
export function mailboxHashOf(address: string | undefined): string | null {
  if (address === undefined) return null
  const at = address.lastIndexOf('@')
  const local = at < 0 ? address : address.slice(0, at)
  const plus = local.indexOf('+')
  return plus < 0 || plus === local.length - 1 ? null : local.slice(plus + 1)
}

/** The API path of a message in a mailbox. */
export function messagePath(mailbox: string, id: string): string {
  return `/v1/mailboxes/${encodeURIComponent(mailbox)}/messages/${id}`
}

/**
 * The payload for one endpoint. `contents[i]` is the bytes of attachment i when it goes
 * inline (the caller decides by the endpoint's size limit), undefined when it is a link only.
 */
export function buildWebhookPayload(
  message: PayloadMessage,
  mailboxes: string[],
  rcptTo: string[],
  contents: Array<Uint8Array | undefined> = [],
): WebhookPayload {
  const { mailboxHash, strippedText: _strippedText, ...parsed } = message
  const path = messagePath(mailboxes[0] ?? '', message.id)
  return {
    type: MESSAGE_RECEIVED,
    timestamp: message.receivedAt,
    data: {
      ...parsed,
      envelope: { mailFrom: message.envelope.mailFrom, rcptTo },
      mailboxes,
      mailboxHash: mailboxHash !== undefined ? mailboxHash : mailboxHashOf(rcptTo[0]),
      attachments: message.attachments.map((attachment) => {
        const content = contents[attachment.index]
        return {
          ...attachment,
          link: `${path}/attachments/${attachment.index}`,
          ...(content && { content: Buffer.from(content).toString('base64') }),
        }
      }),
      links: { message: path, raw: `${path}/raw` },
    },
  }
}
