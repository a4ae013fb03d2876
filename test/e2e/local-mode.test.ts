/**
 * `npm start` as a newcomer runs it: the process starts on the embedded emulator, prints
 * where it listens, the copy-paste send command delivers, the message reads back over the
 * API, and SIGTERM stops it cleanly.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { run } from '../helpers/system.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url))
const SEND_TEST = fileURLToPath(new URL('../../scripts/send-test.ts', import.meta.url))

async function waitForOutput(child: ChildProcess, re: RegExp, timeoutMs: number) {
  let output = ''
  return new Promise<RegExpMatchArray>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${re} within ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    )
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const match = output.match(re)
      if (match) {
        clearTimeout(timer)
        resolve(match)
      }
    })
  })
}

test('npm start runs the whole bridge; the printed commands send and read a message', async () => {
  const child = spawn(TSX, ['local/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      MAILBRIDGE_LMTP_PORT: '0',
      MAILBRIDGE_API_PORT: '0',
      MAILBRIDGE_EMULATOR_PORT: '0',
      MAILBRIDGE_API_KEY: 'local-test-key',
      MAILBRIDGE_DOMAINS: 'local.test',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  try {
    const [banner = ''] = await waitForOutput(
      child,
      /mailbridge is running[\s\S]*Get a webhook[^\n]*\n[^\n]*\n/,
      30_000,
    )
    const send = banner.match(/npm run send-test -- --lmtp (\S+) --to (\S+)/)
    const read = banner.match(/curl -s -H 'Authorization: Bearer local-test-key' (\S+)/)
    assert.ok(send && read, banner)
    assert.match(banner, /API key {9}local-test-key/)

    const sent = await run(TSX, [SEND_TEST, '--lmtp', send[1] ?? '', '--to', send[2] ?? ''])
    assert.match(
      sent.stdout,
      /reply: +250 2\.0\.0 Ok: queued as [0-9A-Z]{26}/,
      sent.stdout + sent.stderr,
    )

    let messages: { subject: string }[] = []
    for (let i = 0; i < 100 && messages.length === 0; i++) {
      const response = await fetch(read[1] ?? '', {
        headers: { authorization: 'Bearer local-test-key' },
      })
      assert.equal(response.status, 200)
      messages = ((await response.json()) as { messages: { subject: string }[] }).messages
      if (messages.length === 0) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    assert.equal(messages.length, 1)
    assert.match(messages[0]?.subject ?? '', /^mailbridge test /)

    child.kill('SIGTERM')
    const [code] = await once(child, 'exit')
    assert.equal(code, 0)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
  }
})
