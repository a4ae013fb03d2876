/**
 * The edge under test, as its own process and as production runs it: `bin/mailbridge edge`,
 * which runs the bundle of `npm run build` with the edge's heap flags. So its memory and
 * CPU are measured alone. Each row starts a fresh one: VmHWM cannot be reset, so a fresh
 * process makes the peak RSS that row's own.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { EMULATOR_CREDENTIALS } from './emulator.ts'
import { greets } from './lmtp-client.ts'
import { type Daemon, freePort, onCleanup, startDaemon, waitFor } from './processes.ts'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
// Built by main.ts (`npm run build`) before the first row.
export const EDGE_BUNDLE = 'dist/edge/cli.mjs'
// Loading the bundle takes a second or two on a busy 2-core machine (ms).
const START_TIMEOUT_MS = 60_000
// The edge answers its pending hand-offs before it exits (each bounded by ~20 s of SDK
// timeouts; see RunningEdge.close in edge/start-edge.ts).
const STOP_GRACE_MS = 35_000
// How long one readiness check waits for the greeting (ms).
const GREETING_TIMEOUT_MS = 5_000

export interface EdgeProcess {
  pid: number
  host: string
  port: number
  /** Stops it with SIGTERM (SIGKILL after the grace period); throws if it had crashed. */
  stop(): Promise<void>
}

/** The environment of the edge: ours only, nothing MAILBRIDGE_ or AWS_ from the caller's. */
function edgeEnv(endpoint: string, port: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('MAILBRIDGE_') && !name.startsWith('AWS_')) env[name] = value
  }
  return {
    ...env,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    AWS_REGION: 'us-east-1',
    MAILBRIDGE_LMTP_HOST: '127.0.0.1',
    MAILBRIDGE_LMTP_PORT: String(port),
    MAILBRIDGE_EDGE_HTTP_PORT: 'off',
    LOG_LEVEL: 'warn',
  }
}

function describeExit(daemon: Daemon): string {
  return `edge exited (${daemon.child.exitCode ?? daemon.child.signalCode}):\n${daemon.output()}`
}

export async function startEdgeProcess(endpoint: string): Promise<EdgeProcess> {
  const host = '127.0.0.1'
  const port = await freePort()
  // bin/mailbridge execs node on the bundle with the edge's heap flags, so the pid is node's.
  const daemon = startDaemon(join(REPO_ROOT, 'bin/mailbridge'), ['edge'], {
    env: edgeEnv(endpoint, port),
    cwd: REPO_ROOT,
  })
  let crashed: string | undefined
  void daemon.exited.then(() => {
    crashed ??= describeExit(daemon)
  })
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    // Read before stopping: a process that exited on its own is a failure, not a stop.
    const exited = daemon.child.exitCode !== null || daemon.child.signalCode !== null
    const failure = exited ? crashed : undefined
    await daemon.stop('SIGTERM', STOP_GRACE_MS)
    forget()
    if (failure) throw new Error(failure)
  }
  const forget = onCleanup('edge', stop)
  try {
    await waitFor(
      `the edge to greet on ${host}:${port}`,
      async () => {
        if (crashed) throw new Error(crashed)
        return (await greets(host, port, GREETING_TIMEOUT_MS)) || undefined
      },
      START_TIMEOUT_MS,
      200,
    )
  } catch (error) {
    await stop().catch(() => {})
    // waitFor wraps the last error; a crash says it better.
    throw crashed ? new Error(crashed) : error
  }
  // A source file newer than the bundle would make bin/mailbridge run the TypeScript.
  const command = (await readFile(`/proc/${daemon.pid}/cmdline`, 'utf8')).split('\0')
  if (!command.some((arg) => arg.endsWith(EDGE_BUNDLE))) {
    await stop()
    throw new Error(`bin/mailbridge did not run ${EDGE_BUNDLE}: ${command.join(' ')}`)
  }
  return { pid: daemon.pid, host, port, stop }
}
