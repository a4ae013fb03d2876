/**
 * The UNIX socket Postfix connects to, set up as Dovecot's `unix_listener` is: a stale
 * file from a process that died is removed, a live one is left alone, and the new socket
 * gets the configured mode, owner and group (classically 0600 postfix:postfix).
 */
import { chmod, chown, lstat, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import type { SocketListenerConfig } from '../shared/config.ts'
import { lookupGroup, lookupUser } from './accounts.ts'
import { SocketPathError } from './errors.ts'

// How long a connect() to an existing socket file may take before it counts as dead (ms).
const PROBE_TIMEOUT_MS = 1000

/**
 * What a connect() to `path` says: `dead` only when it was refused (nobody listens), which
 * is the one case where removing the file is safe; `live` when it was accepted; otherwise
 * the reason (permission denied, a full backlog, no answer) we cannot tell.
 */
function probe(path: string): Promise<'dead' | 'live' | string> {
  return new Promise((resolve) => {
    const socket = connect(path)
    const done = (state: string) => {
      socket.destroy()
      resolve(state)
    }
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(`no answer within ${PROBE_TIMEOUT_MS} ms`))
    socket.once('connect', () => done('live'))
    socket.once('error', (error: NodeJS.ErrnoException) => {
      done(error.code === 'ECONNREFUSED' || error.code === 'ENOENT' ? 'dead' : error.message)
    })
  })
}

/**
 * Makes way for a new socket at `path`. Removes a socket file nobody listens on (what a
 * killed edge leaves behind); refuses to touch anything else, so that a typo in the path
 * cannot delete a file, and a second edge cannot steal a running one's socket.
 */
export async function clearStaleSocket(path: string): Promise<void> {
  let stats: Awaited<ReturnType<typeof lstat>>
  try {
    stats = await lstat(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw new SocketPathError(`cannot look at ${path}: ${(error as Error).message}`, {
      cause: error,
    })
  }
  if (!stats.isSocket()) {
    throw new SocketPathError(
      `${path} exists and is not a socket; move it away or pick another path`,
    )
  }
  const state = await probe(path)
  if (state === 'live') {
    throw new SocketPathError(`${path} is in use: another process (an edge?) listens on it`)
  }
  if (state !== 'dead') {
    throw new SocketPathError(
      `${path} exists and may be in use (${state}); remove it by hand if no edge runs`,
    )
  }
  await rm(path, { force: true }).catch((error: Error) => {
    throw new SocketPathError(`cannot remove the stale socket ${path}: ${error.message}`, {
      cause: error,
    })
  })
}

// How long one user or group look-up may take (ms): NSS may ask LDAP.
const LOOKUP_TIMEOUT_MS = 10_000

/** A user or group id from a name or number, as `ls -l` would resolve it. */
export async function resolveId(kind: 'user' | 'group', nameOrId: string): Promise<number> {
  if (/^\d+$/.test(nameOrId)) return Number(nameOrId)
  const id =
    kind === 'user'
      ? (await lookupUser(nameOrId, LOOKUP_TIMEOUT_MS))?.uid
      : (await lookupGroup(nameOrId, LOOKUP_TIMEOUT_MS))?.gid
  if (id === undefined) throw new SocketPathError(`no ${kind} named "${nameOrId}"`)
  return id
}

/** Gives the freshly bound socket its mode, then its owner and group. */
export async function applySocketPermissions(socket: SocketListenerConfig): Promise<void> {
  await chmod(socket.path, socket.mode)
  if (socket.owner === undefined && socket.group === undefined) return
  // -1 leaves that id as it is.
  const uid = socket.owner === undefined ? -1 : await resolveId('user', socket.owner)
  const gid = socket.group === undefined ? -1 : await resolveId('group', socket.group)
  try {
    await chown(socket.path, uid, gid)
  } catch (error) {
    throw new SocketPathError(
      `cannot give ${socket.path} owner ${socket.owner ?? '(same)'} group ${socket.group ?? '(same)'}: ` +
        `${(error as Error).message}; run the edge as root or with CAP_CHOWN (see deploy/)`,
      { cause: error },
    )
  }
}
