/**
 * Running system programs (Postfix's tools, smtp-source, swaks…): finding them where a
 * non-login PATH does not look, and running one to completion with a time limit. Used by
 * `mailbridge doctor`, the tests and the benchmark.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

// sbin directories are often missing from a non-root PATH, and Postfix's tools live there.
const SBIN_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin']
// A hung program fails its caller instead of hanging it (ms).
const DEFAULT_RUN_TIMEOUT_MS = 30_000

/** The absolute path of an executable named `name`, searched in `path` then the sbin dirs. */
export function findCommand(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of [...path.split(delimiter), ...SBIN_DIRS]) {
    if (!dir) continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not in this directory
    }
  }
  return undefined
}

export interface RunResult {
  /** The exit code, or null when the process was killed by a signal (e.g. on timeout). */
  exitCode: number | null
  stdout: string
  stderr: string
}

export interface RunOptions {
  /** Written to the process's standard input, which is then closed. */
  input?: string | Buffer
  /** Kill the process (SIGKILL) after this many ms. */
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
  /** Working directory; this process's by default. */
  cwd?: string
  /** Run as this user and group (needs root); this process's by default. */
  uid?: number
  gid?: number
  /** Called with the child once spawned, e.g. to kill it on Ctrl-C. */
  onSpawn?: (child: ChildProcess) => void
}

/**
 * Runs a program to completion and returns its exit code and output; never rejects for a
 * non-zero exit (callers decide), only when the program cannot be started.
 */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      uid: options.uid,
      gid: options.gid,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    options.onSpawn?.(child)
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    const timer = setTimeout(
      () => child.kill('SIGKILL'),
      options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS,
    )
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
    // A program that exits without reading all its input must not crash us (EPIPE).
    child.stdin.on('error', () => {})
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (exitCode) => {
      clearTimeout(timer)
      resolve({
        exitCode,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      })
    })
    child.stdin.end(options.input)
  })
}

/** Like run(), but rejects with the program's output when it does not exit 0. */
export async function runOk(
  command: string,
  args: string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const result = await run(command, args, options)
  if (result.exitCode !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} exited with ${result.exitCode}\n${result.stderr}${result.stdout}`.trim(),
    )
  }
  return result
}
