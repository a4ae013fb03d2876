/**
 * Every transfer encoding, CRLF and bare-LF sources, in over LMTP and out of the API's
 * attachment download byte for byte.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startTestBridge, type TestBridge } from '../helpers/bridge.ts'
import { encodedCases } from '../helpers/encoded-parts.ts'
import { pythonLmtp } from '../helpers/lmtp-clients.ts'
import { needCommands } from '../helpers/system.ts'

let bridge: TestBridge

before(async () => {
  bridge = await startTestBridge()
})
after(async () => {
  await bridge.stop()
})

async function firstId(mailbox: string): Promise<string> {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const list = await bridge.request(`/v1/mailboxes/${encodeURIComponent(mailbox)}/messages`)
    const ids = ((await list.json()) as { messages: { id: string }[] }).messages.map((m) => m.id)
    if (ids[0] !== undefined) return ids[0]
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`nothing stored for ${mailbox}`)
}

test('each attachment downloads through the API as the bytes that were sent', async (t) => {
  if (!needCommands(t, ['python3'])) return
  const problems: string[] = []
  for (const [index, { name, raw, expected }] of encodedCases().entries()) {
    // Prepare / Act
    const mailbox = `bytes-${index}@corpus.test`
    const result = await pythonLmtp(bridge.lmtp, { from: 'a@x.test', to: [mailbox], data: raw })
    assert.equal(result.data[0]?.code, 250, `${name}: accepted`)
    const id = await firstId(mailbox)
    const res = await bridge.request(
      `/v1/mailboxes/${encodeURIComponent(mailbox)}/messages/${id}/attachments/0`,
    )
    // Assess
    const body = Buffer.from(await res.arrayBuffer())
    if (res.status !== 200 || !body.equals(expected)) {
      problems.push(`${name}: ${res.status}, ${body.length} bytes, expected ${expected.length}`)
    }
  }
  assert.deepEqual(problems, [])
})
