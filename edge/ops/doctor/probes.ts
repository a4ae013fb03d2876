/**
 * The I/O of `mailbridge doctor`, each step bounded in time so the doctor never hangs:
 * running Postfix's tools, looking up users, reading an LMTP greeting (also as another
 * user, the way Postfix's LMTP client would connect), stat()ing a path, GET /healthz.
 */
import { stat } from 'node:fs/promises'
import { createConnection } from 'node:net'
import { dirname } from 'node:path'
import { findCommand, type RunOptions, type RunResult, run } from '../../../shared/commands.ts'
import type { Account } from '../../accounts.ts'
import { ProbeTimeoutError } from '../errors.ts'
import type { FileFacts } from './socket-verdicts.ts'

/** What a listener said first, or why it said nothing: ECONNREFUSED, EACCES, timeout… */
export type Greeting = { line: string } | { code: string }

/** The system code of a failed call (ENOENT, EACCES…), else its message. */
export function errorCode(error: unknown): string {
  const err = error as { code?: unknown; message?: string }
  return typeof err.code === 'string' ? err.code : (err.message ?? String(error))
}

/** Rejects with ProbeTimeoutError when `promise` has not settled after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProbeTimeoutError(what, ms)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** What the socket checks need of a path's stat(). */
export type PathFacts = FileFacts & { isSocket: boolean; isDirectory: boolean }

/** Mode, owner and group of a path, as the permission reasoning needs them. */
export async function fileFacts(path: string): Promise<PathFacts> {
  const st = await stat(path)
  return {
    path,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    isSocket: st.isSocket(),
    isDirectory: st.isDirectory(),
  }
}

/** Every directory from `/` down to the one holding `path`. */
export async function directoryChain(path: string): Promise<PathFacts[]> {
  const dirs: string[] = []
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    dirs.unshift(dir)
    if (dir === dirname(dir)) break
  }
  return Promise.all(dirs.map((dir) => fileFacts(dir)))
}

/**
 * Connects, reads the first line the server sends (the 220 greeting), says QUIT and hangs
 * up. Never rejects: a connection error or the timeout comes back as its code.
 */
export function readGreeting(
  target: { path: string } | { host: string; port: number },
  timeoutMs: number,
): Promise<Greeting> {
  return new Promise((resolve) => {
    const socket =
      'path' in target ? createConnection(target.path) : createConnection(target.port, target.host)
    let buffer = ''
    let settled = false
    const done = (outcome: Greeting) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.removeAllListeners('data')
      if ('line' in outcome) socket.end('QUIT\r\n')
      else socket.destroy()
      resolve(outcome)
    }
    const timer = setTimeout(() => done({ code: 'timeout' }), timeoutMs)
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      buffer += chunk
      const end = buffer.indexOf('\n')
      if (end >= 0) done({ line: buffer.slice(0, end).replace(/\r$/, '') })
    })
    socket.on('error', (error) => done({ code: errorCode(error) }))
    socket.on('close', () => done({ code: 'connection closed before a greeting' }))
  })
}

// Run by a child process as another user: connect, print {"line"} or {"code"} as JSON.
const GREETING_AS_USER_SCRIPT = `
const net = require('node:net')
const [path, ms] = process.argv.slice(1)
const out = (o) => { process.stdout.write(JSON.stringify(o)); process.exit(0) }
setTimeout(() => out({ code: 'timeout' }), Number(ms))
const s = net.createConnection(path)
let b = ''
s.setEncoding('utf8')
s.on('data', (d) => { b += d; const i = b.indexOf('\\n'); if (i >= 0) { s.end('QUIT\\r\\n'); out({ line: b.slice(0, i).replace(/\\r$/, '') }) } })
s.on('error', (e) => out({ code: e.code || e.message }))
s.on('close', () => out({ code: 'closed before a greeting' }))
`

/**
 * Reads the greeting on a UNIX socket as `account`, the way Postfix's LMTP client connects:
 * a child process with that uid and only its primary gid (libuv drops supplementary groups
 * when it sets the uid, and Postfix's set_ugid() keeps just the primary group too). Needs
 * root. Resolves `{ line }` or `{ code }` (EACCES, ECONNREFUSED, timeout…).
 */
export async function readGreetingAs(
  account: Account,
  path: string,
  timeoutMs: number,
): Promise<Greeting> {
  const probe = await runAs(account, ['-e', GREETING_AS_USER_SCRIPT, path, String(timeoutMs)], {
    uid: account.uid,
    gid: account.gid,
    cwd: '/',
    // No NODE_OPTIONS (a --import of ours) in a process that cannot read our files.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    timeoutMs: timeoutMs + 2000,
  })
  try {
    return JSON.parse(probe.stdout) as Greeting
  } catch {
    const said = (probe.stderr.trim().split('\n')[0] ?? '') || probe.stdout.slice(0, 200)
    throw new Error(`the probe as ${account.name} exited ${probe.exitCode}: ${said}`)
  }
}

// Where the machine's own Node is, not npm's: PATH inside npm scripts puts npm's first.
const MACHINE_PATH = '/usr/local/bin:/usr/bin:/bin'

/**
 * Runs the probe with a Node that `account` may execute: this one, or else the machine's
 * (the probe is plain JavaScript that any Node runs). This one lives inside the checkout
 * (npm's node@22), which another user cannot reach when it sits in a private home.
 */
async function runAs(account: Account, args: string[], options: RunOptions): Promise<RunResult> {
  const machines = findCommand('node', MACHINE_PATH)
  const nodes = [...new Set([process.execPath, machines])].filter(
    (node): node is string => node !== undefined,
  )
  let refused: unknown
  for (const node of nodes) {
    try {
      return await run(node, args, options)
    } catch (error) {
      const code = (error as { code?: string }).code
      if (code !== 'EACCES' && code !== 'ENOENT') throw error
      refused = error
    }
  }
  throw new Error(`${account.name} may run none of ${nodes.join(', ')}`, { cause: refused })
}

/** GET a URL: its status and body, or the connection error's code. */
export async function httpGet(
  url: string,
  timeoutMs: number,
): Promise<{ status: number; body: string } | { error: string }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
    return { status: response.status, body: await response.text() }
  } catch (error) {
    // fetch() fails with a TypeError whose cause holds the connection's error code.
    const err = error as { name?: string; cause?: unknown }
    if (err.name === 'TimeoutError') return { error: `no answer within ${timeoutMs / 1000} s` }
    return { error: errorCode(err.cause ?? error) }
  }
}
