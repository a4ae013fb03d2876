/**
 * The overall deadline of one LMTP transaction, from MAIL FROM to the replies after DATA.
 *
 * smtp-server's idle timer starts again at every byte, so a client sending one byte a
 * second inside DATA keeps its connection, and its slot under maxClients, for as long as
 * it likes: a hundred such clients lock every other one out. Past the deadline a client
 * that still owes us input gets `421 4.4.2` and is disconnected; nothing it sent was
 * acknowledged, so a real MTA just tries again later. A transaction whose message is all
 * in and being handed off is never cut: its replies may be about to say 250.
 */
import type { SMTPServer, SMTPServerSession } from 'smtp-server'

// How soon a transaction past its deadline is looked at again while we owe the client an
// answer (a hand-off under way, a handler still deciding) rather than it us (ms).
const RECHECK_MS = 1000

/** The parts of smtp-server's SMTPConnection (3.21) that the deadline reads and uses. */
interface Connection {
  session: SMTPServerSession
  /** A command handler (onRcptTo…) has not answered yet. */
  _handlerPending: boolean
  /** The message stream while in DATA (and until its replies are sent). */
  _dataStream: unknown
  /** In data mode until the final dot has been read. */
  _parser: { _dataMode: boolean } | false
  send(code: number, text: string): void
}

export class TransactionDeadlines {
  readonly #server: SMTPServer
  readonly #timeoutMs: number
  readonly #onExpired: (session: SMTPServerSession) => void
  readonly #timers = new Map<string, NodeJS.Timeout>()

  /** `onExpired` runs once a session was answered 421 (for logs and metrics). */
  constructor(
    server: SMTPServer,
    timeoutMs: number,
    onExpired: (session: SMTPServerSession) => void,
  ) {
    this.#server = server
    this.#timeoutMs = timeoutMs
    this.#onExpired = onExpired
  }

  /** At MAIL FROM: the transaction of `session` must be over within the timeout. */
  start(session: SMTPServerSession): void {
    this.end(session)
    const envelope = session.envelope
    const check = () => {
      // RSET or LHLO ended the transaction (a new envelope) without DATA.
      if (session.envelope !== envelope) return this.end(session)
      const connection = this.#connectionOf(session)
      if (!connection) return this.end(session)
      if (owesInput(connection)) {
        this.#timers.delete(session.id)
        // 421 closes the connection (smtp-server's send); the slot is free at once.
        connection.send(421, 'Error: transaction took too long, closing connection')
        this.#onExpired(session)
        return
      }
      this.#arm(session, check, RECHECK_MS)
    }
    this.#arm(session, check, this.#timeoutMs)
  }

  /** Once the replies after DATA were written, or the connection closed. */
  end(session: SMTPServerSession): void {
    clearTimeout(this.#timers.get(session.id))
    this.#timers.delete(session.id)
  }

  #arm(session: SMTPServerSession, check: () => void, ms: number): void {
    const timer = setTimeout(check, ms)
    // Open connections keep the process alive, not their deadlines.
    timer.unref()
    this.#timers.set(session.id, timer)
  }

  #connectionOf(session: SMTPServerSession): Connection | undefined {
    const connections = (this.#server as unknown as { connections: Set<Connection> }).connections
    for (const connection of connections) if (connection.session === session) return connection
    return undefined
  }
}

/**
 * True while the client has yet to send something: a command, or the rest of the message.
 * The same test as smtp-server's idle timer uses (SMTPConnection._onTimeout): false while a
 * handler decides, or once the final dot is in and the message is being handed off.
 */
function owesInput(connection: Connection): boolean {
  if (connection._handlerPending) return false
  const parser = connection._parser
  return !(connection._dataStream && parser && !parser._dataMode)
}
