/**
 * The operations tooling as an admin uses it, against a real Postfix: the lines printed by
 * `mailbridge postfix-config` are applied as they are, `mailbridge edge` runs through
 * bin/mailbridge with the printed edge settings, Postfix delivers through the dedicated
 * chrooted transport, and `mailbridge doctor` passes, then fails once the edge is stopped.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { type EdgeProcess, startEdgeProcess } from '../helpers/edge-process.ts'
import { type Emulator, startEmulator } from '../helpers/emulator.ts'
import { freePort, type Postfix, startPostfix } from '../helpers/postfix.ts'
import { drainQueue } from '../helpers/queue.ts'
import { needCommands, needRoot, type RunResult, run, runOk } from '../helpers/system.ts'

const BIN = fileURLToPath(new URL('../../bin/mailbridge', import.meta.url))
const POSTCONF = '/usr/sbin/postconf'
const DOMAIN = 'cli.mailbridge.test'

let emulator: Emulator
const cleanups: (() => Promise<unknown>)[] = []

before(async () => {
  emulator = await startEmulator({ MAILBRIDGE_DOMAINS: DOMAIN })
})

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
  await emulator.stop()
})

/** What bin/mailbridge sees: the cloud side, the test Postfix's config, and `extra`. */
function baseEnv(postfix: Postfix, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    MAIL_CONFIG: postfix.configDir,
    AWS_EC2_METADATA_DISABLED: 'true',
    ...emulator.env(),
    ...extra,
  }
}

function mailbridge(args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return run(BIN, args, { env, timeoutMs: 60_000 })
}

/** The printed text cut into its three files: edge.env, main.cf and master.cf lines. */
function parsePrinted(text: string) {
  const block = (header: string) => {
    const found = text.split(/\n\n/).find((b) => b.startsWith(header))
    assert.ok(found, `no ${header} in:\n${text}`)
    return found.split('\n').filter((line) => line && !line.startsWith('#'))
  }
  const pairs = (lines: string[], separator: RegExp) =>
    Object.fromEntries(lines.map((line) => line.split(separator, 2) as [string, string]))
  return {
    edgeEnv: pairs(block('# /etc/mailbridge/edge.env'), /=/),
    mainCf: pairs(block('# /etc/postfix/main.cf'), / = /),
    masterCf: block('# /etc/postfix/master.cf').join(' '),
  }
}

/** Applies the printed lines to the running test Postfix, as an admin would edit its files. */
async function apply(postfix: Postfix, printed: ReturnType<typeof parsePrinted>): Promise<void> {
  const service = printed.masterCf.split(/\s+/, 2).join('/')
  await runOk(POSTCONF, ['-c', postfix.configDir, '-M', '-e', `${service}=${printed.masterCf}`])
  await postfix.configure(printed.mainCf)
}

/** `mailbridge edge` through the bin/ wrapper, stopped by the test's cleanups. */
async function startCliEdge(env: NodeJS.ProcessEnv): Promise<EdgeProcess> {
  const edge = await startEdgeProcess(env, { argv: [BIN, 'edge'], cleanEnv: true })
  cleanups.push(() => edge.stop())
  return edge
}

function message(subject: string): string {
  return `From: alice@example.net\nTo: bob@${DOMAIN}\nSubject: ${subject}\n\nHello through the printed lines.\n`
}

const domainRe = DOMAIN.replaceAll('.', '\\.')

test('UNIX socket: printed lines applied, `mailbridge edge` delivers, doctor passes then fails', async (t) => {
  if (!needCommands(t, ['postfix', 'sendmail', 'postqueue'])) return
  if (!needRoot(t)) return
  // Prepare: a Postfix whose queue directory holds private/, as on a real mail host.
  const postfix = await startPostfix({
    domain: DOMAIN,
    lmtp: { socketPath: 'private/mailbridge-lmtp' },
  })
  cleanups.push(() => postfix.stop())
  const socketPath = join(postfix.queueDir, 'private', 'mailbridge-lmtp')
  const httpPort = await freePort()

  const printedRun = await mailbridge(
    ['postfix-config', '--socket', socketPath, '--domains', DOMAIN],
    baseEnv(postfix),
  )
  assert.equal(printedRun.exitCode, 0, printedRun.stderr)
  const printed = parsePrinted(printedRun.stdout)
  // postfix-config asked this Postfix (MAIL_CONFIG) for its queue directory.
  assert.equal(printed.mainCf.virtual_transport, 'mailbridge:unix:private/mailbridge-lmtp')
  await apply(postfix, printed)
  const env = baseEnv(postfix, { ...printed.edgeEnv, MAILBRIDGE_EDGE_HTTP_PORT: String(httpPort) })
  const edge = await startCliEdge(env)

  // Act
  await postfix.submit('alice@example.net', [`bob@${DOMAIN}`, `carol@${DOMAIN}`], message('socket'))

  // Assess: delivered by our transport (its own log name), both recipients queued once.
  const sent = await postfix.waitForLog(
    new RegExp(
      `postfix/mailbridge/lmtp\\[\\d+\\]: .*to=<carol@${domainRe}>.*status=sent \\(250 2\\.0\\.0 `,
    ),
  )
  assert.match(sent, /relay=.*\[private\/mailbridge-lmtp\]/)
  const queued = await drainQueue(emulator.sqs, emulator.ingestQueueUrl)
  assert.equal(queued.length, 1)
  assert.deepEqual(queued[0]?.envelope.rcptTo, [`bob@${DOMAIN}`, `carol@${DOMAIN}`])

  const healthy = await mailbridge(['doctor', '--no-settings'], env)
  assert.equal(healthy.exitCode, 0, healthy.stdout + healthy.stderr)
  for (const line of [
    /^ok +socket path +.*inside Postfix's queue directory/m,
    /^ok +socket mode +0600 \(srw-------\) as configured$/m,
    /^ok +socket owner +postfix:postfix .* as configured$/m,
    /^ok +postfix access +.* as postfix answered "220 /m,
    /^ok +postfix routing +virtual_transport = mailbridge:unix:private\/mailbridge-lmtp \(master\.cf mailbridge unix lmtp, chroot y\)$/m,
    new RegExp(`^ok +postfix domains +Postfix sends ${domainRe}; the edge accepts them$`, 'm'),
    /^ok +sqs /m,
    /^ok +s3 /m,
    /^ok +health endpoint +.* answered 200$/m,
  ]) {
    assert.match(healthy.stdout, line)
  }

  // The edge stops cleanly on SIGTERM, as systemd stops it; the doctor notices.
  assert.equal(await edge.stop(), 0, edge.output())
  const stopped = await mailbridge(['doctor', '--no-settings', '--timeout', '5'], env)
  assert.equal(stopped.exitCode, 1, stopped.stdout)
  assert.match(stopped.stdout, /the edge is not running/)
  assert.match(stopped.stdout, /^FAIL +health endpoint +nothing answers at .*: edge not running$/m)
  assert.match(stopped.stdout, /fix: start it: systemctl start mailbridge-edge/)
})

test('TCP: printed lines applied, delivery works without DNS, doctor passes', async (t) => {
  if (!needCommands(t, ['postfix', 'sendmail', 'postqueue'])) return
  if (!needRoot(t)) return
  const port = await freePort()
  const postfix = await startPostfix({ domain: DOMAIN, lmtp: { host: '127.0.0.1', port } })
  cleanups.push(() => postfix.stop())

  const printedRun = await mailbridge(
    ['postfix-config', '--tcp', `127.0.0.1:${port}`, '--domains', DOMAIN],
    baseEnv(postfix),
  )
  assert.equal(printedRun.exitCode, 0, printedRun.stderr)
  const printed = parsePrinted(printedRun.stdout)
  assert.equal(printed.mainCf.virtual_transport, `mailbridge:inet:127.0.0.1:${port}`)
  // Postfix's LMTP default: hostnames go to DNS, which this machine does not have; the
  // printed numeric address must not need it.
  await apply(postfix, { ...printed, mainCf: { ...printed.mainCf, lmtp_host_lookup: 'dns' } })
  const env = baseEnv(postfix, { ...printed.edgeEnv, MAILBRIDGE_EDGE_HTTP_PORT: 'off' })
  const edge = await startCliEdge(env)

  await postfix.submit('alice@example.net', [`bob@${DOMAIN}`], message('tcp'))
  const sent = await postfix.waitForLog(/status=sent \(250 2\.0\.0 /)
  assert.match(
    sent,
    new RegExp(
      `postfix/mailbridge/lmtp\\[\\d+\\]: .*to=<bob@${domainRe}>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${port}`,
    ),
  )
  assert.equal((await drainQueue(emulator.sqs, emulator.ingestQueueUrl)).length, 1)

  const healthy = await mailbridge(['doctor', '--no-settings'], env)
  assert.equal(healthy.exitCode, 0, healthy.stdout + healthy.stderr)
  assert.match(
    healthy.stdout,
    new RegExp(`^ok +tcp listener +127\\.0\\.0\\.1:${port} answered "220 `, 'm'),
  )
  assert.match(
    healthy.stdout,
    new RegExp(
      `^ok +postfix routing +virtual_transport = mailbridge:inet:127\\.0\\.0\\.1:${port} `,
      'm',
    ),
  )
  assert.match(healthy.stdout, /^skip +health endpoint +MAILBRIDGE_EDGE_HTTP_PORT is off$/m)
  assert.equal(await edge.stop(), 0, edge.output())
})
