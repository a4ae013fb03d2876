/**
 * The bench's system peers: Dovecot's LMTP server and Postfix's smtp-source, installed with
 * apt-get when missing (as root, or through sudo), and the `vmail` user Dovecot stores as.
 */
import { existsSync } from 'node:fs'
import { lookupUser } from '../../edge/accounts.ts'
import { findCommand, runOk } from './processes.ts'

// apt-get on a slow mirror (ms); only the first run on a machine pays it.
const APT_TIMEOUT_MS = 15 * 60_000
// Answers Postfix's install dialog: we only need its programs, not a running MTA.
const POSTFIX_PRESEED = 'postfix postfix/main_mailer_type select No configuration\n'
// Where Debian's dovecot-core and dovecot-lmtpd put the master and the LMTP service.
const DOVECOT_BINARY = '/usr/sbin/dovecot'
const DOVECOT_LMTP = '/usr/lib/dovecot/lmtp'
// getent answers from local files at once; a slow NSS backend gets this long (ms).
const LOOKUP_TIMEOUT_MS = 10_000

export const VMAIL_USER = 'vmail'

/**
 * Root runs a system command itself; anyone else goes through sudo, which drops the
 * caller's environment, so apt-get's DEBIAN_FRONTEND is passed through `env`.
 */
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
  if ((await lookupUser(VMAIL_USER, LOOKUP_TIMEOUT_MS)) !== undefined) return
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

/** The vmail user's uid; throws when there is no such user. */
export async function vmailUid(): Promise<number> {
  const user = await lookupUser(VMAIL_USER, LOOKUP_TIMEOUT_MS)
  if (!user) throw new Error(`no user ${VMAIL_USER}`)
  return user.uid
}
