/**
 * `npm start` as a newcomer runs it: the process starts on the embedded emulator, prints
 * where it listens and where it keeps its data, the copy-paste send command delivers, the
 * message reads back over the API, every port it opened is on loopback, a webhook saved
 * through the API hears of the very next message, and SIGTERM stops it cleanly. Stops in the middle of a burst are local-restart.test.ts.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { LOCAL_API_KEY, LOCAL_MODE_ARGS, ROOT, startLocalMode } from '../helpers/local-mode.ts'
import { RawLmtp } from '../helpers/raw-lmtp.ts'
import { startReceiver } from '../helpers/receiver.ts'
import { run } from '../helpers/system.ts'

const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url))
const SEND_TEST = fileURLToPath(new URL('../../scripts/send-test.ts', import.meta.url))

/** The addresses `pid` listens on for TCP, from /proc (Linux), e.g. `127.0.0.1:2424`. */
function listeningAddresses(pid: number): string[] {
  const inodes = new Set<string>()
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = readlinkSync(`/proc/${pid}/fd/${fd}`).match(/^socket:\[(\d+)\]$/)
      if (match?.[1]) inodes.add(match[1])
    } catch {
      // closed meanwhile
    }
  }
  const out: string[] = []
  for (const table of ['tcp', 'tcp6']) {
    const lines = readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n').slice(1)
    for (const line of lines) {
      const [, local = '', , state, , , , , , inode = ''] = line.trim().split(/\s+/)
      // 0A is LISTEN.
      if (state !== '0A' || !inodes.has(inode)) continue
      const [hex = '', port = ''] = local.split(':')
      const address =
        hex.length === 8
          ? (hex.match(/../g) ?? [])
              .reverse()
              .map((byte) => Number.parseInt(byte, 16))
              .join('.')
          : hex === '00000000000000000000000001000000'
            ? '::1'
            : `[${hex}]`
      out.push(`${address}:${Number.parseInt(port, 16)}`)
    }
  }
  return out
}

test('npm start runs the whole bridge; the printed commands send and read a message', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'mailbridge-data-'))
  const local = await startLocalMode({
    MAILBRIDGE_DATA_DIR: join(dataDir, 'here'),
    MAILBRIDGE_DOMAINS: 'local.test',
  })
  try {
    const { banner } = local
    const send = banner.match(/npm run send-test -- --lmtp (\S+) --to (\S+)/)
    const read = banner.match(/curl -s -H 'Authorization: Bearer local-test-key' (\S+)/)
    assert.ok(send && read, banner)
    assert.match(banner, new RegExp(`API key {9}${LOCAL_API_KEY}`))
    assert.match(banner, /Node {12}v2[2-9]\./)
    // The data directory is made, private, and said where it is.
    assert.match(banner, new RegExp(`data {12}${join(dataDir, 'here')}`))
    assert.equal((await stat(join(dataDir, 'here'))).mode & 0o777, 0o700)

    // Edge, API and the two emulators: four listeners at least, all on loopback.
    const listening = listeningAddresses(local.child.pid ?? 0)
    assert.ok(listening.length >= 4, `listening on ${listening.join(', ')}`)
    for (const address of listening) assert.match(address, /^(127\.\d+\.\d+\.\d+|::1):\d+$/)
    const dynamodb = banner.match(/DynamoDB {8}(http:\/\/127\.0\.0\.1:\d+) \(embedded emulator\)/)
    assert.ok(dynamodb, banner)
    assert.ok(
      listening.includes(dynamodb[1]?.slice('http://'.length) ?? ''),
      'DynamoDB on loopback',
    )
    // The table is kept in the data directory, beside the queues and objects.
    assert.ok((await stat(join(dataDir, 'here', 'dynamodb'))).isDirectory())

    // A second npm start on the same data directory is refused, not run beside it.
    const second = await run(process.execPath, LOCAL_MODE_ARGS, {
      cwd: ROOT,
      env: { ...process.env, MAILBRIDGE_DATA_DIR: join(dataDir, 'here'), LOG_LEVEL: 'warn' },
    })
    assert.equal(second.exitCode, 1)
    assert.match(second.stderr, new RegExp(`in use by process ${local.child.pid}`))

    const sent = await run(TSX, [SEND_TEST, '--lmtp', send[1] ?? '', '--to', send[2] ?? ''])
    assert.match(
      sent.stdout,
      /reply: +250 2\.0\.0 Ok: queued as [0-9A-Z]{26}/,
      sent.stdout + sent.stderr,
    )

    let messages: { subject: string }[] = []
    for (let i = 0; i < 100 && messages.length === 0; i++) {
      const response = await fetch(read[1] ?? '', {
        headers: { authorization: `Bearer ${LOCAL_API_KEY}` },
      })
      assert.equal(response.status, 200)
      messages = ((await response.json()) as { messages: { subject: string }[] }).messages
      if (messages.length === 0) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    assert.equal(messages.length, 1)
    assert.match(messages[0]?.subject ?? '', /^mailbridge test /)

    // The functions (a worker thread) keep who listens to a mailbox for a second; a webhook
    // saved through the API (the main thread) must still hear of a message sent right
    // after another one had them read that nobody listens.
    const [host = '', port = ''] = (send[1] ?? '').split(':')
    const lmtp = await RawLmtp.greeted({ host, port: Number(port) })
    const receiver = await startReceiver()
    try {
      const deliverOne = async (subject: string) => {
        for (const line of [`MAIL FROM:<a@sender.test>`, `RCPT TO:<${send[2]}>`]) {
          assert.equal((await lmtp.command(line)).code, 250, line)
        }
        assert.equal((await lmtp.command('DATA')).code, 354)
        lmtp.write(`Subject: ${subject}\r\n\r\nbody\r\n.\r\n`)
        assert.equal((await lmtp.reply()).code, 250)
      }
      const stored = async (subject: string) => {
        for (let i = 0; i < 200; i++) {
          const response = await fetch(read[1] ?? '', {
            headers: { authorization: `Bearer ${LOCAL_API_KEY}` },
          })
          const listed = ((await response.json()) as { messages: { subject: string }[] }).messages
          if (listed.some((message) => message.subject === subject)) return
          await new Promise((resolve) => setTimeout(resolve, 10))
        }
        assert.fail(`${subject} never stored`)
      }
      await deliverOne('before the webhook')
      await stored('before the webhook')
      const created = await fetch(`${new URL(read[1] ?? '').origin}/v1/webhooks`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${LOCAL_API_KEY}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ url: `${receiver.base}/ok`, mailbox: send[2] }),
      })
      assert.equal(created.status, 201, await created.text())
      const heard = receiver.next()
      await deliverOne('after the webhook')
      const webhook = await Promise.race([
        heard,
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 10_000)),
      ])
      assert.ok(webhook, 'no webhook for the message sent after the endpoint was saved')
      assert.match(webhook.body.toString(), /after the webhook/)
      assert.equal(receiver.received.length, 1, 'only the message sent after it')
    } finally {
      lmtp.close()
      await receiver.close()
    }

    assert.equal(await local.stop('SIGTERM'), 0)
  } finally {
    await local.stop('SIGKILL')
    await rm(dataDir, { recursive: true, force: true })
  }
})

test('MAILBRIDGE_DATA_DIR=:memory: runs in memory and says so in the banner', async () => {
  const local = await startLocalMode({ MAILBRIDGE_DATA_DIR: ':memory:' })
  try {
    assert.match(local.banner, /data {12}in memory: lost when this process ends/)
  } finally {
    await local.stop('SIGTERM')
  }
})
