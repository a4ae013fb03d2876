/**
 * A real Postfix for end-to-end tests: its own config, queue and data directories in a
 * temp dir, started as root with `postfix -c DIR start`, delivering every recipient in one
 * virtual domain over LMTP (TCP or a UNIX socket) to the server under test.
 *
 * Choices:
 * - master.cf is written from scratch with chroot OFF for every service. Debian's default
 *   chroots lmtp (and smtpd, cleanup…) into the queue directory, where a `lmtp:unix:` path
 *   is resolved relative to the queue dir and /etc files are missing. Unchrooted, the socket
 *   path is the plain absolute path. The lmtp client runs as the `postfix` user, so the
 *   socket must be writable by it (mode 0666) and its directories searchable (0755).
 * - No smtpd unless `smtpPort` is given, and then only on 127.0.0.1:smtpPort: nothing binds 25.
 * - Mail for any other domain (e.g. a bounce to an outside sender) goes to the `error`
 *   transport, so nothing ever leaves the machine and double bounces are discarded.
 * - Short queue timers (queue_run_delay 2s, backoff 2s..4s): a deferred message is tried
 *   again within seconds instead of Postfix's default 5 minutes.
 * - Instances are independent (own queue dir, master.pid, data dir, postlog socket), so
 *   several can run one after another or side by side in one process.
 */
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { chmod, cp, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LmtpTarget } from './lmtp-clients.ts'
import { run, runOk } from './system.ts'

// Where Debian keeps the programs and the stock configuration we start from.
const POSTFIX = '/usr/sbin/postfix'
const SENDMAIL = '/usr/sbin/sendmail'
const POSTQUEUE = '/usr/sbin/postqueue'
const POSTCONF = '/usr/sbin/postconf'
const STOCK_CONFIG_DIR = '/etc/postfix'
// How often waitForLog re-reads the maillog (ms).
const LOG_POLL_MS = 100
// Default wait for a maillog line (ms): a first LMTP delivery takes well under a second.
const DEFAULT_LOG_TIMEOUT_MS = 20_000
// How far config files are backdated (ms); see backdate().
const BACKDATE_MS = 60_000
// Lines of maillog quoted in a timeout or startup error.
const LOG_TAIL_LINES = 40

// Every service unchrooted (5th column `n`); see the file comment. `postlog` is what writes
// maillog_file; pickup wakes every second rather than 60 so a lost trigger costs little.
const MASTER_CF = `# service type  private unpriv  chroot  wakeup  maxproc command + args
pickup    unix  n       -       n       1       1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`

export interface PostfixOptions {
  /** The one domain delivered over LMTP (virtual_mailbox_domains). */
  domain: string
  /** Where the LMTP server under test listens. */
  lmtp: LmtpTarget
  /** Also accept SMTP on 127.0.0.1:smtpPort; without it no smtpd runs at all. */
  smtpPort?: number
  /** Extra or overriding main.cf parameters, e.g. `{ lmtp_data_done_timeout: '10s' }`. */
  mainCf?: Record<string, string>
  /**
   * Run the lmtp client chrooted into the queue directory, as Debian's stock master.cf
   * does, so that `lmtp:unix:private/NAME` is exactly the production setup.
   */
  chrootLmtp?: boolean
}

export interface Postfix {
  /** The temp dir holding everything: conf/, queue/, data/, maillog. */
  dir: string
  /** The config directory, for `postfix -c` / `postconf -c` / `sendmail -C`. */
  configDir: string
  queueDir: string
  maillogPath: string
  /** The SMTP port when smtpd was asked for. */
  smtpPort: number | undefined
  /** Submits a message with Postfix's sendmail (`-i`: a lone "." line is not the end). */
  submit(from: string, to: string[], message: Buffer | string): Promise<void>
  /** The whole maillog so far ('' before the first line). */
  maillog(): Promise<string>
  /**
   * Polls the maillog until `count` lines match `re` and returns the last of them; rejects
   * with the log tail on timeout. Match a queue ID or `to=<…>` when several messages flow.
   */
  waitForLog(re: RegExp, timeoutMs?: number, count?: number): Promise<string>
  /** Asks Postfix to try every deferred message now (`postqueue -f`). */
  flush(): Promise<void>
  /** The queue listing (`postqueue -p`): "Mail queue is empty" when nothing waits. */
  queue(): Promise<string>
  /** Changes main.cf parameters (`postconf -e`) and reloads. */
  configure(params: Record<string, string>): Promise<void>
  /** Stops Postfix and removes the temp dir. Safe to call more than once. */
  stop(): Promise<void>
}

// Instances still running, stopped synchronously if the process exits without stop().
const running = new Set<string>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const dir of running) {
      spawnSync(POSTFIX, ['-c', join(dir, 'conf'), 'abort'], { stdio: 'ignore' })
      rmSync(dir, { recursive: true, force: true })
    }
  })
}

/** A loopback TCP port free right now, for `smtpPort` (Postfix cannot be told port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port)
        else reject(new Error('no port'))
      })
    })
  })
}

/** The `virtual_transport` value for an LMTP target (IPv6 hosts go in brackets). */
export function lmtpNexthop(target: LmtpTarget): string {
  if ('socketPath' in target) return `lmtp:unix:${target.socketPath}`
  const host = target.host.includes(':') ? `[${target.host}]` : target.host
  return `lmtp:inet:${host}:${target.port}`
}

function mainCf(dir: string, opts: PostfixOptions): string {
  const ipv6 = 'host' in opts.lmtp && opts.lmtp.host.includes(':')
  const params: Record<string, string> = {
    compatibility_level: '3.6',
    queue_directory: join(dir, 'queue'),
    data_directory: join(dir, 'data'),
    myhostname: 'mx.mailbridge-test.localhost',
    inet_interfaces: 'loopback-only',
    inet_protocols: ipv6 ? 'all' : 'ipv4',
    mynetworks: '127.0.0.0/8 [::1]/128',
    mydestination: '',
    relay_domains: '',
    local_recipient_maps: '',
    alias_maps: '',
    alias_database: '',
    virtual_mailbox_domains: opts.domain,
    virtual_transport: lmtpNexthop(opts.lmtp),
    // No virtual_mailbox_maps: the server under test decides which recipients exist.
    smtpd_reject_unlisted_recipient: 'no',
    // Everything else fails at once instead of trying DNS and the internet.
    default_transport: 'error:mailbridge test Postfix delivers only to its test domain',
    relay_transport: 'error:mailbridge test Postfix delivers only to its test domain',
    // "localhost" resolves through /etc/hosts; the LMTP default would ask DNS.
    lmtp_host_lookup: 'native',
    smtputf8_enable: 'no',
    biff: 'no',
    maillog_file: join(dir, 'maillog'),
    maillog_file_prefixes: `${dir}/`,
    // Seconds, not Postfix's minutes: a deferred message is retried while the test waits.
    queue_run_delay: '2s',
    minimal_backoff_time: '2s',
    maximal_backoff_time: '4s',
    // Don't slow submission down when a test sends a burst.
    in_flow_delay: '0',
    ...opts.mainCf,
  }
  return `${Object.entries(params)
    .map(([name, value]) => `${name} = ${value}`)
    .join('\n')}\n`
}

function masterCf(opts: PostfixOptions): string {
  const master = opts.chrootLmtp ? MASTER_CF.replace(/^(lmtp +unix +- +- +)n/m, '$1y') : MASTER_CF
  if (opts.smtpPort === undefined) return master
  return `${master}127.0.0.1:${opts.smtpPort} inet n - n - - smtpd\n`
}

/**
 * Postfix programs refuse to read a main.cf modified within the last second or two (they
 * poll until it is older, in case it is half written), which costs ~2 s per command right
 * after writing it. A past mtime avoids that.
 */
async function backdate(configDir: string): Promise<void> {
  const past = new Date(Date.now() - BACKDATE_MS)
  for (const file of ['main.cf', 'master.cf']) {
    await utimes(join(configDir, file), past, past)
  }
}

function tail(log: string): string {
  return log.trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n')
}

/** Starts a private Postfix instance; stop() it when done. Needs root. */
export async function startPostfix(opts: PostfixOptions): Promise<Postfix> {
  if (process.getuid?.() !== 0) {
    throw new Error('startPostfix needs root: Postfix runs its master as root from its own config')
  }
  const dir = await mkdtemp(join(tmpdir(), 'mailbridge-postfix-'))
  // The postfix user must reach data/ and queue/ below it (mkdtemp makes 0700).
  await chmod(dir, 0o755)
  const configDir = join(dir, 'conf')
  const queueDir = join(dir, 'queue')
  const maillogPath = join(dir, 'maillog')
  // The environment must not point Postfix's tools at another config.
  const env = { ...process.env }
  delete env.MAIL_CONFIG

  const maillog = async (): Promise<string> => {
    try {
      return await readFile(maillogPath, 'utf8')
    } catch {
      return ''
    }
  }

  // dynamicmaps.cf, postfix-files, postfix-script… come from the stock config;
  // makedefs.out is a symlink out of the dir that `postfix check` warns about.
  await cp(STOCK_CONFIG_DIR, configDir, {
    recursive: true,
    filter: (src) => !src.endsWith('/makedefs.out'),
  })
  await writeFile(join(configDir, 'main.cf'), mainCf(dir, opts))
  await writeFile(join(configDir, 'master.cf'), masterCf(opts))
  await backdate(configDir)
  // set-permissions chdirs into the queue dir before creating what is below it.
  await mkdir(queueDir, { mode: 0o755 })

  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // `postfix stop` waits (up to 5 s) for the master to let go of its lock.
      await run(POSTFIX, ['-c', configDir, 'stop'], { env })
      running.delete(dir)
      await rm(dir, { recursive: true, force: true, maxRetries: 3 })
    })()
    return stopping
  }

  try {
    // Creates queue/ and data/ with Postfix's owners and modes (maildrop, public: postdrop).
    await runOk(POSTFIX, ['-c', configDir, 'set-permissions'], { env })
    installExitHook()
    running.add(dir)
    await runOk(POSTFIX, ['-c', configDir, 'start'], { env })
  } catch (err) {
    const log = await maillog()
    await stop()
    throw new Error(`Postfix did not start: ${(err as Error).message}\nmaillog:\n${tail(log)}`)
  }

  return {
    dir,
    configDir,
    queueDir,
    maillogPath,
    smtpPort: opts.smtpPort,
    async submit(from, to, message) {
      await runOk(SENDMAIL, ['-C', configDir, '-i', '-f', from, '--', ...to], {
        input: message,
        env,
      })
    },
    maillog,
    async waitForLog(re, timeoutMs = DEFAULT_LOG_TIMEOUT_MS, count = 1) {
      // Test line by line without the caller's g/y flags, which would keep state.
      const lineRe = new RegExp(re.source, re.flags.replace(/[gy]/g, ''))
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const log = await maillog()
        const matches = log.split('\n').filter((line) => lineRe.test(line))
        const found = matches[count - 1]
        if (found !== undefined) return found
        if (Date.now() > deadline) {
          throw new Error(
            `no ${count > 1 ? `${count} maillog lines` : 'maillog line'} matched ${re} within ${timeoutMs} ms (${matches.length} did); maillog tail:\n${tail(log)}`,
          )
        }
        await new Promise((resolve) => setTimeout(resolve, LOG_POLL_MS))
      }
    },
    async flush() {
      await runOk(POSTQUEUE, ['-c', configDir, '-f'], { env })
    },
    async queue() {
      return (await runOk(POSTQUEUE, ['-c', configDir, '-p'], { env })).stdout
    },
    async configure(params) {
      const settings = Object.entries(params).map(([name, value]) => `${name}=${value}`)
      await runOk(POSTCONF, ['-c', configDir, '-e', ...settings], { env })
      await backdate(configDir)
      await runOk(POSTFIX, ['-c', configDir, 'reload'], { env })
    },
    stop,
  }
}
