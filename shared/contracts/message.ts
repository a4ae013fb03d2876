/**
 * A stored message, as ingest writes it and the API and webhooks return it: the parsed
 * message (stored once per message), its summary (one per mailbox entry) and the
 * mailboxes' counters. The API's OpenAPI document is generated from these schemas.
 */
import * as z from 'zod/mini'
import { described, meta } from './zod-mini.ts'

const EXAMPLE_ID = '01JQ7Z8X9Y0A1B2C3D4E5F6G7H'

export const MailAddressSchema = meta(
  z.object({
    /** The address, as written in the header. */
    address: described(z.string(), 'The address, as written in the header'),
    /** The display name, decoded, or `""`. */
    name: described(z.string(), 'The display name, decoded, or ""'),
  }),
  { id: 'MailAddress' },
)
export type MailAddress = z.infer<typeof MailAddressSchema>

export const AttachmentInfoSchema = meta(
  z.object({
    /** Position among the message's attachments, from 0: the `{index}` of its URL. */
    index: described(z.int(), 'Position among the attachments, from 0'),
    /** The file name the sender gave, decoded. */
    filename: z.nullable(z.string()),
    contentType: z.string(),
    /** Decoded size in bytes. */
    size: described(z.int(), 'Decoded size in bytes'),
    /** Content-ID without angle brackets, for inline parts referenced from HTML as `cid:`. */
    contentId: described(z.nullable(z.string()), 'Content-ID without angle brackets'),
    /** `attachment`, `inline`, or null when the part does not say. */
    disposition: z.nullable(z.string()),
    /**
     * Set on a file unpacked from a TNEF attachment (`winmail.dat`): the index of that
     * attachment, which stays in the list with its original bytes. The TNEF's RTF body is
     * unpacked as `body.rtf`, its HTML body as `body.html`.
     */
    parent: described(
      z.optional(z.int()),
      'Index of the TNEF attachment (winmail.dat) this file was unpacked from',
    ),
  }),
  { id: 'AttachmentInfo' },
)
export type AttachmentInfo = z.infer<typeof AttachmentInfoSchema>

/** How a body's bytes became text. */
export const CharsetUseSchema = meta(
  z.object({
    /** The charset used, lower-case, e.g. `utf-8`, `iso-2022-jp`, `windows-1252`. */
    charset: described(z.string(), 'The charset used, lower-case'),
    /**
     * True when the part declared no charset, or one its bytes are not in, and the charset
     * was detected (valid UTF-8 first, then a detector, windows-1252 last).
     */
    guessed: described(z.boolean(), 'True when detected rather than declared'),
  }),
  { id: 'CharsetUse' },
)
export type CharsetUse = z.infer<typeof CharsetUseSchema>

/** One method's verdict in an Authentication-Results header (RFC 8601). */
const MethodResultSchema = z.object({
  /** `pass`, `fail`, `softfail`, `neutral`, `none`, `temperror`, `permerror`... */
  result: described(z.string(), 'pass, fail, softfail, neutral, none, temperror, permerror...'),
  /** Properties such as `smtp.mailfrom`, `header.d`, `header.s`, `header.from`. */
  properties: described(z.record(z.string(), z.string()), 'e.g. smtp.mailfrom, header.d, header.s'),
})

/**
 * SPF, DKIM, DMARC and ARC verdicts, read from the Authentication-Results header that the
 * mail host's MTA added (its authserv-id is MAILBRIDGE_AUTHSERV_ID); one with another id
 * may be the sender's own and is ignored. Beside them, `dkimVerified`: the DKIM signatures
 * as ingest checked them itself.
 */
/** One DKIM-Signature, as ingest verified it itself (mailauth, RFC 6376 / RFC 8463). */
export const DkimVerificationSchema = meta(
  z.object({
    /** The signing domain (`d=`). */
    domain: described(z.string(), 'The signing domain (d=)'),
    /** The key selector (`s=`). */
    selector: described(z.string(), 'The key selector (s=)'),
    /** The signature algorithm (`a=`), e.g. `rsa-sha256`, `ed25519-sha256`. */
    algorithm: described(z.nullable(z.string()), 'The signature algorithm (a=)'),
    /**
     * `pass`, `fail` (the signature does not match the signed headers), `neutral` (the body
     * was altered, no usable key, expired or malformed: `comment` says which), `policy`
     * (key or algorithm too weak), `temperror` (DNS failed), `permerror`.
     */
    result: described(z.string(), 'pass, fail, neutral, policy, temperror, permerror'),
    /** Why the result is not `pass`, e.g. `body hash did not verify`, `no key`, `bad signature`. */
    comment: described(z.nullable(z.string()), 'Why the result is not pass'),
    /** True when `domain` aligns with the From domain (DMARC relaxed alignment). */
    aligned: described(z.boolean(), 'True when the signing domain aligns with the From domain'),
  }),
  { id: 'DkimVerification' },
)

export const AuthenticationSchema = meta(
  z.object({
    /** Null when no trusted header was found and only `dkimVerified` is set. */
    authservId: described(
      z.nullable(z.string()),
      'The authserv-id of the trusted header; null when there was none',
    ),
    spf: z.nullable(MethodResultSchema),
    /** One entry per DKIM signature checked. */
    dkim: z.array(MethodResultSchema),
    /** DMARC, with the domain's policy (`p=`) when the MTA noted it. */
    dmarc: z.nullable(z.extend(MethodResultSchema, { policy: z.nullable(z.string()) })),
    arc: z.nullable(MethodResultSchema),
    /**
     * Ingest's own verification of each DKIM-Signature, beside the MTA's `dkim` verdicts:
     * empty for an unsigned message, absent on messages stored before it.
     */
    dkimVerified: described(
      z.optional(z.array(DkimVerificationSchema)),
      "Ingest's own verification of each DKIM-Signature",
    ),
  }),
  { id: 'Authentication' },
)

/** A delivery status notification (RFC 3464), as data. */
export const BounceSchema = meta(
  z.object({
    reportingMta: z.nullable(z.string()),
    recipients: z.array(
      z.object({
        /** Final-Recipient, without its address type. */
        recipient: z.nullable(z.string()),
        originalRecipient: z.nullable(z.string()),
        /** `failed`, `delayed`, `delivered`, `relayed` or `expanded`. */
        action: z.nullable(z.string()),
        /** Enhanced status code, e.g. `5.1.1`. */
        status: described(z.nullable(z.string()), 'Enhanced status code, e.g. 5.1.1'),
        /** The remote server's answer (Diagnostic-Code). */
        diagnostic: z.nullable(z.string()),
        remoteMta: z.nullable(z.string()),
      }),
    ),
    /** Message-ID of the message that bounced, when the report returns its headers. */
    originalMessageId: z.nullable(z.string()),
  }),
  { id: 'Bounce' },
)

/** A feedback report (ARF, RFC 5965): a complaint, as data. */
export const FeedbackSchema = meta(
  z.object({
    /** `abuse`, `fraud`, `virus`, `not-spam`, `other`... */
    feedbackType: z.nullable(z.string()),
    userAgent: z.nullable(z.string()),
    originalMailFrom: z.nullable(z.string()),
    originalRcptTo: z.array(z.string()),
    arrivalDate: z.nullable(z.string()),
    sourceIp: z.nullable(z.string()),
    reportedDomain: z.nullable(z.string()),
    originalMessageId: z.nullable(z.string()),
  }),
  { id: 'Feedback' },
)

/** A calendar invite (text/calendar): its method and first event. The part stays an attachment. */
export const CalendarSchema = meta(
  z.object({
    /** REQUEST, REPLY, CANCEL, PUBLISH... */
    method: z.nullable(z.string()),
    summary: z.nullable(z.string()),
    /** DTSTART as written, e.g. `20240105T090000Z`, with `(TZID)` when it names one. */
    start: z.nullable(z.string()),
    end: z.nullable(z.string()),
    uid: z.nullable(z.string()),
    location: z.nullable(z.string()),
    organizer: z.nullable(z.string()),
  }),
  { id: 'Calendar' },
)

/** The envelope as one mailbox saw it. */
const EnvelopeSchema = z.object({
  /** MAIL FROM, `""` for the null sender of bounces. */
  mailFrom: described(z.string(), 'MAIL FROM; "" for bounces'),
  /**
   * The RCPT TO addresses that led to this mailbox, as the client wrote them: no mailbox
   * learns of another's (Bcc) recipients.
   */
  rcptTo: described(z.array(z.string()), 'Recipients delivered to this mailbox'),
})

/** The parse of one message: stored once in S3, whatever number of mailboxes it reached. */
export const ParsedMessageSchema = z.object({
  /** The id given at the edge (ULID), the same in every mailbox the message went to. */
  id: meta(z.string(), { description: 'Message id (ULID)', example: EXAMPLE_ID }),
  /** When the edge received the end of DATA, ISO 8601. */
  receivedAt: described(z.string(), 'When the edge received it, ISO 8601'),
  /** The whole LMTP envelope; a mailbox's view narrows rcptTo to its own recipients. */
  envelope: EnvelopeSchema,
  /** Size of the raw message in bytes. */
  size: described(z.int(), 'Size of the raw message in bytes'),
  from: z.nullable(MailAddressSchema),
  to: z.array(MailAddressSchema),
  cc: z.array(MailAddressSchema),
  replyTo: z.array(MailAddressSchema),
  subject: z.nullable(z.string()),
  /** The Date header, as ISO 8601 when it parses, else as written. */
  date: described(z.nullable(z.string()), 'The Date header, ISO 8601 when it parses'),
  /** The Message-ID header, with angle brackets. */
  messageId: described(z.nullable(z.string()), 'Message-ID header, with brackets'),
  inReplyTo: z.nullable(z.string()),
  /** The text body; its first BODY_CHARS characters when `truncated` says so. */
  text: z.nullable(z.string()),
  /** The HTML body; its first BODY_CHARS characters when `truncated` says so. */
  html: z.nullable(z.string()),
  /** The charsets the text and HTML bodies were decoded with; null where there is no such body. */
  charsets: described(
    z.optional(
      z.object({ text: z.nullable(CharsetUseSchema), html: z.nullable(CharsetUseSchema) }),
    ),
    'Charsets the bodies were decoded with (absent on messages stored before it)',
  ),
  /**
   * The new text of a reply: the text body without the quoted history and the signature
   * (Postmark's StrippedTextReply); null when there is no text body.
   */
  strippedText: described(
    z.optional(z.nullable(z.string())),
    'The reply without quoted history and signature',
  ),
  /**
   * Verdicts of the mail host's own MTA and ingest's own DKIM check; null when neither has
   * anything to say (no trusted header and no DKIM signature).
   */
  authentication: z.optional(z.nullable(AuthenticationSchema)),
  /** Set when the message is a delivery status notification. */
  bounce: z.optional(z.nullable(BounceSchema)),
  /** Set when the message is a feedback report (complaint). */
  feedback: z.optional(z.nullable(FeedbackSchema)),
  /** Set when the message carries a calendar invite. */
  calendar: z.optional(z.nullable(CalendarSchema)),
  /** Set only when a body was cut at BODY_CHARS characters; the raw source has all of it. */
  truncated: described(
    z.optional(z.object({ text: z.boolean(), html: z.boolean() })),
    'Set when a body was cut at 1 Mi characters; the raw source has all of it',
  ),
  /** Every header, in order, with its name as written and its value decoded. */
  headers: described(
    z.array(z.object({ name: z.string(), value: z.string() })),
    'Every header in order, value decoded',
  ),
  attachments: z.array(AttachmentInfoSchema),
  /**
   * Set when the MIME structure could not be parsed whole, or a parse limit was reached:
   * everything read before that point is kept beside it, and the raw message is stored.
   */
  parseError: described(
    z.optional(z.string()),
    'Set when the structure could not be parsed whole; what was read is kept',
  ),
})
export type ParsedMessage = z.infer<typeof ParsedMessageSchema>

/** A message as one mailbox holds it: what `GET …/messages/{id}` returns. */
export const MessageSchema = meta(
  z.extend(ParsedMessageSchema, {
    /** The mailbox (a lower-cased address) this entry belongs to. */
    mailbox: described(z.string(), 'The mailbox: a lower-cased address'),
    /** Marked as read through the API (PATCH); new messages are unseen. */
    seen: described(z.boolean(), 'Marked as read'),
    /** The plus-address tag of the recipient (`news` for `bob+news@…`), as Postmark's MailboxHash. */
    mailboxHash: described(
      z.nullable(z.string()),
      'The plus-address tag of the recipient, or null',
    ),
  }),
  { id: 'Message' },
)
export type StoredMessage = z.infer<typeof MessageSchema>

/** The small record of a mailbox listing: one per mailbox entry, kept in the index. */
export const MessageSummarySchema = meta(
  z.object({
    id: meta(z.string(), { description: 'Message id (ULID)', example: EXAMPLE_ID }),
    /** The mailbox (a lower-cased address) this entry belongs to. */
    mailbox: described(z.string(), 'The mailbox: a lower-cased address'),
    receivedAt: described(z.string(), 'When the edge received it, ISO 8601'),
    /** Size of the raw message in bytes. */
    size: described(z.int(), 'Size of the raw message in bytes'),
    from: z.nullable(MailAddressSchema),
    /** The first SUMMARY_ADDRESSES addresses of To; the message has them all. */
    to: described(z.array(MailAddressSchema), 'The first 50 addresses of To'),
    /** The subject, its first SUMMARY_SUBJECT_CHARS characters. */
    subject: z.nullable(z.string()),
    date: described(z.nullable(z.string()), 'The Date header, ISO 8601 when it parses'),
    /** The start of the text body, whitespace collapsed. */
    snippet: described(z.string(), 'The start of the text body'),
    /** Number of attachments. */
    attachments: described(z.int(), 'Number of attachments'),
    seen: described(z.boolean(), 'Marked as read'),
    /** The plus-address tag of the recipient (`news` for `bob+news@…`), as Postmark's MailboxHash. */
    mailboxHash: described(
      z.nullable(z.string()),
      'The plus-address tag of the recipient, or null',
    ),
  }),
  { id: 'MessageSummary' },
)
export type MessageSummary = z.infer<typeof MessageSummarySchema>

/** A mailbox and its counters, kept exact as messages arrive, are read and are deleted. */
export const MailboxSchema = meta(
  z.object({
    /** The mailbox: a lower-cased address. */
    address: meta(z.string(), { example: 'bob@example.com' }),
    /** Messages in the mailbox. */
    messages: described(z.int(), 'Messages in the mailbox'),
    /** Their raw size, in bytes. */
    bytes: described(z.int(), 'Raw size of its messages, in bytes'),
    /** Messages not marked as read. */
    unseen: described(z.int(), 'Messages not marked as read'),
  }),
  { id: 'Mailbox' },
)
export type Mailbox = z.infer<typeof MailboxSchema>
