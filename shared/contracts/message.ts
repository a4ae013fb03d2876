/**
 * A stored message, as ingest writes it and the API and webhooks return it: the parsed
 * message (stored once per message), its summary (one per mailbox entry) and the
 * mailboxes' counters. The API's OpenAPI document is generated from these schemas.
 */
import { z } from 'zod'

const EXAMPLE_ID = '01JQ7Z8X9Y0A1B2C3D4E5F6G7H'

export const MailAddressSchema = z
  .object({
    /** The address, as written in the header. */
    address: z.string().describe('The address, as written in the header'),
    /** The display name, decoded, or `""`. */
    name: z.string().describe('The display name, decoded, or ""'),
  })
  .meta({ id: 'MailAddress' })
export type MailAddress = z.infer<typeof MailAddressSchema>

export const AttachmentInfoSchema = z
  .object({
    /** Position among the message's attachments, from 0: the `{index}` of its URL. */
    index: z.number().int().describe('Position among the attachments, from 0'),
    /** The file name the sender gave, decoded. */
    filename: z.string().nullable(),
    contentType: z.string(),
    /** Decoded size in bytes. */
    size: z.number().int().describe('Decoded size in bytes'),
    /** Content-ID without angle brackets, for inline parts referenced from HTML as `cid:`. */
    contentId: z.string().nullable().describe('Content-ID without angle brackets'),
    /** `attachment`, `inline`, or null when the part does not say. */
    disposition: z.string().nullable(),
    /**
     * Set on a file unpacked from a TNEF attachment (`winmail.dat`): the index of that
     * attachment, which stays in the list with its original bytes. The TNEF's RTF body is
     * unpacked as `body.rtf`, its HTML body as `body.html`.
     */
    parent: z
      .number()
      .int()
      .optional()
      .describe('Index of the TNEF attachment (winmail.dat) this file was unpacked from'),
  })
  .meta({ id: 'AttachmentInfo' })
export type AttachmentInfo = z.infer<typeof AttachmentInfoSchema>

/** How a body's bytes became text. */
export const CharsetUseSchema = z
  .object({
    /** The charset used, lower-case, e.g. `utf-8`, `iso-2022-jp`, `windows-1252`. */
    charset: z.string().describe('The charset used, lower-case'),
    /**
     * True when the part declared no charset, or one its bytes are not in, and the charset
     * was detected (valid UTF-8 first, then a detector, windows-1252 last).
     */
    guessed: z.boolean().describe('True when detected rather than declared'),
  })
  .meta({ id: 'CharsetUse' })
export type CharsetUse = z.infer<typeof CharsetUseSchema>

/** One method's verdict in an Authentication-Results header (RFC 8601). */
const MethodResultSchema = z.object({
  /** `pass`, `fail`, `softfail`, `neutral`, `none`, `temperror`, `permerror`... */
  result: z.string().describe('pass, fail, softfail, neutral, none, temperror, permerror...'),
  /** Properties such as `smtp.mailfrom`, `header.d`, `header.s`, `header.from`. */
  properties: z.record(z.string(), z.string()).describe('e.g. smtp.mailfrom, header.d, header.s'),
})

/**
 * SPF, DKIM, DMARC and ARC verdicts, read from the Authentication-Results header that the
 * mail host's MTA added (its authserv-id is MAILBRIDGE_AUTHSERV_ID); one with another id
 * may be the sender's own and is ignored. Beside them, `dkimVerified`: the DKIM signatures
 * as ingest checked them itself.
 */
/** One DKIM-Signature, as ingest verified it itself (mailauth, RFC 6376 / RFC 8463). */
export const DkimVerificationSchema = z
  .object({
    /** The signing domain (`d=`). */
    domain: z.string().describe('The signing domain (d=)'),
    /** The key selector (`s=`). */
    selector: z.string().describe('The key selector (s=)'),
    /** The signature algorithm (`a=`), e.g. `rsa-sha256`, `ed25519-sha256`. */
    algorithm: z.string().nullable().describe('The signature algorithm (a=)'),
    /**
     * `pass`, `fail` (the signature does not match the signed headers), `neutral` (the body
     * was altered, no usable key, expired or malformed: `comment` says which), `policy`
     * (key or algorithm too weak), `temperror` (DNS failed), `permerror`.
     */
    result: z.string().describe('pass, fail, neutral, policy, temperror, permerror'),
    /** Why the result is not `pass`, e.g. `body hash did not verify`, `no key`, `bad signature`. */
    comment: z.string().nullable().describe('Why the result is not pass'),
    /** True when `domain` aligns with the From domain (DMARC relaxed alignment). */
    aligned: z.boolean().describe('True when the signing domain aligns with the From domain'),
  })
  .meta({ id: 'DkimVerification' })

export const AuthenticationSchema = z
  .object({
    /** Null when no trusted header was found and only `dkimVerified` is set. */
    authservId: z
      .string()
      .nullable()
      .describe('The authserv-id of the trusted header; null when there was none'),
    spf: MethodResultSchema.nullable(),
    /** One entry per DKIM signature checked. */
    dkim: z.array(MethodResultSchema),
    /** DMARC, with the domain's policy (`p=`) when the MTA noted it. */
    dmarc: MethodResultSchema.extend({ policy: z.string().nullable() }).nullable(),
    arc: MethodResultSchema.nullable(),
    /**
     * Ingest's own verification of each DKIM-Signature, beside the MTA's `dkim` verdicts:
     * empty for an unsigned message, absent on messages stored before it.
     */
    dkimVerified: z
      .array(DkimVerificationSchema)
      .optional()
      .describe("Ingest's own verification of each DKIM-Signature"),
  })
  .meta({ id: 'Authentication' })

/** A delivery status notification (RFC 3464), as data. */
export const BounceSchema = z
  .object({
    reportingMta: z.string().nullable(),
    recipients: z.array(
      z.object({
        /** Final-Recipient, without its address type. */
        recipient: z.string().nullable(),
        originalRecipient: z.string().nullable(),
        /** `failed`, `delayed`, `delivered`, `relayed` or `expanded`. */
        action: z.string().nullable(),
        /** Enhanced status code, e.g. `5.1.1`. */
        status: z.string().nullable().describe('Enhanced status code, e.g. 5.1.1'),
        /** The remote server's answer (Diagnostic-Code). */
        diagnostic: z.string().nullable(),
        remoteMta: z.string().nullable(),
      }),
    ),
    /** Message-ID of the message that bounced, when the report returns its headers. */
    originalMessageId: z.string().nullable(),
  })
  .meta({ id: 'Bounce' })

/** A feedback report (ARF, RFC 5965): a complaint, as data. */
export const FeedbackSchema = z
  .object({
    /** `abuse`, `fraud`, `virus`, `not-spam`, `other`... */
    feedbackType: z.string().nullable(),
    userAgent: z.string().nullable(),
    originalMailFrom: z.string().nullable(),
    originalRcptTo: z.array(z.string()),
    arrivalDate: z.string().nullable(),
    sourceIp: z.string().nullable(),
    reportedDomain: z.string().nullable(),
    originalMessageId: z.string().nullable(),
  })
  .meta({ id: 'Feedback' })

/** A calendar invite (text/calendar): its method and first event. The part stays an attachment. */
export const CalendarSchema = z
  .object({
    /** REQUEST, REPLY, CANCEL, PUBLISH... */
    method: z.string().nullable(),
    summary: z.string().nullable(),
    /** DTSTART as written, e.g. `20240105T090000Z`, with `(TZID)` when it names one. */
    start: z.string().nullable(),
    end: z.string().nullable(),
    uid: z.string().nullable(),
    location: z.string().nullable(),
    organizer: z.string().nullable(),
  })
  .meta({ id: 'Calendar' })

/** The envelope as one mailbox saw it. */
const EnvelopeSchema = z.object({
  /** MAIL FROM, `""` for the null sender of bounces. */
  mailFrom: z.string().describe('MAIL FROM; "" for bounces'),
  /**
   * The RCPT TO addresses that led to this mailbox, as the client wrote them: no mailbox
   * learns of another's (Bcc) recipients.
   */
  rcptTo: z.array(z.string()).describe('Recipients delivered to this mailbox'),
})

/** The parse of one message: stored once in S3, whatever number of mailboxes it reached. */
export const ParsedMessageSchema = z.object({
  /** The id given at the edge (ULID), the same in every mailbox the message went to. */
  id: z.string().meta({ description: 'Message id (ULID)', example: EXAMPLE_ID }),
  /** When the edge received the end of DATA, ISO 8601. */
  receivedAt: z.string().describe('When the edge received it, ISO 8601'),
  /** The whole LMTP envelope; a mailbox's view narrows rcptTo to its own recipients. */
  envelope: EnvelopeSchema,
  /** Size of the raw message in bytes. */
  size: z.number().int().describe('Size of the raw message in bytes'),
  from: MailAddressSchema.nullable(),
  to: z.array(MailAddressSchema),
  cc: z.array(MailAddressSchema),
  replyTo: z.array(MailAddressSchema),
  subject: z.string().nullable(),
  /** The Date header, as ISO 8601 when it parses, else as written. */
  date: z.string().nullable().describe('The Date header, ISO 8601 when it parses'),
  /** The Message-ID header, with angle brackets. */
  messageId: z.string().nullable().describe('Message-ID header, with brackets'),
  inReplyTo: z.string().nullable(),
  /** The text body; its first BODY_CHARS characters when `truncated` says so. */
  text: z.string().nullable(),
  /** The HTML body; its first BODY_CHARS characters when `truncated` says so. */
  html: z.string().nullable(),
  /** The charsets the text and HTML bodies were decoded with; null where there is no such body. */
  charsets: z
    .object({ text: CharsetUseSchema.nullable(), html: CharsetUseSchema.nullable() })
    .optional()
    .describe('Charsets the bodies were decoded with (absent on messages stored before it)'),
  /**
   * The new text of a reply: the text body without the quoted history and the signature
   * (Postmark's StrippedTextReply); null when there is no text body.
   */
  strippedText: z
    .string()
    .nullable()
    .optional()
    .describe('The reply without quoted history and signature'),
  /**
   * Verdicts of the mail host's own MTA and ingest's own DKIM check; null when neither has
   * anything to say (no trusted header and no DKIM signature).
   */
  authentication: AuthenticationSchema.nullable().optional(),
  /** Set when the message is a delivery status notification. */
  bounce: BounceSchema.nullable().optional(),
  /** Set when the message is a feedback report (complaint). */
  feedback: FeedbackSchema.nullable().optional(),
  /** Set when the message carries a calendar invite. */
  calendar: CalendarSchema.nullable().optional(),
  /** Set only when a body was cut at BODY_CHARS characters; the raw source has all of it. */
  truncated: z
    .object({ text: z.boolean(), html: z.boolean() })
    .optional()
    .describe('Set when a body was cut at 1 Mi characters; the raw source has all of it'),
  /** Every header, in order, with its name as written and its value decoded. */
  headers: z
    .array(z.object({ name: z.string(), value: z.string() }))
    .describe('Every header in order, value decoded'),
  attachments: z.array(AttachmentInfoSchema),
  /**
   * Set when the MIME structure could not be parsed whole, or a parse limit was reached:
   * everything read before that point is kept beside it, and the raw message is stored.
   */
  parseError: z
    .string()
    .optional()
    .describe('Set when the structure could not be parsed whole; what was read is kept'),
})
export type ParsedMessage = z.infer<typeof ParsedMessageSchema>

/** A message as one mailbox holds it: what `GET …/messages/{id}` returns. */
export const MessageSchema = ParsedMessageSchema.extend({
  /** The mailbox (a lower-cased address) this entry belongs to. */
  mailbox: z.string().describe('The mailbox: a lower-cased address'),
  /** Marked as read through the API (PATCH); new messages are unseen. */
  seen: z.boolean().describe('Marked as read'),
  /** The plus-address tag of the recipient (`news` for `bob+news@…`), as Postmark's MailboxHash. */
  mailboxHash: z.string().nullable().describe('The plus-address tag of the recipient, or null'),
}).meta({ id: 'Message' })
export type StoredMessage = z.infer<typeof MessageSchema>

/** The small record of a mailbox listing: one per mailbox entry, kept in the index. */
export const MessageSummarySchema = z
  .object({
    id: z.string().meta({ description: 'Message id (ULID)', example: EXAMPLE_ID }),
    /** The mailbox (a lower-cased address) this entry belongs to. */
    mailbox: z.string().describe('The mailbox: a lower-cased address'),
    receivedAt: z.string().describe('When the edge received it, ISO 8601'),
    /** Size of the raw message in bytes. */
    size: z.number().int().describe('Size of the raw message in bytes'),
    from: MailAddressSchema.nullable(),
    /** The first SUMMARY_ADDRESSES addresses of To; the message has them all. */
    to: z.array(MailAddressSchema).describe('The first 50 addresses of To'),
    /** The subject, its first SUMMARY_SUBJECT_CHARS characters. */
    subject: z.string().nullable(),
    date: z.string().nullable().describe('The Date header, ISO 8601 when it parses'),
    /** The start of the text body, whitespace collapsed. */
    snippet: z.string().describe('The start of the text body'),
    /** Number of attachments. */
    attachments: z.number().int().describe('Number of attachments'),
    seen: z.boolean().describe('Marked as read'),
    /** The plus-address tag of the recipient (`news` for `bob+news@…`), as Postmark's MailboxHash. */
    mailboxHash: z.string().nullable().describe('The plus-address tag of the recipient, or null'),
  })
  .meta({ id: 'MessageSummary' })
export type MessageSummary = z.infer<typeof MessageSummarySchema>

/** A mailbox and its counters, kept exact as messages arrive, are read and are deleted. */
export const MailboxSchema = z
  .object({
    /** The mailbox: a lower-cased address. */
    address: z.string().meta({ example: 'bob@example.com' }),
    /** Messages in the mailbox. */
    messages: z.number().int().describe('Messages in the mailbox'),
    /** Their raw size, in bytes. */
    bytes: z.number().int().describe('Raw size of its messages, in bytes'),
    /** Messages not marked as read. */
    unseen: z.number().int().describe('Messages not marked as read'),
  })
  .meta({ id: 'Mailbox' })
export type Mailbox = z.infer<typeof MailboxSchema>
