/**
 * LMTP failures. `responseCode` is the reply code smtp-server sends; it adds the
 * enhanced status code (RFC 3463) that belongs to that code: 451 → 4.3.0, 550 → 5.1.1.
 */
import { MailbridgeError } from '../shared/errors.ts'

export class LmtpError extends MailbridgeError {
  override name = 'LmtpError'
  constructor(
    readonly responseCode: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
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

/** More RCPT TO than MAILBRIDGE_MAX_RECIPIENTS in one transaction: send the rest later. */
export class TooManyRecipientsError extends LmtpError {
  override name = 'TooManyRecipientsError'
  constructor() {
    super(452, 'Error: too many recipients')
  }
}

/** The message went over the size limit while it was being received. */
export class MessageTooBigError extends LmtpError {
  override name = 'MessageTooBigError'
  constructor(limit: number) {
    super(552, `Message exceeds fixed maximum message size ${limit}`)
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

/** The edge is draining for shutdown: the client should come back later (421). */
export class ShuttingDownError extends LmtpError {
  override name = 'ShuttingDownError'
  constructor() {
    super(421, 'mailbridge is shutting down, try again later')
  }
}

/** The socket path is in use by a live listener, or is not a socket at all. */
export class SocketPathError extends MailbridgeError {
  override name = 'SocketPathError'
}
