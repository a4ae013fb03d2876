/**
 * `npm start` as a process of its own, as a newcomer runs it: started with node and tsx
 * (one process, so a signal reaches the bridge itself), its banner read for the LMTP and
 * API addresses, and an API client with its key.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

// Starting node, tsx and the emulator thread takes a few seconds; this is a broken start.
const START_TIMEOUT_MS = 60_000
// A graceful stop answers what is in hand and finishes the batches in hand (ms).
const STOP_TIMEOUT_MS = 30_000

export const LOCAL_API_KEY = 'local-test-key'
/** `npm start`'s command (package.json), without npm in between: signals reach the bridge. */
export const LOCAL_MODE_ARGS = [
  '--disable-warning=ExperimentalWarning',
  '--import',
  'tsx',
  'local/main.ts',
]
/** Where LOCAL_MODE_ARGS run from. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface LocalMode {
  child: ChildProcess
  /** Everything printed to stdout so far. */
  output(): string
  banner: string
  lmtp: { host: string; port: number }
  /** Base URL of the API, e.g. http://127.0.0.1:PORT */
  api: string
  /** An API request with the key. */
  request(path: string): Promise<Response>
  /** Sends the signal and resolves with the exit code (null when killed by it). */
  stop(signal: NodeJS.Signals): Promise<number | null>
}

/** Resolves with the first match of `re` in the child's stdout, or rejects after `timeoutMs`. */
function waitForOutput(
  child: ChildProcess,
  re: RegExp,
  timeoutMs: number,
): Promise<RegExpMatchArray> {
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${re} within ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    )
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = output.match(re)
      if (!match) return
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      resolve(match)
    }
    child.stdout?.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`local mode exited (${code}) before printing ${re}:\n${output}`))
    })
  })
}

/** Starts local mode with `env` over the test's own settings: free ports, a fixed key. */
export async function startLocalMode(env: NodeJS.ProcessEnv): Promise<LocalMode> {
  const child = spawn(process.execPath, LOCAL_MODE_ARGS, {
    cwd: ROOT,
    env: {
      ...process.env,
      MAILBRIDGE_LMTP_PORT: '0',
      MAILBRIDGE_API_PORT: '0',
      MAILBRIDGE_EMULATOR_PORT: '0',
      MAILBRIDGE_DYNAMODB_PORT: '0',
      MAILBRIDGE_API_KEY: LOCAL_API_KEY,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  try {
    const [banner = ''] = await waitForOutput(
      child,
      /mailbridge is running[\s\S]*Get a webhook[^\n]*\n[^\n]*\n/,
      START_TIMEOUT_MS,
    )
    const lmtp = banner.match(/LMTP \(TCP\) +(\S+):(\d+)/)
    const api = banner.match(/HTTP API +(\S+)/)
    if (!lmtp || !api) throw new Error(`no LMTP or API address in the banner:\n${banner}`)
    const base = api[1] ?? ''
    return {
      child,
      output: () => output,
      banner,
      lmtp: { host: lmtp[1] ?? '', port: Number(lmtp[2]) },
      api: base,
      request: (path) =>
        fetch(`${base}${path}`, { headers: { authorization: `Bearer ${LOCAL_API_KEY}` } }),
      async stop(signal) {
        if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
        const exited = once(child, 'exit')
        child.kill(signal)
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
        const [code, killedBy] = (await exited) as [number | null, NodeJS.Signals | null]
        clearTimeout(timer)
        if (killedBy === 'SIGKILL' && signal !== 'SIGKILL') {
          throw new Error(`local mode did not exit within ${STOP_TIMEOUT_MS} ms of ${signal}`)
        }
        return code
      },
    }
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  }
}
