/**
 * Child processes for the bench, and the one cleanup list that stops whatever was started:
 * run from `main`'s `finally` and from the Ctrl-C / SIGTERM handler, each task at most once.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  type RunOptions,
  type RunResult,
  run as runCommand,
  runOk as runOkCommand,
} from '../../shared/commands.ts'

export { findCommand } from '../../shared/commands.ts'

// A helper program that hangs must not hang the bench (ms).
const DEFAULT_RUN_TIMEOUT_MS = 60_000
// Output kept from a long-running child, to explain why it died (characters).
const OUTPUT_TAIL_CHARS = 4_000

type Task = { name: string; run: () => Promise<void> | void }
const tasks: Task[] = []
const running = new Set<ChildProcess>()

/** Registers a stop task; returns a function that unregisters it (once stopped cleanly). */
export function onCleanup(name: string, run: Task['run']): () => void {
  const task = { name, run }
  tasks.push(task)
  return () => {
    const index = tasks.indexOf(task)
    if (index >= 0) tasks.splice(index, 1)
  }
}

let cleaning: Promise<void> | undefined

/** Runs every registered task, newest first, then SIGKILLs any child still alive. */
export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (let task = tasks.pop(); task; task = tasks.pop()) {
      try {
        await task.run()
      } catch (error) {
        console.error(`bench: cleanup "${task.name}" failed: ${(error as Error).message}`)
      }
    }
    for (const child of running) child.kill('SIGKILL')
  })()
  return cleaning
}

/** Tracks a child so that cleanup() kills it if it is still running then. */
function track(child: ChildProcess): void {
  running.add(child)
  child.on('exit', () => running.delete(child))
}

/** shared/commands.ts's run(), with the child killed by cleanup() if still running. */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return runCommand(command, args, { ...options, onSpawn: track })
}

/** shared/commands.ts's runOk(), with the child killed by cleanup() if still running. */
export function runOk(
  command: string,
  args: string[],
  options: RunOptions = {},
): Promise<RunResult> {
  return runOkCommand(command, args, { ...options, onSpawn: track })
}

/**
 * Runs a program that daemonizes (Dovecot's master), with its output going to `logFile`:
 * the daemon keeps the stdout/stderr it inherited open, so a pipe would never close.
 * Rejects with that output when it does not exit 0.
 */
export function runDaemonizing(
  command: string,
  args: string[],
  logFile: string,
  timeoutMs = DEFAULT_RUN_TIMEOUT_MS,
): Promise<void> {
  const fd = openSync(logFile, 'a')
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', fd, fd] })
    track(child)
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('exit', (exitCode) => {
      clearTimeout(timer)
      if (exitCode === 0) return resolve()
      const output = readFileSync(logFile, 'utf8')
      reject(new Error(`${command} ${args.join(' ')} exited with ${exitCode}\n${output}`.trim()))
    })
  }).finally(() => closeSync(fd))
}

/** A long-running child (the edge, the emulator), with the tail of what it printed. */
export interface Daemon {
  pid: number
  /** The last few KB of its stdout and stderr. */
  output(): string
  /** Its exit code (or signal name) once it has exited; undefined while it runs. */
  status(): number | string | undefined
  /** Sends SIGTERM, waits up to `graceMs`, then SIGKILLs; resolves once it has exited. */
  stop(graceMs: number): Promise<void>
}

export function startDaemon(
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string },
): Daemon {
  const child = spawn(command, args, { env: options.env, cwd: options.cwd })
  track(child)
  if (child.pid === undefined) throw new Error(`cannot start ${command}`)
  let tail = ''
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  // stdin stays open: the emulator child exits when it closes (the bench died).
  child.stdin.on('error', () => {})
  let status: number | string | undefined
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      status = code ?? signal ?? 'unknown'
      resolve()
    })
  })
  return {
    pid: child.pid,
    output: () => tail,
    status: () => status,
    async stop(graceMs) {
      if (status !== undefined) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
    },
  }
}

/**
 * The bench's own environment without any MAILBRIDGE_ or AWS_ variable, for a server under
 * test: it gets only the settings the bench gives it, whatever the caller's shell holds.
 */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('MAILBRIDGE_') && !name.startsWith('AWS_')) env[name] = value
  }
  return env
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      )
    })
  })
}

/** Polls `check` every `everyMs` until it returns a value, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const deadline = performance.now() + timeoutMs
  let lastError: unknown
  while (performance.now() < deadline) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      lastError = error
    }
    await sleep(everyMs)
  }
  const why = lastError ? `: ${(lastError as Error).message}` : ''
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`)
}
