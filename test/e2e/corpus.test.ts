/**
 * Every mail message of the real-world corpus (../shared/corpus) goes in through LMTP
 * (Python's smtplib.LMTP, one connection, one transaction per message) and comes out of the
 * API with the bytes that went over the wire: nothing dropped, no handler crash.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { startTestBridge, type TestBridge } from '../helpers/bridge.ts'
import { CORPUS_DIR, corpusMessages, corpusPresent } from '../helpers/corpus.ts'
import { findCommand, inCi, needCommands, runOk } from '../helpers/system.ts'
import { splitTrace } from '../helpers/trace.ts'

// Sends each file as one LMTP transaction over a single connection and prints one JSON
// line per message with every reply after DATA.
const SEND_ALL = `
import json, smtplib, sys
spec = json.load(open(sys.argv[1]))
client = smtplib.LMTP(spec["host"], spec["port"], timeout=60)
client.ehlo()
for item in spec["messages"]:
    client.mail("corpus@example.net")
    code, msg = client.rcpt(item["to"])
    body = open(item["file"], "rb").read()
    replies = [client.data(body)[0]] if code == 250 else []
    print(json.dumps({"to": item["to"], "rcpt": code, "data": replies}), flush=True)
client.quit()
`

/** The bytes an LMTP client puts on the wire for a file: CRLF line ends, a final CRLF. */
function onTheWire(bytes: Buffer): Buffer {
  const crlf = Buffer.from(bytes.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1')
  return crlf.subarray(-2).toString() === '\r\n' ? crlf : Buffer.concat([crlf, Buffer.from('\r\n')])
}

let bridge: TestBridge
let dir: string

before(async () => {
  bridge = await startTestBridge()
  dir = await mkdtemp(join(tmpdir(), 'mailbridge-corpus-'))
})
after(async () => {
  await bridge.stop()
  await rm(dir, { recursive: true, force: true })
})

test('every corpus message goes in over LMTP and comes out of the API byte for byte', async (t) => {
  if (!corpusPresent()) {
    const message = `the mail corpus is not at ${CORPUS_DIR} (it sits beside the repository, not in it)`
    if (inCi()) throw new Error(message)
    t.skip(message)
    return
  }
  if (!needCommands(t, ['python3'])) return
  const messages = corpusMessages()
  assert.ok(messages.length > 300, `found ${messages.length} corpus messages`)

  // Prepare: the wire form of each message in a file, one recipient per message.
  const wire = messages.map(({ bytes }) => onTheWire(bytes))
  const items = await Promise.all(
    wire.map(async (bytes, index) => {
      const file = join(dir, `${index}.eml`)
      await writeFile(file, bytes)
      return { file, to: `corpus-${index}@corpus.test` }
    }),
  )
  const specFile = join(dir, 'spec.json')
  await writeFile(specFile, JSON.stringify({ ...bridge.lmtp, messages: items }))

  // Act
  const python = findCommand('python3') ?? 'python3'
  const { stdout } = await runOk(python, ['-c', SEND_ALL, specFile], { timeoutMs: 120_000 })

  // Assess: every message was accepted...
  const replies = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
  assert.equal(replies.length, messages.length)
  const refused = replies.filter((r) => r.rcpt !== 250 || r.data[0] !== 250)
  assert.deepEqual(refused, [], 'every message accepted with 250')

  // ...and every one is stored, with the raw bytes that went over the wire.
  const deadline = Date.now() + 60_000
  const problems: string[] = []
  for (const [index, { name }] of messages.entries()) {
    const mailbox = encodeURIComponent(`corpus-${index}@corpus.test`)
    let ids: string[] = []
    while (ids.length === 0 && Date.now() < deadline) {
      const list = await bridge.request(`/v1/mailboxes/${mailbox}/messages`)
      ids = ((await list.json()) as { messages: { id: string }[] }).messages.map((m) => m.id)
      if (ids.length === 0) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    if (ids.length !== 1) {
      problems.push(`${name}: ${ids.length} messages stored`)
      continue
    }
    const raw = await bridge.request(`/v1/mailboxes/${mailbox}/messages/${ids[0]}/raw`)
    const bytes = Buffer.from(await raw.arrayBuffer())
    try {
      const { message } = splitTrace(bytes)
      if (!message.equals(wire[index] as Buffer)) problems.push(`${name}: raw bytes differ`)
    } catch (error) {
      problems.push(`${name}: ${(error as Error).message}`)
    }
    const parsed = await bridge.request(`/v1/mailboxes/${mailbox}/messages/${ids[0]}`)
    if (parsed.status !== 200) problems.push(`${name}: message JSON answered ${parsed.status}`)
  }
  assert.deepEqual(problems, [])
})
