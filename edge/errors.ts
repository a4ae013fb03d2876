/**
 * LMTP failures. `responseCode` is the reply code smtp-server sends. `enhancedCode` is the
 * enhanced status code (RFC 3463) it sends with it (patches/smtp-server+3.21.6.patch);
 * without one smtp-server adds the default of the reply code: 451 → 4.3.0, 550 → 5.1.1.
 */
import { MailbridgeError } from '../shared/errors.ts'

export class LmtpError extends MailbridgeError {
  override name = 'LmtpError'
  /** Set only when it differs from the default of `responseCode`, e.g. 452 with 4.5.3. */
  readonly enhancedCode: string | undefined
  constructor(
    readonly responseCode: number,
    message: string,
    options?: ErrorOptions & { enhancedCode?: string },
  ) {
    super(message, options)
    this.enhancedCode = options?.enhancedCode
  }
}

/** The message could not be handed off durably: Postfix must keep it and retry (451 4.3.0). */
export class HandoffError extends LmtpError {
  override name = 'HandoffError'
  constructor(message: string, options?: ErrorOptions) {
    super(451, message, options)
  }
}

/** A recipient this edge does not accept mail for (550 5.1.1). */
export class UnknownRecipientError extends LmtpError {
  override name = 'UnknownRecipientError'
  constructor(address: string, reason: string) {
    super(550, `<${address}>: ${reason}`)
  }
}

/** The recipient's domain is not one the edge takes mail for: 550 5.1.2 (RFC 3463). */
export class UnknownDomainError extends LmtpError {
  override name = 'UnknownDomainError'
  constructor(address: string) {
    super(550, `<${address}>: recipient domain not accepted here`, { enhancedCode: '5.1.2' })
  }
}

/**
 * A mailbox the recipient would land in is at its quota: 452 4.2.2, which the client
 * retries, or 552 5.2.2, which bounces, as Dovecot answers.
 */
export class OverQuotaError extends LmtpError {
  override name = 'OverQuotaError'
  constructor(address: string, permanent: boolean) {
    super(permanent ? 552 : 452, `<${address}>: Mailbox is full`)
  }
}

/**
 * More RCPT TO than MAILBRIDGE_MAX_RECIPIENTS in one transaction: send the rest later
 * (452 4.5.3, RFC 5321 §4.5.3.1.10; the default of 452 would be 4.2.2, a full mailbox).
 */
export class TooManyRecipientsError extends LmtpError {
  override name = 'TooManyRecipientsError'
  constructor() {
    super(452, 'Error: too many recipients', { enhancedCode: '4.5.3' })
  }
}

/** The message went over the size limit while it was being received. */
export class MessageTooBigError extends LmtpError {
  override name = 'MessageTooBigError'
  constructor(limit: number) {
    super(552, `Message exceeds fixed maximum message size ${limit}`, { enhancedCode: '5.3.4' })
  }
}

/**
 * The envelope alone (its recipients and sender) is more than one queue message holds:
 * SQS would refuse it however often Postfix tried, so the answer is permanent (552 5.3.4).
 */
export class EnvelopeTooBigError extends LmtpError {
  override name = 'EnvelopeTooBigError'
  constructor() {
    super(552, 'Error: envelope too large to queue, send fewer recipients', {
      enhancedCode: '5.3.4',
    })
  }
}

/** SQS did not take a queue message: the request failed, or its entry was refused. */
export class QueueSendError extends MailbridgeError {
  override name = 'QueueSendError'
  constructor(
    message: string,
    /**
     * True when SQS answered that it did not store the message. False when the request
     * failed or timed out: SQS may have stored it all the same.
     */
    readonly refused: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

/** RFC 3463's "system not accepting network messages", for a 421 at shutdown. */
export const SHUTTING_DOWN_CODE = '4.3.2'

/** The edge is draining for shutdown: the client should come back later (421 4.3.2). */
export class ShuttingDownError extends LmtpError {
  override name = 'ShuttingDownError'
  constructor() {
    super(421, 'mailbridge is shutting down, try again later', {
      enhancedCode: SHUTTING_DOWN_CODE,
    })
  }
}

/** The socket path is in use by a live listener, or is not a socket at all. */
export class SocketPathError extends MailbridgeError {
  override name = 'SocketPathError'
}
