/**
 * What `npm run build` makes is what production runs: the three Lambda bundles, and the
 * edge's bundle (dist/edge/cli.mjs, run by bin/mailbridge and the systemd unit), started
 * here as its own process and taking a message over LMTP.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { runOk } from '../../shared/commands.ts'
import { type EdgeProcess, startEdgeProcess } from '../helpers/edge-process.ts'
import { type Emulator, startEmulator } from '../helpers/emulator.ts'
import { freePort } from '../helpers/postfix.ts'
import { drainQueue } from '../helpers/queue.ts'
import { RawLmtp } from '../helpers/raw-lmtp.ts'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
// esbuild takes seconds; a minute is a stuck build (ms).
const BUILD_TIMEOUT_MS = 60_000

let emulator: Emulator
let edge: EdgeProcess | undefined
let dir: string

before(async () => {
  emulator = await startEmulator({ MAILBRIDGE_DOMAINS: 'bundle.test' })
  dir = await mkdtemp(join(tmpdir(), 'mailbridge-bundles-'))
})

after(async () => {
  await edge?.stop('SIGKILL')
  await emulator.stop()
  await rm(dir, { recursive: true, force: true })
})

test('npm run build bundles the functions and the edge; the edge bundle takes mail', async () => {
  const { stdout } = await runOk('npm', ['run', '--silent', 'build', '--', '--outdir', dir], {
    cwd: REPO,
    timeoutMs: BUILD_TIMEOUT_MS,
  })
  const files = ['ingest/index.mjs', 'deliver/index.mjs', 'api/index.mjs', 'edge/cli.mjs']
  for (const file of [...files, 'edge/queue-worker.mjs']) {
    assert.ok((await stat(join(dir, file))).size > 0, file)
    assert.ok(stdout.includes(join(dir, file)), `${file} in the build's report`)
  }

  // ASCII only: one character beyond Latin-1 (esbuild keeps them in regex literals) makes V8
  // hold a whole file as two-byte text, decoded and compiled so at every cold start.
  for (const name of ['ingest', 'deliver', 'api']) {
    const lazy = (await readdir(join(dir, name, 'lazy'))).map((file) => `lazy/${file}`)
    for (const file of [...(await readdir(join(dir, name))), ...lazy]) {
      if (!file.endsWith('.mjs') && !file.endsWith('.cjs')) continue
      const bytes = await readFile(join(dir, name, file))
      assert.equal(
        bytes.findIndex((byte) => byte > 0x7f),
        -1,
        `${name}/${file} holds a character other than ASCII`,
      )
    }
  }

  const port = await freePort()
  edge = await startEdgeProcess(
    {
      ...emulator.env(),
      MAILBRIDGE_DOMAINS: 'bundle.test',
      MAILBRIDGE_LMTP_PORT: String(port),
      MAILBRIDGE_EDGE_HTTP_PORT: 'off',
    },
    // From a directory of its own: the bundle needs nothing of node_modules at run time.
    { argv: [process.execPath, join(dir, 'edge/cli.mjs'), 'edge'] },
  )
  const client = await RawLmtp.greeted({ host: '127.0.0.1', port }, 'bundle.test')
  const {
    data: [reply],
  } = await client.transaction(
    'b@example.net',
    ['x@bundle.test'],
    'Subject: bundled\r\n\r\nfrom the bundle\r\n',
  )
  client.close()
  assert.equal(reply?.code, 250, reply?.message)
  const queued = await drainQueue(emulator.sqs, emulator.ingestQueueUrl)
  assert.deepEqual(
    queued.map((message) => message.envelope.rcptTo),
    [['x@bundle.test']],
  )
  assert.equal(await edge.stop('SIGTERM'), 0)
})
