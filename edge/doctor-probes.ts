/**
 * The I/O of `mailbridge doctor`, each step bounded in time so the doctor never hangs:
 * running Postfix's tools, looking up users, reading an LMTP greeting (also as another
 * user, the way Postfix's LMTP client would connect), stat()ing a path, GET /healthz.
 */
import { execFile } from 'node:child_process'
import { stat } from 'node:fs/promises'
import { createConnection, type Socket } from 'node:net'
import { dirname } from 'node:path'
import { ProbeTimeoutError } from './doctor-errors.ts'
import type { Account, FileFacts } from './doctor-socket-checks.ts'

/** Rejects with ProbeTimeoutError when `promise` has not settled after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProbeTimeoutError(what, ms)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Mode, owner and group of a path, as the permission reasoning needs them. */
export async function fileFacts(
  path: string,
): Promise<FileFacts & { isSocket: boolean; isDirectory: boolean }> {
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
export async function directoryChain(path: string): Promise<FileFacts[]> {
  const dirs: string[] = []
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    dirs.unshift(dir)
    if (dir === dirname(dir)) break
  }
  return Promise.all(dirs.map((dir) => fileFacts(dir)))
}

export type ListenerTarget = { path: string } | { host: string; port: number }

/**
 * Connects, reads the first line the server sends (the 220 greeting), says QUIT and hangs
 * up. Rejects with the connection error (its `code`: ECONNREFUSED, EACCES…) or on timeout.
 */
export function readGreeting(target: ListenerTarget, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: Socket =
      'path' in target ? createConnection(target.path) : createConnection(target.port, target.host)
    let buffer = ''
    let settled = false
    const done = (error: Error | undefined, line?: string) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.removeAllListeners('data')
      if (error) {
        socket.destroy()
        reject(error)
      } else {
        socket.end('QUIT\r\n')
        resolve(line ?? '')
      }
    }
    const timer = setTimeout(() => done(new ProbeTimeoutError('greeting', timeoutMs)), timeoutMs)
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      buffer += chunk
      const end = buffer.indexOf('\n')
      if (end >= 0) done(undefined, buffer.slice(0, end).replace(/\r$/, ''))
    })
    socket.on('error', (error) => done(error))
    socket.on('close', () => done(new Error('connection closed before a greeting')))
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
): Promise<{ line: string } | { code: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', GREETING_AS_USER_SCRIPT, path, String(timeoutMs)],
      {
        uid: account.uid,
        gid: account.gid,
        cwd: '/',
        // No NODE_OPTIONS (a --import of ours) in a process that cannot read our files.
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        timeout: timeoutMs + 2000,
        killSignal: 'SIGKILL',
      },
      (error, stdout) => {
        try {
          resolve(JSON.parse(stdout) as { line: string } | { code: string })
        } catch {
          reject(error ?? new Error(`unexpected output from the probe: ${stdout.slice(0, 200)}`))
        }
      },
    )
  })
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
    const err = error as {
      name?: string
      message?: string
      cause?: { code?: string; message?: string }
    }
    if (err.name === 'TimeoutError') return { error: `no answer within ${timeoutMs / 1000} s` }
    return { error: err.cause?.code ?? err.cause?.message ?? err.message ?? String(error) }
  }
}
