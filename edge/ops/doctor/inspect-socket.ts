/**
 * The doctor's UNIX socket checks: where it is against Postfix's chroot, that it is a socket,
 * its mode and owner, and whether the user Postfix's LMTP client runs as can connect. As
 * root that is tried for real, as that user; otherwise the permission bits decide. This file
 * gathers the facts (stat, owner lookups, a connection); socket-verdicts.ts judges them.
 */
import { dirname } from 'node:path'
import type { SocketListenerConfig } from '../../../shared/config.ts'
import { lookupGroup, lookupUser } from '../../accounts.ts'
import {
  directoryChain,
  errorCode,
  fileFacts,
  type PathFacts,
  readGreeting,
  readGreetingAs,
} from './probes.ts'
import { type CheckResult, fail, ok, START_EDGE, skip } from './report.ts'
import {
  accessFix,
  accessReason,
  greetingCheck,
  socketLocationCheck,
  socketModeCheck,
  socketOwnerCheck,
  unixSocketAccess,
  unreachableCheck,
} from './socket-verdicts.ts'

export interface SocketCheckOptions {
  socket: SocketListenerConfig
  /** Postfix's queue_directory, when Postfix is installed. */
  queueDirectory?: string
  /** Whether the LMTP client that delivers to the edge runs chrooted, when known. */
  chrooted?: boolean
  /** The user Postfix's LMTP client runs as (mail_owner). */
  mailOwner: string
  envFile: string
  timeoutMs: number
}

const RUN_AS_ROOT = 'run doctor as root'

/** Every socket check, in report order; stops at the first one the others depend on. */
export async function socketChecks(options: SocketCheckOptions): Promise<CheckResult[]> {
  const { socket, envFile, timeoutMs } = options
  const dir = dirname(socket.path)
  // Every directory down to the socket's: whether it exists, and later who may enter them.
  let dirs: PathFacts[] = []
  try {
    dirs = await directoryChain(socket.path)
  } catch (error) {
    if (errorCode(error) === 'EACCES') {
      return [skip('socket', `cannot look into ${dir} as this user: ${RUN_AS_ROOT}`)]
    }
  }
  const dirExists = dirs.at(-1)?.isDirectory === true
  const results = [
    socketLocationCheck({
      path: socket.path,
      dirExists,
      queueDirectory: options.queueDirectory,
      chrooted: options.chrooted,
      envFile,
    }),
  ]
  if (!dirExists) return results

  let file: PathFacts
  try {
    file = await fileFacts(socket.path)
  } catch (error) {
    const code = errorCode(error)
    results.push(
      code === 'ENOENT'
        ? fail(
            'socket file',
            `${socket.path} does not exist: the edge is not running`,
            `start it: ${START_EDGE}`,
          )
        : code === 'EACCES'
          ? skip('socket file', `cannot look into ${dir} as this user: ${RUN_AS_ROOT}`)
          : fail('socket file', `cannot stat ${socket.path}: ${code}`, RUN_AS_ROOT),
    )
    return results
  }
  if (!file.isSocket) {
    results.push(
      fail(
        'socket file',
        `${socket.path} is not a socket`,
        `move it away (rm ${socket.path}), then ${START_EDGE}`,
      ),
    )
    return results
  }
  results.push(ok('socket file', `${socket.path} is a socket`))
  results.push(socketModeCheck(file.mode, socket.mode, envFile))

  const [names, wantOwner, wantGroup] = await Promise.all([
    namesOf(file, timeoutMs),
    socket.owner === undefined ? undefined : lookupUser(socket.owner, timeoutMs),
    socket.group === undefined ? undefined : lookupGroup(socket.group, timeoutMs),
  ])
  results.push(
    socketOwnerCheck(
      { uid: file.uid, gid: file.gid, ownerName: names.owner, groupName: names.group },
      {
        owner: socket.owner,
        group: socket.group,
        ownerUid: wantOwner?.uid,
        groupGid: wantGroup?.gid,
      },
      envFile,
    ),
  )
  results.push(await postfixAccessCheck(options, dirs, file, names))
  return results
}

/** The owner and group names of a file, as `ls -l` shows them: the ids when they have none. */
async function namesOf(
  file: { uid: number; gid: number },
  timeoutMs: number,
): Promise<{ owner: string; group: string }> {
  const [owner, group] = await Promise.all([
    lookupUser(String(file.uid), timeoutMs),
    lookupGroup(String(file.gid), timeoutMs),
  ])
  return { owner: owner?.name ?? String(file.uid), group: group?.name ?? String(file.gid) }
}

/** Whether the user Postfix's LMTP client runs as can connect and gets the 220 greeting. */
async function postfixAccessCheck(
  options: SocketCheckOptions,
  dirs: PathFacts[],
  file: PathFacts,
  names: { owner: string; group: string },
): Promise<CheckResult> {
  const name = 'postfix access'
  const { envFile, timeoutMs, mailOwner } = options
  const account = await lookupUser(mailOwner, timeoutMs)
  if (!account)
    return skip(name, `no user ${mailOwner} (Postfix's mail_owner) here: is Postfix installed?`)
  const verdict = unixSocketAccess(account, dirs, file)
  let denied: CheckResult | undefined
  if (!verdict.allowed) {
    // The names of what blocks: the socket's are known, a directory's are looked up.
    const { blocked } = verdict
    const blockedNames = blocked.path === file.path ? names : await namesOf(blocked, timeoutMs)
    denied = fail(
      name,
      accessReason(account, verdict, blockedNames),
      accessFix(account, verdict, file.path, envFile),
    )
  }
  const where = `${file.path} as ${account.name}`
  const uid = process.getuid?.()

  if (uid !== 0 && uid !== account.uid) {
    return (
      denied ??
      ok(
        name,
        `${account.name} may connect by the permission bits (as root, doctor connects as ${account.name})`,
      )
    )
  }
  const probe =
    uid === account.uid
      ? await readGreeting({ path: file.path }, timeoutMs)
      : await readGreetingAs(account, file.path, timeoutMs)
  if ('line' in probe) return greetingCheck(name, where, probe.line)
  if (probe.code === 'EACCES') {
    // The bits allowed it, yet the kernel said no: an ACL, SELinux or AppArmor.
    return (
      denied ??
      fail(name, `${where}: permission denied`, `check ACLs and MAC policy: getfacl ${file.path}`)
    )
  }
  return unreachableCheck(name, where, probe.code)
}
