/**
 * `mailbridge`: the edge's command line on the mail host (bin/mailbridge runs it).
 *
 *   mailbridge edge              run the LMTP edge (what the systemd unit starts)
 *   mailbridge doctor            check the setup; exit 0 when all is well, 1 otherwise
 *   mailbridge postfix-config    print the Postfix lines that deliver to the edge
 *
 * `doctor` and `postfix-config` read /etc/mailbridge/edge.env, the systemd unit's
 * EnvironmentFile, when it exists: an admin's shell does not have the service's settings.
 */
import { readFileSync, realpathSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { parseArgs, parseEnv } from 'node:util'
import { findCommand, run } from '../../shared/commands.ts'
import { type Config, loadConfig } from '../../shared/config.ts'
import { ConfigError } from '../../shared/errors.ts'
import { nodeTooOld } from '../../shared/node-version.ts'
import { DEFAULT_ENV_FILE, DEFAULT_SOCKET, doctorExitCode, formatReport } from './doctor/report.ts'
import { runDoctor } from './doctor/run.ts'
import { UsageError } from './errors.ts'
import { DEFAULT_QUEUE_DIRECTORY } from './postfix/postconf.ts'
import { postfixConfig } from './postfix/render-config.ts'

const USAGE = `usage: mailbridge <command> [options]

commands:
  edge                 run the LMTP edge (settings from the environment)
  doctor               check socket, listeners, Postfix, SQS, S3 and health; exit 1 on a failure
      --settings PATH  the edge's env file (default ${DEFAULT_ENV_FILE} when it exists)
      --no-settings    only the environment's settings
      --timeout SEC    time each check may take (default 10)
  postfix-config       print main.cf and master.cf lines for the edge (defaults from the config)
      --socket PATH    the edge's UNIX socket
      --tcp HOST:PORT  the edge's TCP listener
      --domains LIST   recipient domains, comma-separated
      --settings PATH, --no-settings   as for doctor
  help                 this text
`

// How long `postconf -h` may take when postfix-config asks for the queue directory (ms).
const POSTCONF_TIMEOUT_MS = 5_000
// The same shape of domain as MAILBRIDGE_DOMAINS accepts.
const DOMAIN = /^[a-z0-9-]+(\.[a-z0-9-]+)*$/

export interface Io {
  stdout: (text: string) => void
  stderr: (text: string) => void
  env: NodeJS.ProcessEnv
}

const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
}

// Not --env-file: Node 20 takes that one for itself even after the script's name.
const ENV_FILE_OPTIONS = {
  settings: { type: 'string' },
  'no-settings': { type: 'boolean' },
} as const

/**
 * The settings: the environment overlaid with the env file (as systemd gives the service
 * only what the file says, the file wins). Also puts them in `io.env`, where the AWS SDK
 * looks for credentials.
 */
function readSettings(
  values: { settings?: string; 'no-settings'?: boolean },
  io: Io,
): string | undefined {
  if (values['no-settings']) return undefined
  const path = values.settings ?? DEFAULT_ENV_FILE
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (values.settings !== undefined) {
      throw new UsageError(`cannot read ${path}: ${code ?? error}`)
    }
    // The default file: absent is fine; unreadable (not root) is said, not fatal.
    if (code !== 'ENOENT') {
      io.stderr(`mailbridge: cannot read ${path} (${code}): using the environment only\n`)
    }
    return undefined
  }
  Object.assign(io.env, parseEnv(text))
  return path
}

async function doctor(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { ...ENV_FILE_OPTIONS, timeout: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  })
  const seconds = values.timeout === undefined ? 10 : Number(values.timeout)
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new UsageError('--timeout takes a number of seconds')
  const envFile = readSettings(values, io)
  io.stdout(`mailbridge doctor (settings: environment${envFile ? ` + ${envFile}` : ''})\n\n`)
  const results = await runDoctor({
    env: io.env,
    envFile: envFile ?? values.settings ?? DEFAULT_ENV_FILE,
    timeoutMs: seconds * 1000,
  })
  io.stdout(formatReport(results))
  return doctorExitCode(results)
}

/** `HOST:PORT` or `[IPV6]:PORT`. */
function parseHostPort(text: string): { host: string; port: number } {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text)
  const port = Number(match?.[2])
  if (match?.[1] === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`--tcp takes HOST:PORT (e.g. 127.0.0.1:2424), got "${text}"`)
  }
  return { host: match[1], port }
}

/** Comma-separated domains, lower-cased and checked. */
function parseDomains(text: string): string[] {
  const domains = text
    .split(/[\s,]+/)
    .map((domain) => domain.trim().toLowerCase())
    .filter(Boolean)
  const bad = domains.find((domain) => !DOMAIN.test(domain))
  if (bad !== undefined) throw new UsageError(`--domains: "${bad}" is not a domain`)
  return domains
}

/** Postfix's queue_directory and mail_owner, or Debian's defaults without Postfix. */
async function postfixBasics(): Promise<{ queueDirectory: string; user: string }> {
  const defaults = { queueDirectory: DEFAULT_QUEUE_DIRECTORY, user: 'postfix' }
  const postconf = findCommand('postconf')
  if (!postconf) return defaults
  try {
    const result = await run(postconf, ['-h', 'queue_directory', 'mail_owner'], {
      timeoutMs: POSTCONF_TIMEOUT_MS,
    })
    const [queueDirectory, user] = result.stdout.trim().split('\n')
    if (result.exitCode !== 0 || !queueDirectory || !user) return defaults
    return { queueDirectory, user }
  } catch {
    return defaults
  }
}

async function printPostfixConfig(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...ENV_FILE_OPTIONS,
      socket: { type: 'string' },
      tcp: { type: 'string' },
      domains: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  })
  const socket = values.socket
  const tcp = values.tcp === undefined ? undefined : parseHostPort(values.tcp)
  if (socket !== undefined && !socket.startsWith('/')) {
    throw new UsageError(`--socket takes an absolute path, got "${socket}"`)
  }
  let config: Config | undefined
  const explicit = socket !== undefined || tcp !== undefined
  if (!explicit || values.domains === undefined) {
    readSettings(values, io)
    config = loadConfig(io.env)
  }
  const basics = await postfixBasics()
  const configuredTcp = config?.edge.tcp && config.edge.tcp.port !== 0 ? config.edge.tcp : undefined
  io.stdout(
    postfixConfig({
      socketPath: explicit ? socket : (config?.edge.socket?.path ?? DEFAULT_SOCKET),
      tcp: explicit ? tcp : configuredTcp,
      domains:
        values.domains === undefined ? (config?.edge.domains ?? []) : parseDomains(values.domains),
      queueDirectory: basics.queueDirectory,
      postfixUser: basics.user,
      maxRecipients: config?.edge.maxRecipients,
    }),
  )
  return 0
}

/**
 * Runs one command; resolves the exit code, or undefined for `edge`, which keeps running
 * until a signal stops it.
 */
export async function main(argv: string[], io: Io = processIo): Promise<number | undefined> {
  const [command, ...args] = argv
  const tooOld = nodeTooOld()
  if (tooOld !== undefined) {
    io.stderr(`mailbridge: ${tooOld}\n`)
    return 1
  }
  try {
    switch (command) {
      case 'edge':
        await import('../main.ts')
        return undefined
      case 'doctor':
        return await doctor(args, io)
      case 'postfix-config':
        return await printPostfixConfig(args, io)
      default:
        if (
          command !== undefined &&
          command !== 'help' &&
          command !== '--help' &&
          command !== '-h'
        ) {
          io.stderr(`mailbridge: unknown command "${command}"\n\n`)
        }
        io.stderr(USAGE)
        return 2
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`mailbridge: ${error.message}\n`)
      return 1
    }
    // parseArgs throws TypeErrors with a code for unknown or malformed options.
    const code = (error as { code?: string }).code
    if (error instanceof UsageError || code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`mailbridge: ${(error as Error).message}\n\n${USAGE}`)
      return 2
    }
    throw error
  }
}

// Run, not imported (the tests import main). import.meta.url has symlinks resolved.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  const code = await main(process.argv.slice(2))
  if (code !== undefined) process.exitCode = code
}
