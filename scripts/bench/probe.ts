/**
 * The hand-off latency probe, the same for both servers: while smtp-source loads the
 * server, one LMTP connection sends messages of the row's size one after another and times,
 * for each, the span from writing the final `\r\n.\r\n` (after the rest of the message was
 * handed to the kernel) to reading the recipient's reply.
 */
import { type Envelope, LmtpClient, type Target } from './lmtp-client.ts'

// A reply slower than this means the server is stuck, not slow (ms).
const REPLY_TIMEOUT_MS = 60_000
// Bounds the probe's loop whatever happens to the load beside it (messages per row).
const MAX_PROBE_MESSAGES = 100_000
// Body line: 78 characters + CRLF, as mail is usually wrapped.
const BODY_LINE = `${'0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'.repeat(2).slice(0, 78)}\r\n`

/**
 * A message of a few header lines and `size` body bytes, without the CRLF that ends its
 * last line (the client sends it as part of the `\r\n.\r\n` terminator).
 */
export function buildMessage(size: number, envelope: Envelope): Buffer {
  const header = Buffer.from(
    [
      `From: <${envelope.from}>`,
      `To: <${envelope.to}>`,
      'Subject: mailbridge bench probe',
      `Date: ${new Date().toUTCString()}`,
      '',
      '',
    ].join('\r\n'),
  )
  const body = Buffer.alloc(size, BODY_LINE)
  // Never end on a CR or LF: the terminator supplies the last line's CRLF itself.
  for (let i = body.length - 1; i >= 0 && (body[i] === 0x0a || body[i] === 0x0d); i--) {
    body[i] = 0x78
  }
  return Buffer.concat([header, body])
}

/** A connection greeted and past LHLO, ready for transactions. */
export async function openSession(target: Target, timeoutMs: number): Promise<LmtpClient> {
  const client = await LmtpClient.open(target, timeoutMs)
  try {
    await client.command('LHLO probe.bench', 250)
  } catch (error) {
    client.destroy()
    throw error
  }
  return client
}

/** One transaction; returns the hand-off latency in ms. Throws on any reply but the expected. */
export async function sendTimed(
  client: LmtpClient,
  message: Buffer,
  envelope: Envelope,
): Promise<number> {
  await client.command(`MAIL FROM:<${envelope.from}>`, 250)
  await client.command(`RCPT TO:<${envelope.to}>`, 250)
  await client.command('DATA', 354)
  await client.write(message)
  const written = performance.now()
  const [, replied] = await Promise.all([
    client.write('\r\n.\r\n'),
    client.expect(250, 'end of data').then(() => performance.now()),
  ])
  return replied - written
}

export interface RunningProbe {
  /** Lets the message in flight finish, then resolves with one latency (ms) per message. */
  stop(): Promise<number[]>
  /** Drops the connection at once (the load failed; the row is lost anyway). */
  abort(): void
}

/** Starts sending; every message must get a 250, or stop() rejects. */
export function startProbe(target: Target, size: number, envelope: Envelope): RunningProbe {
  const latencies: number[] = []
  const message = buildMessage(size, envelope)
  let stopping = false
  let client: LmtpClient | undefined
  const loop = (async () => {
    const connection = await openSession(target, REPLY_TIMEOUT_MS)
    client = connection
    try {
      while (!stopping && latencies.length < MAX_PROBE_MESSAGES) {
        latencies.push(await sendTimed(connection, message, envelope))
      }
    } catch (error) {
      connection.destroy()
      throw error
    }
    await connection.close()
  })()
  // The failure surfaces in stop(); until then it must not count as unhandled.
  loop.catch(() => {})
  return {
    async stop() {
      stopping = true
      await loop
      return latencies
    },
    abort() {
      stopping = true
      client?.destroy()
    },
  }
}
