/**
 * The edge as its own process (`node --import tsx edge/main.ts`), configured only by its
 * environment as an operator runs it, so that signals and exit codes are the real ones.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
// Longest wait for the edge to say it listens, or to exit after a signal (ms).
const START_TIMEOUT_MS = 20_000
const EXIT_TIMEOUT_MS = 60_000

export interface EdgeProcess {
  child: ChildProcess
  /** Everything it logged so far (JSON lines). */
  output(): string
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

export interface EdgeProcessOptions {
  /** The command and its arguments; by default `node --import tsx edge/main.ts`. */
  argv?: [string, ...string[]]
  /** Only `env` (and LOG_LEVEL), not this process's environment as well. */
  cleanEnv?: boolean
  /** Working directory; the repository by default. */
  cwd?: string
}

export async function startEdgeProcess(
  env: NodeJS.ProcessEnv,
  options: EdgeProcessOptions = {},
): Promise<EdgeProcess> {
  const [command, ...args] = options.argv ?? [process.execPath, '--import', 'tsx', 'edge/main.ts']
  const child = spawn(command, args, {
    cwd: options.cwd ?? REPO,
    env: { ...(options.cleanEnv ? {} : process.env), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const deadline = Date.now() + START_TIMEOUT_MS
  while (!output.includes('"edge listening"')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`the edge did not start:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS)
      const code = await exited
      clearTimeout(timer)
      return code
    },
  }
}
