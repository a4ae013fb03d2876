/**
 * The LMTP listener: smtp-server (which holds the whole protocol state machine) in LMTP
 * mode, with our two hooks wired in: recipients are checked at RCPT time, and the message
 * is handed off at the end of DATA, with one reply per accepted recipient (RFC 2033 §4.2).
 */
import { chmod, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import {
  SMTPServer,
  type SMTPServerAddress,
  type SMTPServerDataStream,
  type SMTPServerSession,
} from 'smtp-server'
import type { Config } from '../shared/config.ts'
import type { Logger } from '../shared/logger.ts'
import { LmtpError, UnknownRecipientError } from './errors.ts'
import type { Handoff } from './handoff.ts'
import { acceptsRecipient } from './recipient-policy.ts'

// Idle time before an LMTP session is closed (ms). Postfix's own lmtp_*_timeout are 300 s.
const SOCKET_TIMEOUT_MS = 300_000
// How long close() lets open sessions finish before dropping them (ms).
const CLOSE_TIMEOUT_MS = 30_000
// Above Postfix's default LMTP concurrency (default_destination_concurrency_limit = 20).
const MAX_CLIENTS = 100

export interface EdgeOptions {
  config: Config['edge']
  handoff: Pick<Handoff, 'deliver'>
  logger: Logger
}

export interface RunningEdge {
  tcp: AddressInfo | undefined
  socketPath: string | undefined
  /** Stops accepting, lets open sessions finish, then resolves. */
  close(): Promise<void>
}

/**
 * A success reply for one recipient. smtp-server sends a plain string reply with the
 * enhanced code 2.6.0; an entry carrying `responseCode` gets the default mapping of its
 * code instead, and for 250 that is 2.0.0, the code Postfix and Dovecot use.
 */
function accepted(text: string): Error {
  return Object.assign(new Error(text), { responseCode: 250 })
}

export function createLmtpServer({ config, handoff, logger }: EdgeOptions): SMTPServer {
  // smtp-server keeps one envelope entry per address compared case-insensitively, yet
  // answers 250 to every RCPT: `u@d` then `U@d` would get one reply after DATA where the
  // client waits for two, and the session would desynchronise. We keep every accepted
  // RCPT here and put the full list back into the envelope before replying.
  const recipients = new WeakMap<object, SMTPServerAddress[]>()

  return new SMTPServer({
    lmtp: true,
    name: config.hostname,
    banner: 'mailbridge LMTP ready',
    hideENHANCEDSTATUSCODES: false,
    hideDSN: true,
    size: config.maxMessageBytes,
    rejectOversized: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    authOptional: true,
    disableReverseLookup: true,
    maxClients: MAX_CLIENTS,
    socketTimeout: SOCKET_TIMEOUT_MS,
    closeTimeout: CLOSE_TIMEOUT_MS,
    logger: false,

    onRcptTo(address, session, callback) {
      if (!acceptsRecipient(address.address, config.domains)) {
        logger.info({ rcpt: address.address }, 'recipient rejected')
        return callback(new UnknownRecipientError(address.address))
      }
      const list = recipients.get(session.envelope) ?? []
      list.push(address)
      recipients.set(session.envelope, list)
      callback()
    },

    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      const rcptTo = recipients.get(session.envelope) ?? session.envelope.rcptTo
      session.envelope.rcptTo = rcptTo
      const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : ''
      const started = performance.now()
      handoff
        .deliver(stream, {
          mailFrom,
          rcptTo: rcptTo.map((rcpt) => rcpt.address),
          client: {
            address: session.remoteAddress,
            hostname: session.clientHostname,
            lhlo: session.hostNameAppearsAs,
          },
        })
        .then(
          (result) => {
            logger.info(
              {
                messageId: result.id,
                queueMessageId: result.queueMessageId,
                size: result.size,
                staged: result.staged,
                from: mailFrom,
                rcpt: rcptTo.length,
                ms: Math.round(performance.now() - started),
              },
              'message queued',
            )
            callback(
              null,
              rcptTo.map(() => accepted(`Ok: queued as ${result.id}`)),
            )
          },
          (error: unknown) => {
            const reply =
              error instanceof LmtpError ? error : new LmtpError(451, 'Temporary local error')
            logger.warn(
              { err: error, code: reply.responseCode, from: mailFrom, rcpt: rcptTo.length },
              'message not queued',
            )
            callback(
              null,
              rcptTo.map(() => reply),
            )
          },
        )
    },
  })
}

function listen(server: SMTPServer, ...args: [number, string] | [string]): Promise<void> {
  return new Promise((resolve, reject) => {
    server.server.once('error', reject)
    server.listen(...(args as [number, string]), () => {
      server.server.off('error', reject)
      resolve()
    })
  })
}

/** Starts the edge on TCP and/or a UNIX socket, as configured. */
export async function startEdge(options: EdgeOptions): Promise<RunningEdge> {
  const { config } = options
  const servers: SMTPServer[] = []
  let tcp: AddressInfo | undefined
  if (config.tcp) {
    const server = createLmtpServer(options)
    await listen(server, config.tcp.port, config.tcp.host)
    tcp = server.server.address() as AddressInfo
    servers.push(server)
  }
  if (config.socket) {
    const server = createLmtpServer(options)
    // A socket file left by a process that died is in the way of listen().
    await rm(config.socket.path, { force: true })
    await listen(server, config.socket.path)
    await chmod(config.socket.path, config.socket.mode)
    servers.push(server)
  }
  return {
    tcp,
    socketPath: config.socket?.path,
    close: () =>
      Promise.all(
        servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
      ).then(() => undefined),
  }
}
