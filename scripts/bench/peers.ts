/**
 * The bench's system peers: Dovecot's LMTP server and Postfix's smtp-source, installed with
 * apt-get when missing (as root, or through sudo), and the `vmail` user Dovecot stores as.
 */
import { existsSync } from 'node:fs'
import { findCommand, runOk } from './processes.ts'

// apt-get on a slow mirror (ms); only the first run on a machine pays it.
const APT_TIMEOUT_MS = 15 * 60_000
// Answers Postfix's install dialog: we only need its programs, not a running MTA.
const POSTFIX_PRESEED = 'postfix postfix/main_mailer_type select No configuration\n'
// Where Debian's dovecot-core and dovecot-lmtpd put the master and the LMTP service.
const DOVECOT_BINARY = '/usr/sbin/dovecot'
const DOVECOT_LMTP = '/usr/lib/dovecot/lmtp'

export const VMAIL_USER = 'vmail'

/** Root runs a system command itself; anyone else goes through sudo. */
export function privileged(command: string, args: string[]): [string, string[]] {
  if (process.getuid?.() === 0) return [command, args]
  return ['sudo', ['env', 'DEBIAN_FRONTEND=noninteractive', command, ...args]]
}

function missingPackages(): string[] {
  const packages: string[] = []
  if (!existsSync(DOVECOT_BINARY)) packages.push('dovecot-core')
  if (!existsSync(DOVECOT_LMTP)) packages.push('dovecot-lmtpd')
  if (!findCommand('smtp-source')) packages.push('postfix')
  return packages
}

/** Installs dovecot-core, dovecot-lmtpd and postfix where missing; throws if still missing. */
export async function ensurePeers(log: (line: string) => void): Promise<void> {
  const packages = missingPackages()
  if (packages.length > 0) {
    log(`installing ${packages.join(' ')} with apt-get`)
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    const options = { env, timeoutMs: APT_TIMEOUT_MS }
    await runOk(...privileged('apt-get', ['update']), options)
    if (packages.includes('postfix')) {
      await runOk(...privileged('debconf-set-selections', []), {
        ...options,
        input: POSTFIX_PRESEED,
      })
    }
    await runOk(
      ...privileged('apt-get', ['install', '-y', '--no-install-recommends', ...packages]),
      options,
    )
    const still = missingPackages()
    if (still.length > 0) throw new Error(`still missing after apt-get: ${still.join(' ')}`)
  }
  await ensureVmailUser(log)
}

async function ensureVmailUser(log: (line: string) => void): Promise<void> {
  try {
    await runOk('id', ['-u', VMAIL_USER])
    return
  } catch {
    // no such user yet
  }
  log(`creating system user ${VMAIL_USER}`)
  await runOk(
    ...privileged('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      VMAIL_USER,
    ]),
  )
}

/** The uid and gid of the vmail user. */
export async function vmailIds(): Promise<{ uid: number; gid: number }> {
  const uid = Number((await runOk('id', ['-u', VMAIL_USER])).stdout.trim())
  const gid = Number((await runOk('id', ['-g', VMAIL_USER])).stdout.trim())
  return { uid, gid }
}
