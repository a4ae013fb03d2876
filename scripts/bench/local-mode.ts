/**
 * Local mode under test, as `npm start` runs it: one process (edge, ingest and deliver
 * pollers, API, and the emulators each in a thread of their own), its data kept on disk in a fresh
 * directory as by default. It holds a message once it is stored in its mailbox, so a row
 * of it is timed end to end: from the first message sent to the last one stored.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { greets } from './lmtp-client.ts'
import { cleanEnv, freePort, onCleanup, startDaemon, waitFor } from './processes.ts'
import type { ServerUnderTest } from './servers.ts'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
// Node, tsx, the emulator thread and its database (ms).
const START_TIMEOUT_MS = 60_000
// It finishes the batches in hand before it exits (ms).
const STOP_GRACE_MS = 30_000
const API_KEY = 'bench-local-key'

/** Local mode as a server under test, with where its HTTP API answers. */
export interface LocalModeServer extends ServerUnderTest {
  api: {
    /** Base URL, e.g. http://127.0.0.1:34567 */
    url: string
    /** The bearer token it was started with. */
    key: string
  }
}

export async function startLocalModeServer(): Promise<LocalModeServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'mailbridge-bench-data-'))
  const target = { host: '127.0.0.1', port: await freePort() }
  const apiPort = await freePort()
  const daemon = startDaemon(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', '--import', 'tsx', 'local/main.ts'],
    {
      cwd: REPO_ROOT,
      env: {
        ...cleanEnv(),
        MAILBRIDGE_DATA_DIR: dataDir,
        MAILBRIDGE_LMTP_PORT: String(target.port),
        MAILBRIDGE_API_PORT: String(apiPort),
        MAILBRIDGE_EMULATOR_PORT: '0',
        MAILBRIDGE_DYNAMODB_PORT: '0',
        MAILBRIDGE_API_KEY: API_KEY,
        LOG_LEVEL: 'warn',
      },
    },
  )
  const stop = async () => {
    await daemon.stop(STOP_GRACE_MS)
    await rm(dataDir, { recursive: true, force: true })
    forget()
  }
  const forget = onCleanup('local mode', stop)
  const crashed = () => {
    const status = daemon.status()
    if (status !== undefined) throw new Error(`local mode exited (${status}):\n${daemon.output()}`)
  }
  try {
    await waitFor(
      `local mode to greet on ${target.host}:${target.port}`,
      async () => {
        crashed()
        return greets(target, 5_000)
      },
      START_TIMEOUT_MS,
      200,
    )
  } catch (error) {
    await stop()
    throw error
  }
  const api = { url: `http://127.0.0.1:${apiPort}`, key: API_KEY }
  return {
    name: 'local',
    target,
    api,
    rootPid: daemon.pid,
    pids: () => [daemon.pid],
    storesLater: true,
    async holds() {
      crashed()
      const response = await fetch(`${api.url}/v1/mailboxes`, {
        headers: { authorization: `Bearer ${api.key}` },
      })
      if (!response.ok) throw new Error(`GET /v1/mailboxes: ${response.status}`)
      const { mailboxes } = (await response.json()) as { mailboxes: { messages: number }[] }
      return mailboxes.reduce((sum, mailbox) => sum + mailbox.messages, 0)
    },
    stop,
  }
}
