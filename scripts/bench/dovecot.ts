/**
 * A throwaway Dovecot LMTP server, the reference: its own config, run and state dirs and
 * log under a temp dir, maildir storage as the `vmail` user, static userdb/passdb (every
 * local part is a user), and an inet listener on a loopback port. Everything else is
 * Dovecot's default, fsync included (`mail_fsync = optimized`), as it ships.
 */
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { greets, type Target } from './lmtp-client.ts'
import { privileged, VMAIL_USER, vmailUid } from './peers.ts'
import { isAlive, processTree } from './proc.ts'
import { findCommand, freePort, onCleanup, runDaemonizing, runOk, waitFor } from './processes.ts'

const START_TIMEOUT_MS = 30_000
// Dovecot's master stops its children within a second or two (ms).
const STOP_TIMEOUT_MS = 15_000
const GREETING_TIMEOUT_MS = 5_000
// How often the list of Dovecot's processes is rescanned from /proc (ms). Its LMTP workers
// live on between sessions (service_count = 0), and a scan costs the bench CPU.
const TREE_REFRESH_MS = 1_000

export interface DovecotInstance {
  target: Target
  masterPid: number
  /** The master and every process under it (log, config, auth, anvil, lmtp workers…). */
  pids(): number[]
  /** Messages stored so far: files in every maildir's new/ directory. */
  stored(): Promise<number>
  /** Kills the master (SIGTERM), waits for it to exit, removes the temp dir. */
  stop(): Promise<void>
}

function configText(dir: string, port: number, uid: number): string {
  return `# mailbridge bench: a throwaway Dovecot that speaks LMTP only
protocols = lmtp
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = mailbridge-bench-${port}
log_path = ${dir}/dovecot.log
ssl = no
mail_location = maildir:${dir}/mail/%d/%n/Maildir
mail_uid = ${VMAIL_USER}
mail_gid = ${VMAIL_USER}
# vmail is a system user, below Dovecot's default first_valid_uid (500).
first_valid_uid = ${uid}
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = static
  args = uid=${VMAIL_USER} gid=${VMAIL_USER} home=${dir}/mail/%d/%n
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${port}
  }
}
`
}

/**
 * Files in <mail>/<domain>/<user>/Maildir/new for every domain and user. With `find` run
 * as root: the maildirs belong to vmail, mode 0700.
 */
async function countNew(mailDir: string): Promise<number> {
  const { stdout } = await runOk(
    ...privileged('find', [mailDir, '-path', '*/Maildir/new/*', '-type', 'f', '-printf', '.']),
  )
  return stdout.length
}

export async function startDovecot(): Promise<DovecotInstance> {
  const dovecot = findCommand('dovecot')
  if (!dovecot) throw new Error('dovecot is not installed')
  const target = { host: '127.0.0.1', port: await freePort() }
  const uid = await vmailUid()
  const dir = await mkdtemp(join(tmpdir(), 'mailbridge-bench-dovecot-'))
  const mailDir = join(dir, 'mail')
  const configFile = join(dir, 'dovecot.conf')
  let masterPid: number | undefined

  const stop = async () => {
    if (masterPid !== undefined && isAlive(masterPid)) {
      await runOk(...privileged('kill', ['-TERM', String(masterPid)]))
      const pid = masterPid
      await waitFor('Dovecot to stop', async () => !isAlive(pid) || undefined, STOP_TIMEOUT_MS)
    }
    await runOk(...privileged('rm', ['-rf', dir]))
  }
  const forget = onCleanup('dovecot', stop)

  try {
    // mkdtemp makes a 0700 dir: vmail must traverse it to reach its mail (else 451 4.2.0).
    await chmod(dir, 0o755)
    await runOk(...privileged('install', ['-d', '-o', VMAIL_USER, '-g', VMAIL_USER, mailDir]))
    await writeFile(configFile, configText(dir, target.port, uid))
    await runDaemonizing(...privileged(dovecot, ['-c', configFile]), join(dir, 'start.log'))
    masterPid = await waitFor(
      'Dovecot master.pid',
      async () => {
        const text = await readFile(join(dir, 'run', 'master.pid'), 'utf8').catch(() => '')
        return /^\d+/.test(text) ? Number.parseInt(text, 10) : undefined
      },
      START_TIMEOUT_MS,
    )
    await waitFor(
      `Dovecot to greet on ${target.host}:${target.port}`,
      () => greets(target, GREETING_TIMEOUT_MS),
      START_TIMEOUT_MS,
    )
  } catch (error) {
    const log = await readFile(join(dir, 'dovecot.log'), 'utf8').catch(() => '')
    await stop().catch(() => {})
    forget()
    throw new Error(`Dovecot did not start: ${(error as Error).message}\n${log}`)
  }
  const pid = masterPid
  let tree = { at: performance.now(), pids: processTree(pid) }
  return {
    target,
    masterPid: pid,
    pids() {
      if (performance.now() - tree.at >= TREE_REFRESH_MS) {
        tree = { at: performance.now(), pids: processTree(pid) }
      }
      return tree.pids
    },
    stored: () => countNew(mailDir),
    async stop() {
      await stop()
      forget()
    },
  }
}
