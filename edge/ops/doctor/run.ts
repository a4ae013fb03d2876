/**
 * `mailbridge doctor`: checks the edge's setup on the mail host end to end (config, socket,
 * TCP listener, Postfix's routing, SQS, S3, health endpoint) and says for every failure what
 * to change. This runner does the I/O and asks the pure *-verdicts.ts files to
 * judge what it found; every check is bounded in time, so the doctor never hangs.
 */

import { findCommand, run } from '../../../shared/commands.ts'
import { type Config, loadConfig } from '../../../shared/config.ts'
import { ConfigError } from '../../../shared/errors.ts'
import {
  connectHost,
  type EdgeListeners,
  isChrooted,
  type LmtpRoute,
  lmtpRoutes,
  POSTCONF_PARAMETERS,
  type PostfixFacts,
  parseMasterCf,
  parsePostconf,
  parseTableDump,
  splitTableList,
  transportService,
} from '../postfix/postconf.ts'
import { routesCheck, s3Check, sqsCheck } from './aws.ts'
import { socketChecks } from './inspect-socket.ts'
import { postfixDomainsCheck, postfixRoutingCheck } from './postfix-verdicts.ts'
import { httpGet, readGreeting, withTimeout } from './probes.ts'
import {
  type CheckResult,
  configFailure,
  DEFAULT_ENV_FILE,
  fail,
  ok,
  START_EDGE,
  skip,
} from './report.ts'
import { healthCheck } from './service-verdicts.ts'
import { greetingCheck, unreachableCheck } from './socket-verdicts.ts'

// Time one check may take (ms); the AWS SDK retries within it.
const DEFAULT_TIMEOUT_MS = 10_000
// Extra time the outer guard of a check allows (ms), so that a check's own timeout, which
// comes with a better fix, is the one reported.
const GUARD_MARGIN_MS = 2_000
// When even the SDK's own abort did not end a call: credentials lookup or the network hangs.
const NETWORK_FIX =
  'check the network to S3/SQS (AWS_ENDPOINT_URL, proxy, DNS) and where the credentials come from'

export interface DoctorOptions {
  /** Where the settings come from (default process.env). */
  env?: NodeJS.ProcessEnv
  /** The file named in fixes (default /etc/mailbridge/edge.env). */
  envFile?: string
  /** Time one check may take (ms). */
  timeoutMs?: number
  /** Postfix to inspect: `false` skips it; `configDir` is passed as `postconf -c`. */
  postfix?: false | { configDir?: string; postconf?: string; postmap?: string }
  /** Fixed AWS credentials instead of the SDK's chain (tests against an emulator). */
  credentials?: { accessKeyId: string; secretAccessKey: string }
}

type PostfixState =
  | { kind: 'absent'; why: string }
  | { kind: 'broken'; message: string }
  | { kind: 'present'; facts: PostfixFacts }

/** Runs every check and returns the verdicts in report order. */
export async function runDoctor(options: DoctorOptions = {}): Promise<CheckResult[]> {
  const envFile = options.envFile ?? DEFAULT_ENV_FILE
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  let config: Config
  try {
    config = loadConfig(options.env ?? process.env)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    return [configFailure(error.message, envFile), skip('other checks', 'they need a valid config')]
  }
  if (options.credentials) config.aws.credentials = options.credentials

  const postfix = await withTimeout(
    readPostfix(options, timeoutMs),
    timeoutMs * 3,
    'postconf',
  ).catch((error: Error): PostfixState => ({ kind: 'broken', message: error.message }))
  const listeners: EdgeListeners = { socketPath: config.edge.socket?.path, tcp: config.edge.tcp }
  const routes = postfix.kind === 'present' ? lmtpRoutes(postfix.facts, listeners) : []
  const guard = timeoutMs + GUARD_MARGIN_MS

  const groups = await Promise.all([
    guarded('socket', guard * 2, () => socketGroup(config, postfix, routes, envFile, timeoutMs)),
    guarded('tcp listener', guard, () => tcpCheck(config, timeoutMs)),
    postfixChecks(postfix, routes, listeners, config, envFile),
    guarded('sqs', guard, () => sqsCheck(config, timeoutMs, envFile), NETWORK_FIX),
    guarded('s3', guard, () => s3Check(config, timeoutMs, envFile), NETWORK_FIX),
    guarded('routes', guard, () => routesCheck(config, timeoutMs, envFile), NETWORK_FIX),
    guarded('health endpoint', guard, () => httpCheck(config, timeoutMs)),
  ])
  return [ok('config', describeConfig(config)), ...groups.flat()]
}

function describeConfig(config: Config): string {
  const socket = config.edge.socket ? `socket ${config.edge.socket.path}` : 'no socket'
  const tcp = config.edge.tcp ? `TCP ${config.edge.tcp.host}:${config.edge.tcp.port}` : 'TCP off'
  const aws = config.aws.endpoint ? `endpoint ${config.aws.endpoint}` : `AWS ${config.aws.region}`
  return `${socket}, ${tcp}, queue ${config.ingestQueue}, bucket ${config.bucket}, ${aws}`
}

/** A check that cannot throw or hang: a timeout or unexpected error becomes its FAIL line. */
async function guarded(
  name: string,
  ms: number,
  fn: () => Promise<CheckResult | CheckResult[]>,
  fix = `${START_EDGE}, then journalctl -u mailbridge-edge`,
): Promise<CheckResult[]> {
  try {
    return [await withTimeout(fn(), ms, name)].flat()
  } catch (error) {
    return [fail(name, (error as Error).message, fix)]
  }
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? ''
}

/** postconf's output; rejects with what it complained of (or `failure`): Postfix is broken. */
async function postconfText(postconf: string, args: string[], timeoutMs: number, failure: string) {
  const result = await run(postconf, args, { timeoutMs })
  if (result.exitCode === 0) return result.stdout
  throw new Error(firstLine(result.stderr) || failure)
}

/** main.cf parameters, master.cf services and transport_maps entries, through Postfix's tools. */
async function readPostfix(options: DoctorOptions, timeoutMs: number): Promise<PostfixState> {
  if (options.postfix === false) return { kind: 'absent', why: 'not asked to look at Postfix' }
  const postconf = options.postfix?.postconf ?? findCommand('postconf')
  if (postconf === undefined) {
    return { kind: 'absent', why: 'Postfix not found (no postconf in PATH or /usr/sbin)' }
  }
  const configDir = options.postfix?.configDir
  const dirArgs = configDir ? ['-c', configDir] : []
  const asked = [...dirArgs, '-x', ...POSTCONF_PARAMETERS]
  const main = await postconfText(postconf, asked, timeoutMs, 'postconf failed')
  const master = await postconfText(postconf, [...dirArgs, '-M'], timeoutMs, 'postconf -M failed')
  const params = parsePostconf(main)
  const postmap = options.postfix?.postmap ?? findCommand('postmap')
  const tables: PostfixFacts['tables'] = []
  for (const table of splitTableList(params.transport_maps ?? '')) {
    if (postmap === undefined) {
      tables.push({ table, error: 'no postmap' })
      continue
    }
    // Postfix reads proxy:hash:/x through proxymap; postmap reads hash:/x itself.
    const args = [...dirArgs, '-s', table.replace(/^proxy:/, '')]
    const dumped = await run(postmap, args, { timeoutMs })
    tables.push(
      dumped.exitCode === 0
        ? { table, entries: parseTableDump(dumped.stdout) }
        : { table, error: firstLine(dumped.stderr) || `postmap -s exited ${dumped.exitCode}` },
    )
  }
  return { kind: 'present', facts: { params, services: parseMasterCf(master), tables } }
}

function postfixChecks(
  postfix: PostfixState,
  routes: LmtpRoute[],
  listeners: EdgeListeners,
  config: Config,
  envFile: string,
): CheckResult[] {
  if (postfix.kind === 'absent') return [skip('postfix routing', postfix.why)]
  if (postfix.kind === 'broken') {
    const noMainCf = /main\.cf: No such file/.test(postfix.message)
    return [
      fail(
        'postfix routing',
        `postconf failed: ${postfix.message}`,
        noMainCf
          ? 'Postfix has no main.cf yet: dpkg-reconfigure postfix (or cp /usr/share/postfix/main.cf.debian /etc/postfix/main.cf), then mailbridge postfix-config'
          : 'postfix check shows what is wrong in the Postfix configuration',
      ),
    ]
  }
  return [
    postfixRoutingCheck(postfix.facts, routes, listeners, config.edge.domains),
    postfixDomainsCheck(postfix.facts, routes, config.edge.domains, envFile),
  ]
}

async function socketGroup(
  config: Config,
  postfix: PostfixState,
  routes: LmtpRoute[],
  envFile: string,
  timeoutMs: number,
): Promise<CheckResult[]> {
  const socket = config.edge.socket
  if (!socket) return [skip('socket', 'MAILBRIDGE_LMTP_SOCKET is not set')]
  const facts = postfix.kind === 'present' ? postfix.facts : undefined
  // The LMTP client that delivers to the edge decides the chroot; else the stock lmtp.
  const service =
    routes.find((route) => route.toEdge && route.service)?.service ??
    (facts && transportService(facts, 'lmtp'))
  return socketChecks({
    socket,
    queueDirectory: facts?.params.queue_directory,
    chrooted: service ? isChrooted(service) : undefined,
    mailOwner: facts?.params.mail_owner || 'postfix',
    envFile,
    timeoutMs,
  })
}

async function tcpCheck(config: Config, timeoutMs: number): Promise<CheckResult> {
  const name = 'tcp listener'
  const tcp = config.edge.tcp
  if (!tcp) return skip(name, 'MAILBRIDGE_LMTP_PORT is off')
  if (tcp.port === 0) return skip(name, 'port 0 is picked at start: nothing to check')
  const host = connectHost(tcp.host)
  const where = `${host}:${tcp.port}`
  const greeting = await readGreeting({ host, port: tcp.port }, timeoutMs)
  return 'line' in greeting
    ? greetingCheck(name, where, greeting.line)
    : unreachableCheck(name, where, greeting.code)
}

async function httpCheck(config: Config, timeoutMs: number): Promise<CheckResult> {
  const http = config.edge.http
  if (!http) return skip('health endpoint', 'MAILBRIDGE_EDGE_HTTP_PORT is off')
  if (http.port === 0) return skip('health endpoint', 'port 0 is picked at start: nothing to check')
  const host = connectHost(http.host)
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${http.port}/healthz`
  return healthCheck(url, await httpGet(url, timeoutMs))
}
