/**
 * The LMTP listener: smtp-server (which holds the whole protocol state machine) in LMTP
 * mode, with our hooks wired in: recipients are checked at RCPT time, and the message is
 * handed off at the end of DATA, with one reply per accepted recipient (RFC 2033 §4.2).
 */
import type { Socket } from 'node:net'
import { finished } from 'node:stream'
import {
  SMTPServer,
  type SMTPServerAddress,
  type SMTPServerDataStream,
  type SMTPServerOptions,
  type SMTPServerSession,
} from 'smtp-server'
import type { Config } from '../shared/config.ts'
import type { Logger } from '../shared/logger.ts'
import { newMessageId } from '../shared/message-id.ts'
import { withAsciiDomain } from '../shared/routing/address.ts'
import { envelopeBaseBytes, recipientBytes } from './envelope-budget.ts'
import {
  EnvelopeTooBigError,
  LmtpError,
  ShuttingDownError,
  TooManyRecipientsError,
} from './errors.ts'
import type { Handoff } from './handoff.ts'
import type { EdgeMetrics } from './metrics.ts'
import { RecipientCheck } from './recipients.ts'
import { traceHeaders } from './trace-headers.ts'
import { TransactionDeadlines } from './transaction-deadline.ts'

// Idle time before an LMTP session is closed (ms). Postfix's own lmtp_*_timeout are 300 s;
// smtp-server does not count time spent waiting for our hand-off as idle.
const SOCKET_TIMEOUT_MS = 300_000

export interface EdgeOptions {
  config: Config['edge']
  handoff: Handoff
  logger: Logger
  metrics: EdgeMetrics
  /**
   * Which recipients are wanted (routes, quotas). Without it, every recipient of an
   * accepted domain is: a check of the domains alone.
   */
  recipients?: RecipientCheck
  /** Overrides SOCKET_TIMEOUT_MS, for tests of the idle timer. */
  socketTimeoutMs?: number
}

/**
 * smtp-server waits 100 ms before every greeting, to catch spammers that talk before
 * they are greeted. Postfix on the same host is no spammer, and the pause caps a session
 * that does not reuse connections at ten messages a second, so this server greets at once.
 */
class LocalLmtpServer extends SMTPServer {
  override connect(socket: Socket, socketOptions: unknown): void {
    // Replies are small writes, several in a row after DATA (one per recipient): with
    // Nagle's algorithm the second waits for the client's delayed ACK, up to 40 ms.
    // (A no-op on a UNIX socket.)
    socket.setNoDelay(true)
    super.connect(socket as never, socketOptions as never)
    const connection = [...this.connections].at(-1) as unknown as ReadyOnce | undefined
    // init() refused it (maxClients), or armed its 100 ms timer: answer now, and let the
    // timer's later call do nothing.
    if (!connection || connection._socket !== socket || connection._closing) return
    const ready = connection.connectionReady.bind(connection)
    connection.connectionReady = () => {}
    ready()
  }
}

/** The parts of smtp-server's SMTPConnection that LocalLmtpServer touches. */
interface ReadyOnce {
  _socket: unknown
  _closing: boolean
  connectionReady(): void
}

/**
 * Counts hand-offs in progress, so that shutdown can wait for every one of them to be
 * answered before it closes a connection (see RunningEdge.close).
 */
export class Drain {
  #pending = 0
  #draining = false
  #onIdle: Array<() => void> = []

  get draining(): boolean {
    return this.#draining
  }

  get pending(): number {
    return this.#pending
  }

  begin(): void {
    this.#pending++
  }

  /** Call right after the replies of a hand-off were written. */
  end(): void {
    this.#pending--
    if (this.#draining && this.#pending === 0) this.#idle()
  }

  /** Refuse new transactions from now on; `onIdle` runs once no hand-off is pending. */
  start(onIdle: () => void): void {
    this.#draining = true
    this.#onIdle.push(onIdle)
    if (this.#pending === 0) this.#idle()
  }

  #idle(): void {
    for (const callback of this.#onIdle.splice(0)) callback()
  }
}

/** Bytes of the queue message before any recipient (envelope-budget.ts). */
function baseBytes(session: SMTPServerSession): number {
  const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : ''
  return envelopeBaseBytes(mailFrom, session.clientHostname, session.hostNameAppearsAs)
}

/** A success reply for one recipient, with the enhanced code 2.0.0 Postfix and Dovecot use. */
function accepted(text: string): Error {
  return Object.assign(new Error(text), { responseCode: 250 })
}

export function createLmtpServer(options: EdgeOptions, drain: Drain): SMTPServer {
  const { config, handoff, logger, metrics } = options
  const check = options.recipients ?? new RecipientCheck({ domains: config.domains, logger })
  // smtp-server keeps one envelope entry per address compared case-insensitively, yet
  // answers 250 to every RCPT: `u@d` then `U@d` would get one reply after DATA where the
  // client waits for two, and the session would desynchronise. We keep every accepted
  // RCPT here and put the full list back into the envelope before replying.
  const recipients = new WeakMap<object, SMTPServerAddress[]>()
  // What the envelope so far takes of a queue message (envelope-budget.ts), in bytes.
  const envelopeBytes = new WeakMap<object, number>()
  // Sessions counted in the gauge: one refused at maxClients never reaches onConnect.
  const counted = new WeakSet<SMTPServerSession>()

  const serverOptions: SMTPServerOptions = {
    lmtp: true,
    name: config.hostname,
    // The greeting reads "220 <hostname> LMTP mailbridge ready".
    banner: 'mailbridge ready',
    // smtp-server hides ENHANCEDSTATUSCODES by default; RFC 2033 clients rely on them.
    hideENHANCEDSTATUSCODES: false,
    hideDSN: true,
    size: config.maxMessageBytes,
    // A client that sent no SIZE and ran over gets 552 5.3.4 for every recipient.
    rejectOversized: true,
    maxRecipients: config.maxRecipients,
    disabledCommands: ['AUTH', 'STARTTLS'],
    authOptional: true,
    disableReverseLookup: true,
    maxClients: config.maxConnections,
    socketTimeout: options.socketTimeoutMs ?? SOCKET_TIMEOUT_MS,
    logger: false,

    onConnect(session, callback) {
      counted.add(session)
      metrics.sessions.inc()
      callback()
    },

    onClose(session) {
      deadlines.end(session)
      if (counted.delete(session)) metrics.sessions.dec()
    },

    onMailFrom(_address, session, callback) {
      // A transaction begun now could still be receiving when the process exits.
      if (drain.draining) return callback(new ShuttingDownError())
      deadlines.start(session)
      callback()
    },

    onRcptTo(address, session, callback) {
      // smtp-server turns an internationalised domain into Unicode; Postfix, the routes and
      // the mailboxes know it in ASCII. The address goes on (into the envelope) that way.
      address.address = withAsciiDomain(address.address)
      const list = recipients.get(session.envelope) ?? []
      const bytes =
        (envelopeBytes.get(session.envelope) ?? baseBytes(session)) +
        recipientBytes(address.address)
      if (list.length === 0 && bytes > config.queueMessageMaxBytes) {
        metrics.rejected.inc({ code: '552' })
        return callback(new EnvelopeTooBigError())
      }
      // smtp-server counts distinct addresses against maxRecipients; a client repeating
      // one address would grow this list without bound. A recipient the queue message
      // has no room for also waits for the next transaction.
      if (list.length >= config.maxRecipients || bytes > config.queueMessageMaxBytes) {
        metrics.rejected.inc({ code: '452' })
        return callback(new TooManyRecipientsError())
      }
      const sender = session.envelope.mailFrom ? session.envelope.mailFrom.address : ''
      check.check(address.address, sender).then(
        (refusal) => {
          if (refusal !== undefined) {
            metrics.rejected.inc({ code: String(refusal.responseCode) })
            logger.info(
              { rcpt: address.address, code: refusal.responseCode, reason: refusal.message },
              'recipient rejected',
            )
            return callback(refusal)
          }
          list.push(address)
          recipients.set(session.envelope, list)
          envelopeBytes.set(session.envelope, bytes)
          callback()
        },
        (error: unknown) => {
          // A bug, not a verdict: the client keeps the mail and tries again.
          logger.error({ err: error, rcpt: address.address }, 'recipient check failed')
          metrics.rejected.inc({ code: '451' })
          callback(new LmtpError(451, 'Temporary local error'))
        },
      )
    },

    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      drain.begin()
      metrics.inFlight.inc()
      const rcptTo = recipients.get(session.envelope) ?? session.envelope.rcptTo
      session.envelope.rcptTo = rcptTo
      const addresses = rcptTo.map((rcpt) => rcpt.address)
      const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : ''
      const id = newMessageId()
      const receivedAt = new Date()
      const client = {
        address: session.remoteAddress,
        hostname: session.clientHostname,
        lhlo: session.hostNameAppearsAs,
      }
      const reply = (replies: Error[]) => {
        metrics.inFlight.dec()
        callback(null, replies as never)
        // smtp-server writes the replies now when the whole message is in; after an early
        // failure (too big, S3 down) only at the stream's end, which its listener, added
        // in callback(), sees before ours. Shutdown must not close the session before,
        // and until then the client still owes us the rest: the deadline still runs.
        const written = () => {
          deadlines.end(session)
          drain.end()
        }
        if (stream.readable) finished(stream, written)
        else written()
      }
      const prefix = traceHeaders({
        id,
        mailFrom,
        rcptTo: addresses,
        client,
        hostname: config.hostname,
        receivedAt,
      })
      const { routesVersion, delimiters } = check
      handoff
        .deliver(stream, {
          id,
          receivedAt,
          mailFrom,
          rcptTo: addresses,
          client,
          prefix,
          routesVersion,
          delimiters,
        })
        .then(
          (result) => {
            metrics.accepted.inc()
            metrics.bytes.inc(result.size)
            metrics.handoffSeconds.observe(result.handoffMs / 1000)
            logger.info(
              {
                messageId: result.id,
                queueMessageId: result.queueMessageId,
                size: result.size,
                staged: result.staged,
                from: mailFrom,
                rcpt: rcptTo.length,
                handoffMs: Math.round(result.handoffMs * 10) / 10,
              },
              'message queued',
            )
            reply(rcptTo.map(() => accepted(`Ok: queued as ${result.id}`)))
          },
          (error: unknown) => {
            const failure =
              error instanceof LmtpError ? error : new LmtpError(451, 'Temporary local error')
            metrics.rejected.inc({ code: String(failure.responseCode) })
            logger.warn(
              {
                messageId: id,
                err: error,
                code: failure.responseCode,
                from: mailFrom,
                rcpt: rcptTo.length,
              },
              'message not queued',
            )
            reply(rcptTo.map(() => failure))
          },
        )
    },
  }
  const server = new LocalLmtpServer(serverOptions)
  const deadlines = new TransactionDeadlines(
    server,
    config.transactionTimeoutSeconds * 1000,
    (session) => {
      metrics.rejected.inc({ code: '421' })
      logger.warn(
        { client: session.remoteAddress, seconds: config.transactionTimeoutSeconds },
        'transaction deadline passed, client disconnected',
      )
    },
  )
  // smtp-server emits every connection error on the server (a client that resets the
  // connection mid-DATA, a reply to a peer that left); unheard, it would end the process
  // and every other session with it.
  server.on('error', (error: Error) => logger.warn({ err: error }, 'LMTP connection error'))
  return server
}
