/**
 * Every size the edge advertises reaches the mailbox, in local mode: messages far past the
 * emulator's 11 MiB request limit (multipart uploads), and one of control characters,
 * whose text grows sixfold as JSON. Sent by a real LMTP client (Python's smtplib.LMTP);
 * the raw source read back over the API is the same bytes.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, test } from 'node:test'
import { BODY_CHARS } from '../../shared/message.ts'
import { startTestBridge, type TestBridge } from '../helpers/bridge.ts'
import { pythonLmtp } from '../helpers/lmtp-clients.ts'
import { needCommands } from '../helpers/system.ts'
import { splitTrace } from '../helpers/trace.ts'

const MB = 1_000_000
const MAILBOX = 'big@local.test'

let bridge: TestBridge
before(async () => {
  // Long enough that a record is not handed out twice while a big one is parsed.
  bridge = await startTestBridge({
    MAILBRIDGE_DOMAINS: 'local.test',
    MAILBRIDGE_LOCAL_INGEST_RETRY_SECONDS: '30',
  })
})
after(() => bridge.stop())

/** A message of about `size` bytes whose body is lines of `line` (CRLF-terminated). */
function message(subject: string, size: number, line: string, type = 'text/plain'): Buffer {
  const head = `From: <sender@big.test>\r\nTo: <${MAILBOX}>\r\nSubject: ${subject}\r\nMIME-Version: 1.0\r\nContent-Type: ${type}; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n`
  const lineBytes = `${line}\r\n`
  return Buffer.from(head + lineBytes.repeat(Math.ceil(size / lineBytes.length)))
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

async function waitForMessage(subject: string): Promise<{ id: string }> {
  const path = `/v1/mailboxes/${encodeURIComponent(MAILBOX)}/messages?limit=100`
  const deadline = Date.now() + 120_000
  let failed: unknown
  while (Date.now() < deadline) {
    // The bridge runs in this process: while ingest parses a big message the event loop
    // can stall past the API's keep-alive timeout, and a poll sent on the connection the
    // server is closing then fails. The next poll opens another; a dead API fails them all.
    const page = await bridge.request(path).then(
      (response) => response.json() as Promise<{ messages: { id: string; subject: string }[] }>,
      (error: unknown) => {
        failed = error
        return { messages: [] }
      },
    )
    const found = page.messages.find((summary) => summary.subject === subject)
    if (found) return found
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`${subject} was acknowledged but never stored (last poll error: ${failed})`)
}

async function deliverAndReadBack(subject: string, data: Buffer) {
  const result = await pythonLmtp(bridge.lmtp, {
    from: 'sender@big.test',
    to: [MAILBOX],
    data,
  })
  assert.equal(result.data[0]?.code, 250, JSON.stringify(result.data))
  const { id } = await waitForMessage(subject)
  const base = `/v1/mailboxes/${encodeURIComponent(MAILBOX)}/messages/${id}`
  const raw = new Uint8Array(await (await bridge.request(`${base}/raw`)).arrayBuffer())
  assert.equal(sha256(splitTrace(raw).message), sha256(data), 'raw source differs')
  const parsed = (await (await bridge.request(base)).json()) as {
    text: string | null
    truncated?: { text: boolean; html: boolean }
  }
  return parsed
}

for (const size of [20 * MB, 45 * MB]) {
  test(`a ${size / MB} MB message is stored whole and reads back byte for byte`, async (t) => {
    if (!needCommands(t, ['python3'])) return
    const line = 'The quick brown fox jumps over the lazy dog, again and again and again.'
    const parsed = await deliverAndReadBack(`big ${size}`, message(`big ${size}`, size, line))
    // Its text is far past what the parsed message keeps: cut there, and said to be.
    assert.equal(parsed.text?.length, BODY_CHARS)
    assert.deepEqual(parsed.truncated, { text: true, html: false })
  })
}

test('a message of control characters (sixfold as JSON) is stored', async (t) => {
  if (!needCommands(t, ['python3'])) return
  const line = '\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f'.repeat(6)
  const parsed = await deliverAndReadBack('control', message('control', 12 * MB, line))
  assert.ok(parsed.text?.startsWith(line), 'text is the control characters')
  assert.deepEqual(parsed.truncated, { text: true, html: false })
})

test('a small message keeps its whole text and no truncated mark', async (t) => {
  if (!needCommands(t, ['python3'])) return
  const parsed = await deliverAndReadBack('small', message('small', 2_000, 'short line'))
  assert.equal(parsed.truncated, undefined)
  assert.ok(parsed.text?.startsWith('short line'))
})
