/**
 * Users and groups by name or id through NSS (`getent`), so LDAP or systemd users count
 * too: the socket's owner at start, and the user Postfix's LMTP client runs as in doctor.
 */
import { run } from '../shared/commands.ts'

/** A user as Postfix's LMTP client runs: its uid and only its primary gid. */
export interface Account {
  name: string
  uid: number
  gid: number
}

/** One `getent` entry as name, id and (for passwd) primary gid; undefined when there is none. */
async function getent(
  database: 'passwd' | 'group',
  nameOrId: string,
  timeoutMs: number,
): Promise<{ name: string; id: number; gid: number } | undefined> {
  const result = await run('getent', [database, nameOrId], { timeoutMs })
  if (result.exitCode !== 0) return undefined
  // passwd: name:x:uid:gid:gecos:home:shell; group: name:x:gid:members
  const [name, , id, gid] = result.stdout.trim().split(':')
  if (!name || id === undefined || !/^\d+$/.test(id)) return undefined
  return { name, id: Number(id), gid: gid !== undefined && /^\d+$/.test(gid) ? Number(gid) : -1 }
}

/** A user by name or uid; undefined when there is none. */
export async function lookupUser(
  nameOrId: string,
  timeoutMs: number,
): Promise<Account | undefined> {
  const entry = await getent('passwd', nameOrId, timeoutMs)
  return entry && { name: entry.name, uid: entry.id, gid: entry.gid }
}

/** A group by name or gid; undefined when there is none. */
export async function lookupGroup(
  nameOrId: string,
  timeoutMs: number,
): Promise<{ name: string; gid: number } | undefined> {
  const entry = await getent('group', nameOrId, timeoutMs)
  return entry && { name: entry.name, gid: entry.id }
}
