/**
 * The edge under test, as its own process and as production runs it: `bin/mailbridge edge`,
 * which runs the bundle of `npm run build` with the edge's heap flags. So its memory and
 * CPU (its SQS worker thread included) are measured alone. Each row starts a fresh one:
 * VmHWM cannot be reset, so a fresh process makes the peak RSS that row's own.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { greets, type Target } from './lmtp-client.ts'
import { cleanEnv, freePort, onCleanup, startDaemon, waitFor } from './processes.ts'

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
  target: Target
  /** Stops it with SIGTERM (SIGKILL after the grace period); throws if it had crashed. */
  stop(): Promise<void>
}

/**
 * The environment of the edge: the caller's without anything MAILBRIDGE_ or AWS_, then
 * `aws` (where the emulator is) and our listener, with no HTTP port to collide on.
 */
function edgeEnv(aws: NodeJS.ProcessEnv, target: Target): NodeJS.ProcessEnv {
  return {
    ...cleanEnv(),
    ...aws,
    MAILBRIDGE_LMTP_HOST: target.host,
    MAILBRIDGE_LMTP_PORT: String(target.port),
    MAILBRIDGE_EDGE_HTTP_PORT: 'off',
    LOG_LEVEL: 'warn',
  }
}

/** Starts `bin/mailbridge edge` with `aws` in its environment; resolves once it greets. */
export async function startEdgeProcess(aws: NodeJS.ProcessEnv): Promise<EdgeProcess> {
  const target = { host: '127.0.0.1', port: await freePort() }
  // bin/mailbridge execs node on the bundle with the edge's heap flags, so the pid is node's.
  const daemon = startDaemon(join(REPO_ROOT, 'bin/mailbridge'), ['edge'], {
    env: edgeEnv(aws, target),
    cwd: REPO_ROOT,
  })
  /** Why it exited by itself, or undefined while it runs. */
  const crash = () => {
    const status = daemon.status()
    return status === undefined ? undefined : `edge exited (${status}):\n${daemon.output()}`
  }
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    // Read before stopping: a process that exited on its own is a failure, not a stop.
    const failure = crash()
    await daemon.stop(STOP_GRACE_MS)
    forget()
    if (failure) throw new Error(failure)
  }
  const forget = onCleanup('edge', stop)
  try {
    await waitFor(
      `the edge to greet on ${target.host}:${target.port}`,
      async () => {
        const failure = crash()
        if (failure) throw new Error(failure)
        return greets(target, GREETING_TIMEOUT_MS)
      },
      START_TIMEOUT_MS,
      200,
    )
  } catch (error) {
    // waitFor wraps the last error; a crash says it better.
    const failure = crash()
    await stop().catch(() => {})
    throw failure ? new Error(failure) : error
  }
  // A source file newer than the bundle would make bin/mailbridge run the TypeScript.
  const command = readFileSync(`/proc/${daemon.pid}/cmdline`, 'utf8').split('\0')
  if (!command.some((arg) => arg.endsWith(EDGE_BUNDLE))) {
    await stop()
    throw new Error(`bin/mailbridge did not run ${EDGE_BUNDLE}: ${command.join(' ')}`)
  }
  return { pid: daemon.pid, target, stop }
}
