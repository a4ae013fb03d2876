/**
 * Judging the UNIX socket and the LMTP listeners: where the socket lives against Postfix's
 * chroot, its mode and owner, whether Postfix's LMTP client may connect (by the permission
 * bits, as the kernel decides), and what a listener answered. Pure: facts in, verdicts out.
 */
import { dirname, join } from 'node:path'
import type { Account } from '../../accounts.ts'
import { isInside } from '../postfix/postconf.ts'
import {
  type CheckResult,
  DEFAULT_ENV_FILE,
  DEFAULT_SOCKET,
  fail,
  ok,
  RESTART_EDGE,
  START_EDGE,
} from './report.ts'

/** The part of a stat() the permission reasoning needs. */
export interface FileFacts {
  path: string
  mode: number
  uid: number
  gid: number
}

/** `0600`, as the mode is written in the config and by chmod. */
export function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`
}

/** `rw-------` for 0o600. */
export function symbolic(mode: number): string {
  const bits = 'rwxrwxrwx'
  return [...bits].map((char, i) => (mode & (0o400 >> i) ? char : '-')).join('')
}

/** Permission bits (rwx, 0..7) that apply to `account` on a file: owner, else group, else other. */
function permissionsFor(account: Account, file: FileFacts): number {
  // POSIX checks exactly one class: an owner is not helped by generous group/other bits.
  if (account.uid === file.uid) return (file.mode >> 6) & 7
  if (account.gid === file.gid) return (file.mode >> 3) & 7
  return file.mode & 7
}

export type AccessVerdict =
  | { allowed: true }
  | { allowed: false; blocked: FileFacts; need: 'search' | 'write' }

/**
 * Whether `account` may connect to a UNIX socket: connect(2) needs search (x) on every
 * directory of the path and write (w) on the socket itself. `dirs` runs from `/` down to the
 * socket's directory. Root passes every check (CAP_DAC_OVERRIDE).
 */
export function unixSocketAccess(
  account: Account,
  dirs: readonly FileFacts[],
  socket: FileFacts,
): AccessVerdict {
  if (account.uid === 0) return { allowed: true }
  for (const dir of dirs) {
    if ((permissionsFor(account, dir) & 1) === 0) {
      return { allowed: false, blocked: dir, need: 'search' }
    }
  }
  if ((permissionsFor(account, socket) & 2) === 0) {
    return { allowed: false, blocked: socket, need: 'write' }
  }
  return { allowed: true }
}

/** How to let `account` reach the socket, for a denied verdict. */
export function accessFix(
  account: Account,
  verdict: Extract<AccessVerdict, { allowed: false }>,
  socketPath: string,
  envFile = DEFAULT_ENV_FILE,
): string {
  const { blocked } = verdict
  if (verdict.need === 'search') {
    return [
      `${account.name} cannot enter ${blocked.path}: put the socket in Postfix's private directory,`,
      `MAILBRIDGE_LMTP_SOCKET=${DEFAULT_SOCKET} in ${envFile},`,
      `or let it in: chmod o+x ${blocked.path}`,
    ].join('\n')
  }
  if (blocked.uid === account.uid) {
    return `MAILBRIDGE_LMTP_SOCKET_MODE=0600 in ${envFile}, then ${RESTART_EDGE} (now: chmod 0600 ${socketPath})`
  }
  return [
    `MAILBRIDGE_LMTP_SOCKET_OWNER=${account.name} and MAILBRIDGE_LMTP_SOCKET_GROUP=${account.name}`,
    `in ${envFile}, then ${RESTART_EDGE} (now: chown ${account.name}:${account.name} ${socketPath})`,
  ].join('\n')
}

/** Why a denied account cannot connect; `names` are the owner and group of what blocks it. */
export function accessReason(
  account: Account,
  verdict: Extract<AccessVerdict, { allowed: false }>,
  names: { owner: string; group: string },
): string {
  const { blocked } = verdict
  const kind = verdict.need === 'search' ? 'd' : 's'
  return `${blocked.path} is ${kind}${symbolic(blocked.mode)} ${names.owner}:${names.group}: ${account.name} (uid ${account.uid}) may not ${verdict.need === 'search' ? 'enter it' : 'write to it'}`
}

/** The socket mode check: the file's mode against MAILBRIDGE_LMTP_SOCKET_MODE. */
export function socketModeCheck(actual: number, expected: number, envFile = DEFAULT_ENV_FILE) {
  const name = 'socket mode'
  const shown = `${octal(actual)} (s${symbolic(actual)})`
  if ((actual & 0o777) !== (expected & 0o777)) {
    return fail(
      name,
      `${shown}, but MAILBRIDGE_LMTP_SOCKET_MODE is ${octal(expected)}: the running edge has other settings`,
      `${RESTART_EDGE} (it applies the mode of ${envFile} when it creates the socket)`,
    )
  }
  const worldWritable = (actual & 0o002) !== 0
  return ok(
    name,
    `${shown} as configured${worldWritable ? '; any local user can deliver mail through it' : ''}`,
  )
}

export interface OwnerFacts {
  uid: number
  gid: number
  /** Names of uid and gid, or the numbers when they have none. */
  ownerName: string
  groupName: string
}

export interface OwnerExpectation {
  /** MAILBRIDGE_LMTP_SOCKET_OWNER / _GROUP as configured. */
  owner?: string
  group?: string
  /** Their ids, or undefined when no such user/group exists. */
  ownerUid?: number
  groupGid?: number
}

/** The socket owner check: owner and group against MAILBRIDGE_LMTP_SOCKET_OWNER / _GROUP. */
export function socketOwnerCheck(
  facts: OwnerFacts,
  expected: OwnerExpectation,
  envFile = DEFAULT_ENV_FILE,
): CheckResult {
  const name = 'socket owner'
  const shown = `${facts.ownerName}:${facts.groupName} (uid ${facts.uid}, gid ${facts.gid})`
  if (expected.owner !== undefined && expected.ownerUid === undefined) {
    return fail(
      name,
      `MAILBRIDGE_LMTP_SOCKET_OWNER is ${expected.owner}, and there is no such user`,
      `MAILBRIDGE_LMTP_SOCKET_OWNER=postfix in ${envFile} (the user Postfix's LMTP client runs as)`,
    )
  }
  if (expected.group !== undefined && expected.groupGid === undefined) {
    return fail(
      name,
      `MAILBRIDGE_LMTP_SOCKET_GROUP is ${expected.group}, and there is no such group`,
      `MAILBRIDGE_LMTP_SOCKET_GROUP=postfix in ${envFile}`,
    )
  }
  const wrongOwner = expected.ownerUid !== undefined && expected.ownerUid !== facts.uid
  const wrongGroup = expected.groupGid !== undefined && expected.groupGid !== facts.gid
  if (wrongOwner || wrongGroup) {
    const want = `${expected.owner ?? facts.ownerName}:${expected.group ?? facts.groupName}`
    return fail(
      name,
      `${shown}, but the config asks for ${want}`,
      `${RESTART_EDGE}; if it stays wrong, the edge lacks CAP_CHOWN (see deploy/mailbridge-edge.service)`,
    )
  }
  const how =
    expected.owner === undefined
      ? " (no MAILBRIDGE_LMTP_SOCKET_OWNER: the edge's own user)"
      : ' as configured'
  return ok(name, `${shown}${how}`)
}

/**
 * Where the socket lives, against where Postfix can see it. A chrooted LMTP client (Debian's
 * master.cf) sees only its queue directory, so a socket outside it cannot be reached at all.
 */
export function socketLocationCheck(facts: {
  path: string
  /** The socket's directory exists and is a directory. */
  dirExists: boolean
  /** Postfix's queue_directory, when Postfix is installed. */
  queueDirectory?: string
  /** Whether the LMTP client that delivers to us runs chrooted. */
  chrooted?: boolean
  envFile?: string
}): CheckResult {
  const name = 'socket path'
  const envFile = facts.envFile ?? DEFAULT_ENV_FILE
  const dir = dirname(facts.path)
  const suggested = facts.queueDirectory
    ? join(facts.queueDirectory, 'private/mailbridge-lmtp')
    : DEFAULT_SOCKET
  if (!facts.dirExists) {
    return fail(
      name,
      `${dir} does not exist`,
      facts.queueDirectory && isInside(facts.path, facts.queueDirectory)
        ? `is Postfix installed? (apt-get install postfix; it creates ${dir})`
        : `MAILBRIDGE_LMTP_SOCKET=${suggested} in ${envFile}, or mkdir -p ${dir}`,
    )
  }
  if (facts.queueDirectory === undefined) {
    return ok(name, `${facts.path} (Postfix's queue directory unknown: not compared with it)`)
  }
  if (isInside(facts.path, facts.queueDirectory)) {
    return ok(name, `${facts.path}, inside Postfix's queue directory ${facts.queueDirectory}`)
  }
  if (facts.chrooted === false) {
    return ok(
      name,
      `${facts.path}, outside ${facts.queueDirectory}: fine while Postfix's LMTP client is not chrooted`,
    )
  }
  return fail(
    name,
    `${facts.path} is outside ${facts.queueDirectory}, the chroot of Postfix's LMTP client, which cannot see it`,
    `MAILBRIDGE_LMTP_SOCKET=${suggested} in ${envFile}, and in main.cf lmtp:unix:private/mailbridge-lmtp`,
  )
}

/** Verdict on the first line a listener sent: an LMTP server greets with 220. */
export function greetingCheck(name: string, where: string, line: string): CheckResult {
  if (/^220[ -]/.test(line)) return ok(name, `${where} answered "${line}"`)
  return fail(
    name,
    `${where} answered "${line}" instead of a 220 greeting`,
    `something other than the edge listens there: stop it, then ${START_EDGE}`,
  )
}

/** Verdict when a listener could not be reached at all. */
export function unreachableCheck(name: string, where: string, code: string): CheckResult {
  if (code === 'ECONNREFUSED' || code === 'ENOENT') {
    return fail(
      name,
      `nothing listens at ${where} (${code}): the edge is not running`,
      `start it: ${START_EDGE} (then journalctl -u mailbridge-edge if it stops again)`,
    )
  }
  if (code === 'ETIMEDOUT' || code === 'timeout') {
    return fail(
      name,
      `${where} accepted no connection or sent no greeting in time`,
      `${RESTART_EDGE}, then journalctl -u mailbridge-edge`,
    )
  }
  return fail(
    name,
    `cannot connect to ${where}: ${code}`,
    `${START_EDGE}, then journalctl -u mailbridge-edge`,
  )
}
