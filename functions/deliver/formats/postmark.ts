/**
 * Postmark's inbound webhook JSON, field for field, so that an app written for Postmark
 * works unchanged (https://postmarkapp.com/developer/webhooks/inbound-webhook). Pure.
 *
 * Where we have no value, the payload holds what Postmark sends when it has none: `""`
 * for `Tag`, `Bcc` and `StrippedTextReply`, `inbound` (the default inbound stream) for
 * `MessageStream`. `MessageID` is our message id (Postmark sends its own id there, not
 * the Message-ID header, which is in `Headers`).
 */
import type { MailAddress } from '../../../shared/contracts/message.ts'
import {
  mailboxHashOf,
  type PayloadMessage,
  recipientHash,
} from '../../../shared/webhook-payload.ts'

export interface PostmarkRecipient {
  Email: string
  Name: string
  MailboxHash: string
}

export interface PostmarkAttachment {
  Name: string
  Content: string
  ContentType: string
  ContentLength: number
  ContentID: string
}

export interface PostmarkInbound {
  From: string
  FromName: string
  FromFull: PostmarkRecipient
  To: string
  ToFull: PostmarkRecipient[]
  Cc: string
  CcFull: PostmarkRecipient[]
  Bcc: string
  BccFull: PostmarkRecipient[]
  OriginalRecipient: string
  ReplyTo: string
  Subject: string
  MessageID: string
  Date: string
  MailboxHash: string
  TextBody: string
  HtmlBody: string
  StrippedTextReply: string
  Tag: string
  MessageStream: string
  Headers: Array<{ Name: string; Value: string }>
  Attachments: PostmarkAttachment[]
}

// Headers Postmark gives fields of their own and leaves out of `Headers`.
const OWN_FIELDS = new Set(['from', 'to', 'cc', 'bcc', 'subject', 'date', 'reply-to'])

function recipient({ address, name }: MailAddress): PostmarkRecipient {
  return { Email: address, Name: name, MailboxHash: mailboxHashOf(address) ?? '' }
}

/** A list as a header writes it: `"Name" <address>` or the bare address, comma-separated. */
function headerList(addresses: MailAddress[]): string {
  return addresses
    .map(({ address, name }) =>
      name === '' ? address : `"${name.replace(/(["\\])/g, '\\$1')}" <${address}>`,
    )
    .join(', ')
}

/**
 * The Postmark payload of `message` as delivered to `rcptTo`, with every attachment's
 * bytes (`contents[i]` for attachment i; a missing one goes with empty content).
 */
export function buildPostmarkPayload(
  message: PayloadMessage,
  rcptTo: string[],
  contents: Array<Uint8Array | undefined>,
): PostmarkInbound {
  const from = message.from ?? { address: message.envelope.mailFrom, name: '' }
  const dateHeader = message.headers.find((header) => header.name.toLowerCase() === 'date')
  const hash = recipientHash(message, rcptTo)
  return {
    From: from.address,
    FromName: from.name,
    FromFull: recipient(from),
    To: headerList(message.to),
    ToFull: message.to.map(recipient),
    Cc: headerList(message.cc),
    CcFull: message.cc.map(recipient),
    Bcc: '',
    BccFull: [],
    OriginalRecipient: rcptTo[0] ?? '',
    ReplyTo: message.replyTo.map(({ address }) => address).join(', '),
    Subject: message.subject ?? '',
    MessageID: message.id,
    // As written in the message (RFC 5322 form); the time of receipt when it has none.
    Date: dateHeader?.value ?? new Date(message.receivedAt).toUTCString(),
    MailboxHash: hash ?? '',
    TextBody: message.text ?? '',
    HtmlBody: message.html ?? '',
    StrippedTextReply: message.strippedText ?? '',
    Tag: '',
    MessageStream: 'inbound',
    Headers: message.headers
      .filter(({ name }) => !OWN_FIELDS.has(name.toLowerCase()))
      .map(({ name, value }) => ({ Name: name, Value: value })),
    Attachments: message.attachments.map((attachment) => {
      const content = contents[attachment.index]
      return {
        Name: attachment.filename ?? '',
        Content: content ? Buffer.from(content).toString('base64') : '',
        ContentType: attachment.contentType,
        ContentLength: attachment.size,
        ContentID: attachment.contentId ?? '',
      }
    }),
  }
}
