/**
 * Which system programs a test needs, and what to say when one is missing. Outside CI a
 * missing package skips the test with a plain message; in CI it fails the test, so a run
 * can never count a skipped end-to-end test as a pass.
 */
import type { TestContext } from 'node:test'
import { findCommand } from '../../shared/commands.ts'

export { findCommand, type RunResult, run, runOk } from '../../shared/commands.ts'

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

/** True in CI, where a missing package fails a test instead of skipping it. */
export function inCi(): boolean {
  const value = process.env.CI
  return value !== undefined && value !== '' && value !== '0' && value !== 'false'
}

/**
 * A message naming the missing programs and how to install them, e.g.
 * "postfix is not installed (apt-get install postfix): smtp-source not found", or
 * undefined when all are present.
 */
function missing(names: string[]): string | undefined {
  const absent = names.filter((name) => findCommand(name) === undefined)
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
