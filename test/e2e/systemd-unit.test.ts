/**
 * deploy/mailbridge-edge.service: systemd accepts every line of it, and the rights it gives
 * are the ones the edge needs. Without a running systemd, the second part starts the edge
 * the way the unit would, with setpriv: an unprivileged user, only the unit's ambient and
 * bounding capabilities, no new privileges. That edge must create its socket in Postfix's
 * private directory (postfix, 0700), hand it to postfix, and take mail from a real Postfix.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { DRAIN_TIMEOUT_MS } from '../../edge/start-edge.ts'
import { type EdgeProcess, startEdgeProcess } from '../helpers/edge-process.ts'
import { type Emulator, startEmulator } from '../helpers/emulator.ts'
import { type Postfix, startPostfix } from '../helpers/postfix.ts'
import { needRunAs, type ReadableCopy, readableCopy } from '../helpers/readable-copy.ts'
import { findCommand, needCommands, needRoot, run } from '../helpers/system.ts'

const REPO = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '')
const UNIT = join(REPO, 'deploy/mailbridge-edge.service')
const DOMAIN = 'unit.mailbridge.test'
// The edge's own cap on a drain, in seconds: systemd must not SIGKILL it before.
const EDGE_DRAIN_CAP_S = DRAIN_TIMEOUT_MS / 1000
// Who the edge runs as here: any unprivileged user shows the same; `mailbridge` is the
// admin's to create.
const UNPRIVILEGED = { user: 'nobody', group: 'nogroup' }

let dir: string
let emulator: Emulator
let postfix: Postfix | undefined
let edge: EdgeProcess | undefined
let copy: ReadableCopy | undefined

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailbridge-unit-'))
  emulator = await startEmulator({ MAILBRIDGE_DOMAINS: DOMAIN })
})

after(async () => {
  await edge?.stop('SIGKILL')
  await postfix?.stop()
  await emulator.stop()
  await copy?.remove()
  await rm(dir, { recursive: true, force: true })
})

/** The [Service] section as key → values (a key may repeat). */
async function serviceSection(): Promise<Map<string, string[]>> {
  const text = await readFile(UNIT, 'utf8')
  const section = text.split(/^\[/m).find((part) => part.startsWith('Service]')) ?? ''
  const keys = new Map<string, string[]>()
  for (const line of section.split('\n').slice(1)) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim())
    if (!match?.[1]) continue
    keys.set(match[1], [...(keys.get(match[1]) ?? []), match[2] ?? ''])
  }
  return keys
}

function one(keys: Map<string, string[]>, key: string): string {
  const values = keys.get(key)
  assert.equal(values?.length, 1, `${key}= once in the unit`)
  return values?.[0] ?? ''
}

test('systemd accepts every line of the unit; it stops the edge no sooner than its own drain cap', async (t) => {
  if (!needCommands(t, ['systemd-analyze'])) return
  const analyze = findCommand('systemd-analyze') ?? 'systemd-analyze'
  // The unit as installed under /opt/mailbridge, pointed at this checkout instead.
  const copy = join(dir, 'mailbridge-edge.service')
  const text = (await readFile(UNIT, 'utf8')).replaceAll('/opt/mailbridge', REPO)
  await writeFile(copy, text)
  const result = await run(analyze, ['verify', copy])
  const ours = result.stderr.split('\n').filter((line) => line.includes('mailbridge-edge'))
  assert.equal(result.exitCode, 0, result.stderr)
  assert.deepEqual(
    ours,
    [],
    'no warning about the unit (an unknown or misspelt key is only a warning)',
  )

  const keys = await serviceSection()
  assert.equal(one(keys, 'KillSignal'), 'SIGTERM')
  assert.equal(one(keys, 'Restart'), 'on-failure')
  assert.match(one(keys, 'RestartSec'), /^\d+s$/)
  const stop = /^(\d+)s$/.exec(one(keys, 'TimeoutStopSec'))
  assert.ok(stop?.[1] && Number(stop[1]) > EDGE_DRAIN_CAP_S, 'TimeoutStopSec above the drain cap')
  assert.equal(one(keys, 'EnvironmentFile'), '/etc/mailbridge/edge.env')
  assert.equal(one(keys, 'User'), 'mailbridge')
  assert.equal(one(keys, 'AmbientCapabilities'), one(keys, 'CapabilityBoundingSet'))
})

/** setpriv arguments for the unit's User/capabilities/NoNewPrivileges. */
async function privilegesOfUnit(capabilities: 'as in the unit' | 'none'): Promise<string[]> {
  const keys = await serviceSection()
  assert.equal(one(keys, 'NoNewPrivileges'), 'yes')
  const caps =
    capabilities === 'none'
      ? ''
      : one(keys, 'AmbientCapabilities')
          .split(/\s+/)
          .map((cap) => `,+${cap.replace(/^CAP_/, '').toLowerCase()}`)
          .join('')
  return [
    `--reuid=${UNPRIVILEGED.user}`,
    `--regid=${UNPRIVILEGED.group}`,
    '--clear-groups',
    `--inh-caps=-all${caps}`,
    `--ambient-caps=-all${caps}`,
    `--bounding-set=-all${caps}`,
    '--no-new-privs',
  ]
}

/** The unit's command line under setpriv with `privileges` (systemd starts it from /). */
function asUnit(mailbridge: string, privileges: string[]): [string, ...string[]] {
  return ['setpriv', ...privileges, mailbridge, 'edge']
}

test('as an unprivileged user with only the unit’s capabilities, the edge owns private/ and takes mail', async (t) => {
  if (!needCommands(t, ['postfix', 'sendmail', 'postqueue'])) return
  if (!needRoot(t)) return
  if (!(await needRunAs(t, UNPRIVILEGED))) return
  // As installed under /opt/mailbridge: bin/mailbridge and the bundle, with Node, where
  // that user may read them (the checkout may be in a 0700 home).
  copy = await readableCopy({ edge: true })
  postfix = await startPostfix({
    domain: DOMAIN,
    lmtp: { socketPath: 'private/mailbridge-lmtp' },
    chrootLmtp: true,
  })
  const socketPath = join(postfix.queueDir, 'private', 'mailbridge-lmtp')
  const env: NodeJS.ProcessEnv = {
    PATH: copy.path,
    AWS_EC2_METADATA_DISABLED: 'true',
    ...emulator.env(),
    MAILBRIDGE_DOMAINS: DOMAIN,
    MAILBRIDGE_LMTP_PORT: 'off',
    MAILBRIDGE_EDGE_HTTP_PORT: 'off',
    MAILBRIDGE_LMTP_SOCKET: socketPath,
    MAILBRIDGE_LMTP_SOCKET_MODE: '0600',
    MAILBRIDGE_LMTP_SOCKET_OWNER: 'postfix',
    MAILBRIDGE_LMTP_SOCKET_GROUP: 'postfix',
  }
  const privateDir = await stat(join(postfix.queueDir, 'private'))
  assert.equal(privateDir.mode & 0o777, 0o700, 'private/ is closed to all but postfix')

  // Without the capabilities it cannot even look into private/: it stops at start.
  const [command, ...args] = asUnit(copy.mailbridge, await privilegesOfUnit('none'))
  const bare = await run(command, args, { env, cwd: '/' })
  const bareOutput = bare.stdout + bare.stderr
  assert.ok(bare.exitCode !== 0 && bare.exitCode !== null, bareOutput)
  assert.match(bareOutput, /EACCES: permission denied/)

  // With them it starts (startEdgeProcess throws with the output if it does not).
  edge = await startEdgeProcess(env, {
    argv: asUnit(copy.mailbridge, await privilegesOfUnit('as in the unit')),
    cleanEnv: true,
    cwd: '/',
  })
  // It runs unprivileged, with exactly CAP_CHOWN and CAP_DAC_OVERRIDE (bits 0 and 1).
  const status = await readFile(`/proc/${edge.child.pid}/status`, 'utf8')
  assert.match(status, /^Uid:\t65534\t65534\t65534\t65534$/m)
  assert.match(status, /^CapEff:\t0000000000000003$/m)
  assert.match(status, /^NoNewPrivs:\t1$/m)
  const socket = await stat(socketPath)
  assert.equal(socket.uid, privateDir.uid, 'the socket was handed to postfix')
  assert.equal(socket.mode & 0o777, 0o600)

  await postfix.submit('alice@example.net', [`bob@${DOMAIN}`], 'Subject: unit\n\nfrom the unit\n')
  await postfix.waitForLog(/status=sent \(250 2\.0\.0 Ok: queued as /)

  assert.equal(await edge.stop('SIGTERM'), 0, edge.output())
})
