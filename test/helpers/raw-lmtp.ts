/**
 * A transcript-level LMTP client on a real socket, for protocol cases no polite client
 * sends: pipelined commands, commands out of order, talking before the greeting, bare LF,
 * NUL bytes. Writes exactly the bytes given and reads replies one at a time.
 */
import { connect, type Socket } from 'node:net'
import type { LmtpTarget, Reply } from './lmtp-clients.ts'

// Longest wait for one reply before the test fails instead of hanging (ms).
const REPLY_TIMEOUT_MS = 15_000

export interface RawReply extends Reply {
  /** The reply's lines as sent, without CRLF. */
  lines: string[]
}

export class RawLmtp {
  readonly #socket: Socket
  #buffer = ''
  #waiters: Array<() => void> = []
  #closed = false

  private constructor(socket: Socket) {
    this.#socket = socket
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk
      this.#wake()
    })
    socket.on('close', () => {
      this.#closed = true
      this.#wake()
    })
    socket.on('error', () => {})
  }

  /** Connects; does not read the greeting (call `reply()` for it). */
  static open(target: LmtpTarget): Promise<RawLmtp> {
    return new Promise((resolve, reject) => {
      const socket =
        'socketPath' in target ? connect(target.socketPath) : connect(target.port, target.host)
      socket.once('connect', () => resolve(new RawLmtp(socket)))
      socket.once('error', reject)
    })
  }

  /** Connects, reads the 220 greeting and says LHLO; throws unless both succeed. */
  static async greeted(target: LmtpTarget, name = 'client.test'): Promise<RawLmtp> {
    const client = await RawLmtp.open(target)
    const greeting = await client.reply()
    if (greeting.code !== 220) {
      client.close()
      throw new Error(`greeting: ${greeting.lines.join('\n')}`)
    }
    const lhlo = await client.command(`LHLO ${name}`)
    if (lhlo.code !== 250) {
      client.close()
      throw new Error(`LHLO: ${lhlo.lines.join('\n')}`)
    }
    return client
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter()
  }

  /** Writes bytes as they are: add "\r\n" yourself. */
  write(data: string | Buffer): void {
    this.#socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data)
  }

  /** The next complete reply (all lines of a multi-line one). */
  async reply(): Promise<RawReply> {
    const deadline = Date.now() + REPLY_TIMEOUT_MS
    for (;;) {
      const reply = this.#take()
      if (reply) return reply
      if (this.#closed)
        throw new Error(`connection closed; unread: ${JSON.stringify(this.#buffer)}`)
      if (Date.now() > deadline)
        throw new Error(`no reply; unread: ${JSON.stringify(this.#buffer)}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200)
        this.#waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  /** `count` replies in order. */
  async replies(count: number): Promise<RawReply[]> {
    const out: RawReply[] = []
    for (let i = 0; i < count; i++) out.push(await this.reply())
    return out
  }

  /** Writes a command line and reads its reply. */
  async command(line: string): Promise<RawReply> {
    this.write(`${line}\r\n`)
    return this.reply()
  }

  /**
   * One transaction on a greeted connection: MAIL, one RCPT per address, DATA and
   * `message` (which must end in CRLF; no dot-stuffing is done), then the replies after
   * it, one per accepted recipient (none when DATA was refused).
   */
  async transaction(
    from: string,
    to: string[],
    message: string,
  ): Promise<{ mail: RawReply; rcpt: RawReply[]; data: RawReply[] }> {
    const mail = await this.command(`MAIL FROM:<${from}>`)
    const rcpt: RawReply[] = []
    for (const address of to) rcpt.push(await this.command(`RCPT TO:<${address}>`))
    if ((await this.command('DATA')).code !== 354) return { mail, rcpt, data: [] }
    this.write(`${message}.\r\n`)
    const accepted = rcpt.filter((reply) => reply.code === 250).length
    return { mail, rcpt, data: await this.replies(accepted) }
  }

  /** True once the server closed the connection. */
  async closedByServer(): Promise<boolean> {
    const deadline = Date.now() + REPLY_TIMEOUT_MS
    while (!this.#closed && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    return this.#closed
  }

  close(): void {
    this.#socket.destroy()
  }

  /** Drops the connection with a TCP reset, as a killed client process would. */
  reset(): void {
    this.#socket.resetAndDestroy()
  }

  #take(): RawReply | undefined {
    const lines: string[] = []
    let offset = 0
    for (;;) {
      const end = this.#buffer.indexOf('\r\n', offset)
      if (end < 0) return undefined
      const line = this.#buffer.slice(offset, end)
      lines.push(line)
      offset = end + 2
      // "250-..." continues, "250 ..." (or a bare "250") ends the reply.
      if (line[3] !== '-') break
    }
    this.#buffer = this.#buffer.slice(offset)
    const code = Number(lines[0]?.slice(0, 3))
    return { code, lines, message: lines.map((line) => line.slice(4)).join('\n') }
  }
}
