/**
 * Which system programs a test needs, and what to say when one is missing. Outside CI a
 * missing package skips the test with a plain message; in CI it fails the test, so a run
 * can never count a skipped end-to-end test as a pass.
 */
import { spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import type { TestContext } from 'node:test'

// sbin directories are often missing from a non-login PATH, and Postfix's tools live there.
const EXTRA_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin']

// The Debian package that brings each program, for the message.
const PACKAGE_OF: Record<string, string> = {
  postfix: 'postfix',
  postqueue: 'postfix',
  sendmail: 'postfix',
  'smtp-source': 'postfix',
  swaks: 'swaks',
  python3: 'python3',
  'systemd-analyze': 'systemd',
}

/** The absolute path of an executable named `name`, searched in PATH then the sbin dirs. */
export function findCommand(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...EXTRA_DIRS]
  for (const dir of dirs) {
    if (!dir) continue
    const path = join(dir, name)
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {
      // not here
    }
  }
  return undefined
}

/** True in CI, where a missing package fails a test instead of skipping it. */
export function inCi(): boolean {
  const value = process.env.CI
  return value !== undefined && value !== '' && value !== '0' && value !== 'false'
}

/** True when `name` is an executable in PATH, /usr/sbin or /usr/bin. */
export function hasCommand(name: string): boolean {
  return findCommand(name) !== undefined
}

/**
 * A message naming the missing programs and how to install them, e.g.
 * "postfix is not installed (apt-get install postfix): smtp-source not found", or
 * undefined when all are present.
 */
export function missing(names: string[]): string | undefined {
  const absent = names.filter((name) => !hasCommand(name))
  if (absent.length === 0) return undefined
  const packages = [...new Set(absent.map((name) => PACKAGE_OF[name] ?? name))]
  return `${packages.join(', ')} ${packages.length === 1 ? 'is' : 'are'} not installed (apt-get install ${packages.join(' ')}): ${absent.join(', ')} not found in PATH, /usr/sbin or /usr/bin`
}

/**
 * True when every program is present. Otherwise: in CI (`CI` set) throws, failing the test;
 * elsewhere skips the test with the message and returns false, so the caller returns.
 */
export function needCommands(t: TestContext, names: string[]): boolean {
  const message = missing(names)
  if (message === undefined) return true
  if (inCi()) throw new Error(`${message} (required in CI)`)
  t.skip(message)
  return false
}

/**
 * True when running as root, which a private Postfix and a socket owned by `postfix`
 * need. Otherwise as needCommands: fails in CI, skips with a plain message elsewhere.
 */
export function needRoot(t: TestContext): boolean {
  if (process.getuid?.() === 0) return true
  const message = 'needs root: a private Postfix instance and chown to postfix require it'
  if (inCi()) throw new Error(`${message} (required in CI)`)
  t.skip(message)
  return false
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
}

// A hung helper program should fail its test, not hang the whole run (ms).
const DEFAULT_RUN_TIMEOUT_MS = 30_000

/**
 * Runs a program to completion and returns its exit code and output; never rejects for a
 * non-zero exit (callers decide), only when the program cannot be started.
 */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    const timer = setTimeout(
      () => child.kill('SIGKILL'),
      options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS,
    )
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
    // A program that exits without reading all its input must not crash the test (EPIPE).
    child.stdin.on('error', () => {})
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
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

/** Like run(), but rejects with the program's output when it exits non-zero. */
export async function runOk(
  command: string,
  args: string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const result = await run(command, args, options)
  if (result.exitCode !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} exited with ${result.exitCode}\n${result.stderr}${result.stdout}`,
    )
  }
  return result
}
