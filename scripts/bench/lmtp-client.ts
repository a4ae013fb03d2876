/**
 * A minimal LMTP client on a raw socket (RFC 2033): enough to time one transaction at a
 * time precisely, with nothing between our write and the server's reply but the kernel.
 */
import { connect, type Socket } from 'node:net'

export interface Target {
  host: string
  port: number
}

export interface Envelope {
  from: string
  to: string
}

export interface Reply {
  code: number
  /** Every line of the reply, without the code and separator. */
  lines: string[]
}

export class LmtpClient {
  readonly #socket: Socket
  readonly #timeoutMs: number
  #buffer = ''
  #lines: string[] = []
  readonly #replies: Reply[] = []
  #waiter: ((reply: Reply | Error) => void) | undefined
  #error: Error | undefined

  private constructor(socket: Socket, timeoutMs: number) {
    this.#socket = socket
    this.#timeoutMs = timeoutMs
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('error', (error) => this.#fail(error))
    socket.on('close', () => this.#fail(new Error('connection closed by the server')))
  }

  /** Connects and reads the greeting (220). */
  static async open(target: Target, timeoutMs: number): Promise<LmtpClient> {
    const socket = connect({ ...target, noDelay: true })
    const client = new LmtpClient(socket, timeoutMs)
    try {
      await client.expect(220, 'greeting')
    } catch (error) {
      socket.destroy()
      throw error
    }
    return client
  }

  #onData(chunk: Buffer): void {
    // Replies are ASCII; latin1 keeps any stray byte one character.
    this.#buffer += chunk.toString('latin1')
    for (let end = this.#buffer.indexOf('\r\n'); end >= 0; end = this.#buffer.indexOf('\r\n')) {
      const line = this.#buffer.slice(0, end)
      this.#buffer = this.#buffer.slice(end + 2)
      this.#lines.push(line.slice(4))
      // "250-…" continues a multi-line reply, "250 …" (or a bare "250") ends it.
      if (line[3] === '-') continue
      this.#deliver({ code: Number(line.slice(0, 3)), lines: this.#lines })
      this.#lines = []
    }
  }

  #deliver(reply: Reply | Error): void {
    const waiter = this.#waiter
    if (waiter) {
      this.#waiter = undefined
      waiter(reply)
    } else if (!(reply instanceof Error)) {
      this.#replies.push(reply)
    }
  }

  #fail(error: Error): void {
    this.#error ??= error
    this.#deliver(error)
  }

  /** The next reply; rejects after the client's timeout or when the connection fails. */
  reply(): Promise<Reply> {
    const queued = this.#replies.shift()
    if (queued) return Promise.resolve(queued)
    if (this.#error) return Promise.reject(this.#error)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined
        reject(new Error(`no reply within ${this.#timeoutMs} ms`))
      }, this.#timeoutMs)
      this.#waiter = (reply) => {
        clearTimeout(timer)
        if (reply instanceof Error) reject(reply)
        else resolve(reply)
      }
    })
  }

  /** The next reply, which must have `code`. */
  async expect(code: number, what = 'reply'): Promise<Reply> {
    const reply = await this.reply()
    if (reply.code !== code) {
      throw new Error(`${what}: expected ${code}, got ${reply.code} ${reply.lines.join(' / ')}`)
    }
    return reply
  }

  /** Writes bytes; resolves once they are handed to the kernel. */
  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#socket.write(data, (error) => (error ? reject(error) : resolve()))
    })
  }

  async command(line: string, code: number): Promise<Reply> {
    await this.write(`${line}\r\n`)
    return this.expect(code, line)
  }

  /** Drops the connection at once (after a failure). */
  destroy(): void {
    this.#socket.destroy()
  }

  /** QUIT, then close, ignoring a server that already hung up. */
  async close(): Promise<void> {
    try {
      if (!this.#error) await this.command('QUIT', 221)
    } catch {
      // closing anyway
    }
    this.#socket.destroy()
  }
}

/** Connects, reads the greeting and quits: resolves once a server answers on the port. */
export async function greets(target: Target, timeoutMs: number): Promise<true> {
  const client = await LmtpClient.open(target, timeoutMs)
  await client.close()
  return true
}
