/**
 * The JSON body of a `mailbridge` webhook, shaped as Standard Webhooks recommends
 * (`type`, `timestamp`, `data`). Pure: built from the stored message and, for attachments
 * small enough to go inline, their bytes.
 */
import type { ParsedMessage } from './contracts/message.ts'
import type { WebhookPayload } from './contracts/payload.ts'
import { MESSAGE_RECEIVED } from './contracts/webhook.ts'
import { splitAddress } from './routing/address.ts'

/** A stored message, with the plus-address tag routing found for its recipient. */
export type PayloadMessage = ParsedMessage & {
  /** The recipient's plus-address tag, as routing worked it out (the job carries it). */
  mailboxHash?: string | null
}

/** The value of the `webhook-id` header: the same for every retry of one notification. */
export function webhookId(messageId: string, endpointId: string): string {
  return `msg_${messageId}_${endpointId}`
}

/**
 * The mailbox hash of an address, as Postmark's `MailboxHash`: its plus-address tag
 * (`bob+orders@example.com` → `orders`, shared/routing/address.ts), or null without one,
 * with the default delimiter `+`.
 */
export function mailboxHashOf(address: string | undefined): string | null {
  return address === undefined ? null : splitAddress(address, '+').hash
}

/**
 * The tag of the recipient a notification is about: what routing found (the job carries
 * it), or for a job from before routing or a replay, the first recipient's `+` tag.
 */
export function recipientHash(message: PayloadMessage, rcptTo: string[]): string | null {
  return message.mailboxHash !== undefined ? message.mailboxHash : mailboxHashOf(rcptTo[0])
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
  const { mailboxHash: _mailboxHash, ...parsed } = message
  // No mailbox: a route notified without storing it, and there is nothing to link to.
  const path = mailboxes[0] === undefined ? undefined : messagePath(mailboxes[0], message.id)
  return {
    type: MESSAGE_RECEIVED,
    timestamp: message.receivedAt,
    data: {
      ...parsed,
      envelope: { mailFrom: message.envelope.mailFrom, rcptTo },
      mailboxes,
      mailboxHash: recipientHash(message, rcptTo),
      attachments: message.attachments.map((attachment) => {
        const content = contents[attachment.index]
        return {
          ...attachment,
          link: path === undefined ? null : `${path}/attachments/${attachment.index}`,
          ...(content && { content: Buffer.from(content).toString('base64') }),
        }
      }),
      links: path === undefined ? null : { message: path, raw: `${path}/raw` },
    },
  }
}
