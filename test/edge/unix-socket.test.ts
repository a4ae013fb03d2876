/**
 * The UNIX socket listener's file handling: a stale socket is replaced, a live one or a
 * file that is not a socket is left alone and the edge refuses to start.
 */
import assert from 'node:assert/strict'
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { SocketPathError } from '../../edge/errors.ts'
import { startTestEdge } from '../helpers/edge.ts'
import { type Emulator, startEmulator } from '../helpers/emulator.ts'
import { RawLmtp } from '../helpers/raw-lmtp.ts'
import { NOBODY, needRunAs, readableCopy, setprivAs } from '../helpers/readable-copy.ts'
import { needCommands, needRoot, run, runOk } from '../helpers/system.ts'

const REPO = fileURLToPath(new URL('../..', import.meta.url))

let emulator: Emulator
let dir: string

before(async () => {
  emulator = await startEmulator()
  dir = await mkdtemp(join(tmpdir(), 'mailbridge-socket-'))
})

after(async () => {
  await emulator.stop()
  await rm(dir, { recursive: true, force: true })
})

function socketEdge(path: string, extra: { owner?: string } = {}) {
  return startTestEdge(emulator, {
    edge: { tcp: undefined, socket: { path, mode: 0o600, ...extra } },
  })
}

test('a stale socket file left by a dead process is replaced', async (t) => {
  if (!needCommands(t, ['python3'])) return
  const path = join(dir, 'stale.sock')
  // bind() creates the file; the process exits without listening or unlinking.
  await runOk('python3', [
    '-c',
    `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(path)})`,
  ])
  assert.ok((await stat(path)).isSocket())
  const edge = await socketEdge(path)
  try {
    const client = await RawLmtp.open({ socketPath: path })
    const greeting = await client.reply()
    client.close()
    assert.equal(greeting.code, 220)
    assert.equal((await stat(path)).mode & 0o777, 0o600)
  } finally {
    await edge.close()
  }
})

test('a socket another process listens on is left alone: the edge refuses to start', async () => {
  const path = join(dir, 'live.sock')
  const other = createServer((socket) => {
    // The edge's probe hangs up at once: a reset here is expected.
    socket.on('error', () => {})
    socket.end('220 other\r\n')
  })
  await new Promise<void>((resolve) => other.listen(path, resolve))
  try {
    await assert.rejects(socketEdge(path), (error: unknown) => {
      return error instanceof SocketPathError && /in use/.test(error.message)
    })
    const client = await RawLmtp.open({ socketPath: path })
    assert.equal((await client.reply()).message, 'other', 'the other server still answers')
    client.close()
  } finally {
    await new Promise((resolve) => other.close(resolve))
  }
})

test('a socket this user may not connect to is left alone, not taken for stale', async (t) => {
  // Only a refused connect() proves a socket dead. As an unprivileged user, a root-owned
  // 0600 socket answers EACCES: a live edge's socket must not be removed for that.
  if (!needRoot(t)) return
  if (!(await needRunAs(t, NOBODY))) return
  const shared = join(dir, 'shared')
  await mkdir(shared, { mode: 0o777 })
  await chmod(shared, 0o777)
  await chmod(dir, 0o755)
  const path = join(shared, 'root-only.sock')
  // Bundled, with Node, into a copy user nobody may read: the checkout may be in a 0700 home.
  const copy = await readableCopy({
    scripts: {
      clear:
        `import { clearStaleSocket } from ${JSON.stringify(join(REPO, 'edge/unix-socket.ts'))}\n` +
        `await clearStaleSocket(${JSON.stringify(path)}).then(() => console.log('cleared'), (e) => console.log(e.message))\n`,
    },
  })
  t.after(() => copy.remove())
  const live = createServer((socket) => socket.on('error', () => {}).end('220 live\r\n'))
  await new Promise<void>((resolve) => live.listen(path, resolve))
  await chmod(path, 0o600)
  try {
    const result = await run('setpriv', [...setprivAs(NOBODY), copy.node, copy.scripts.clear])
    assert.match(result.stdout, /may be in use \(.*(EACCES|permission denied)/i, result.stderr)
    assert.ok((await stat(path)).isSocket(), 'the live socket is still there')
  } finally {
    await new Promise((resolve) => live.close(resolve))
  }
})

test('a path that is not a socket is never deleted', async () => {
  const path = join(dir, 'precious.txt')
  await writeFile(path, 'keep me')
  await assert.rejects(socketEdge(path), /not a socket/)
  assert.equal(await readFile(path, 'utf8'), 'keep me')
})

test('an unknown socket owner stops the start with a message naming it', async () => {
  await assert.rejects(
    socketEdge(join(dir, 'owner.sock'), { owner: 'no-such-user-here' }),
    (error: unknown) => {
      return error instanceof SocketPathError && error.message.includes('no-such-user-here')
    },
  )
})
