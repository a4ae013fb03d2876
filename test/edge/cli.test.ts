/**
 * `mailbridge` as a process, as an admin runs it: the output and exit code of
 * postfix-config, doctor (a failing and a passing setup, settings from an env file) and
 * usage errors, through `node --import tsx edge/ops/cli.ts` and through bin/mailbridge.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { type RunningHealthServer, startHealthServer } from '../../edge/health-server.ts'
import { startTestEdge, type TestEdge } from '../helpers/edge.ts'
import { type Emulator, startEmulator } from '../helpers/emulator.ts'
import { freePort } from '../helpers/postfix.ts'
import { NOBODY, needRunAs, readableCopy, setprivAs } from '../helpers/readable-copy.ts'
import { needCommands, needRoot, type RunResult, run, runOk } from '../helpers/system.ts'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const SOCKET = '/var/spool/postfix/private/mailbridge-lmtp'

let dir: string

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailbridge-cli-'))
})

after(async () => {
  await rm(dir, { recursive: true, force: true })
})

/**
 * Runs the CLI with only `env` (plus PATH): no settings leak in from the test's own
 * environment, and the SDK may not go looking for instance credentials.
 */
function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return run(process.execPath, ['--import', 'tsx', join(REPO, 'edge/ops/cli.ts'), ...args], {
    env: { PATH: process.env.PATH, AWS_EC2_METADATA_DISABLED: 'true', ...env },
    timeoutMs: 60_000,
  })
}

test('postfix-config --socket prints the socket setup and exits 0', async () => {
  const result = await cli(['postfix-config', '--socket', SOCKET, '--no-settings'])
  assert.equal(result.exitCode, 0, result.stderr)
  const lines = result.stdout.split('\n')
  for (const line of [
    `MAILBRIDGE_LMTP_SOCKET=${SOCKET}`,
    'MAILBRIDGE_LMTP_SOCKET_OWNER=postfix',
    'virtual_mailbox_domains = example.com',
    'virtual_transport = mailbridge:unix:private/mailbridge-lmtp',
    'mailbridge unix  -       -       y       -       20      lmtp',
    '  -o syslog_name=postfix/mailbridge',
  ]) {
    assert.ok(lines.includes(line), `missing "${line}" in:\n${result.stdout}`)
  }
  assert.doesNotMatch(result.stdout, /inet:/)
})

test('postfix-config takes its defaults from the config', async () => {
  const result = await cli(['postfix-config', '--no-settings'], {
    MAILBRIDGE_DOMAINS: 'example.org',
    MAILBRIDGE_LMTP_HOST: '127.0.0.1',
    MAILBRIDGE_LMTP_PORT: '2525',
    MAILBRIDGE_LMTP_SOCKET: '/var/spool/postfix/private/mb',
  })
  assert.equal(result.exitCode, 0, result.stderr)
  const lines = result.stdout.split('\n')
  assert.ok(lines.includes('virtual_transport = mailbridge:unix:private/mb'), result.stdout)
  assert.ok(lines.includes('virtual_transport = mailbridge:inet:127.0.0.1:2525'), result.stdout)
  assert.ok(lines.includes('virtual_mailbox_domains = example.org'), result.stdout)
})

test('help, an unknown command or a bad option: usage on stderr, exit 2', async () => {
  for (const args of [
    ['help'],
    [],
    ['frobnicate'],
    ['postfix-config', '--tcp', 'nonsense'],
    ['doctor', '--bogus'],
  ]) {
    const result = await cli(args)
    assert.equal(result.exitCode, 2, args.join(' '))
    assert.match(result.stderr, /^usage: mailbridge <command>/m, args.join(' '))
    assert.equal(result.stdout, '', args.join(' '))
  }
  assert.match((await cli(['frobnicate'])).stderr, /unknown command "frobnicate"/)
})

test('doctor on a failing setup: FAIL lines with fixes, exit 1', async () => {
  const closed = await freePort()
  const result = await cli(['doctor', '--no-settings', '--timeout', '5'], {
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL: `http://127.0.0.1:${closed}`,
    MAILBRIDGE_LMTP_PORT: String(closed),
    MAILBRIDGE_EDGE_HTTP_PORT: String(closed),
  })
  assert.equal(result.exitCode, 1, result.stdout + result.stderr)
  assert.match(result.stdout, /^mailbridge doctor \(settings: environment\)$/m)
  assert.match(result.stdout, /^FAIL +sqs +queue mailbridge-ingest: ECONNREFUSED/m)
  assert.match(
    result.stdout,
    new RegExp(`^ +fix: check AWS_ENDPOINT_URL=http://127\\.0\\.0\\.1:${closed}`, 'm'),
  )
  assert.match(result.stdout, /^FAIL +health endpoint +nothing answers at .*: edge not running$/m)
  assert.match(result.stdout, /^\d+ ok, \d+ failed, \d+ skipped$/m)
})

test('doctor reads the env file, which wins over the environment', async () => {
  const envFile = join(dir, 'edge.env')
  await writeFile(
    envFile,
    '# as systemd reads it\nMAILBRIDGE_LMTP_SOCKET=/x\nMAILBRIDGE_LMTP_SOCKET_MODE=0999\n',
  )
  const result = await cli(['doctor', '--settings', envFile], {
    MAILBRIDGE_LMTP_SOCKET_MODE: '0600',
  })
  assert.equal(result.exitCode, 1)
  assert.match(
    result.stdout,
    new RegExp(`settings: environment \\+ ${envFile.replaceAll('.', '\\.')}`),
  )
  assert.match(
    result.stdout,
    /^FAIL +config +MAILBRIDGE_LMTP_SOCKET_MODE must be an octal file mode/m,
  )
  assert.match(
    result.stdout,
    new RegExp(`fix: in ${envFile.replaceAll('.', '\\.')}: MAILBRIDGE_LMTP_SOCKET_MODE=0600`),
  )
  const missing = await cli(['doctor', '--settings', join(dir, 'absent.env')])
  assert.equal(missing.exitCode, 2)
  assert.match(missing.stderr, /cannot read .*absent\.env: ENOENT/)
})

test('doctor on a working setup (emulator, edge, health, Postfix routing to it): exit 0', async () => {
  let emulator: Emulator | undefined
  let edge: TestEdge | undefined
  let health: RunningHealthServer | undefined
  try {
    emulator = await startEmulator({ MAILBRIDGE_DOMAINS: 'example.com' })
    edge = await startTestEdge(emulator)
    health = await startHealthServer({ host: '127.0.0.1', port: 0 }, edge.metrics, edge)
    // postconf honours MAIL_CONFIG; without Postfix installed the check is skipped instead.
    const configDir = join(dir, 'postfix')
    await rm(configDir, { recursive: true, force: true })
    await run('mkdir', ['-p', configDir])
    await copyFile('/etc/postfix/master.cf', join(configDir, 'master.cf')).catch(() => undefined)
    await writeFile(
      join(configDir, 'main.cf'),
      `virtual_mailbox_domains = example.com\nvirtual_transport = lmtp:inet:127.0.0.1:${edge.lmtp.port}\n`,
    )
    const past = new Date(Date.now() - 60_000)
    await utimes(join(configDir, 'main.cf'), past, past)

    const result = await cli(['doctor', '--no-settings'], {
      MAIL_CONFIG: configDir,
      ...emulator.env(),
      MAILBRIDGE_DOMAINS: 'example.com',
      MAILBRIDGE_LMTP_PORT: String(edge.lmtp.port),
      MAILBRIDGE_EDGE_HTTP_PORT: String(health.address.port),
    })
    assert.equal(result.exitCode, 0, result.stdout + result.stderr)
    assert.match(result.stdout, /^ok +sqs +queue http/m)
    assert.match(result.stdout, /^ok +s3 +bucket mailbridge: wrote and removed incoming\/doctor-/m)
    assert.match(result.stdout, /^ok +tcp listener +127\.0\.0\.1:\d+ answered "220 /m)
    assert.match(result.stdout, /^ok +health endpoint /m)
    assert.doesNotMatch(result.stdout, /^FAIL/m)
  } finally {
    await edge?.close()
    await health?.close()
    await emulator?.stop()
  }
})

test('bin/mailbridge runs from any directory, through a symlink', async () => {
  const link = join(dir, 'mailbridge')
  await symlink(join(REPO, 'bin/mailbridge'), link)
  // From /, where a bare `--import tsx` would not be found.
  const result = spawnSync(
    link,
    ['postfix-config', '--tcp', '127.0.0.1:2424', '--domains', 'Example.COM'],
    {
      cwd: '/',
      env: { PATH: process.env.PATH },
      encoding: 'utf8',
      timeout: 60_000,
    },
  )
  assert.equal(result.status, 0, result.stderr)
  assert.ok(
    result.stdout.split('\n').includes('virtual_transport = mailbridge:inet:127.0.0.1:2424'),
    result.stdout,
  )
  assert.ok(
    result.stdout.split('\n').includes('virtual_mailbox_domains = example.com'),
    result.stdout,
  )
})

test('doctor as a user other than root or postfix: the permission bits decide', async (t) => {
  if (!needCommands(t, ['postfix'])) return
  if (!needRoot(t)) return
  if (!(await needRunAs(t, NOBODY))) return
  // bin/mailbridge and the bundle, with Node, where nobody may read them: the checkout may
  // be in a 0700 home.
  const copy = await readableCopy({ edge: true })
  t.after(() => copy.remove())
  const socketDir = join(dir, 'bits')
  await mkdir(socketDir, { mode: 0o755 })
  const path = join(socketDir, 'lmtp.sock')
  const server = createServer((socket) => socket.end('220 x LMTP\r\n'))
  await new Promise<void>((resolve) => server.listen(path, resolve))
  try {
    await chmod(dir, 0o755)
    await chmod(path, 0o600)
    const doctorAsNobody = () =>
      run(
        'setpriv',
        [...setprivAs(NOBODY), copy.mailbridge, 'doctor', '--no-settings', '--timeout', '3'],
        {
          env: {
            PATH: copy.path,
            AWS_EC2_METADATA_DISABLED: 'true',
            AWS_ACCESS_KEY_ID: 'test',
            AWS_SECRET_ACCESS_KEY: 'test',
            AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
            MAILBRIDGE_LMTP_SOCKET: path,
            MAILBRIDGE_LMTP_PORT: 'off',
            MAILBRIDGE_EDGE_HTTP_PORT: 'off',
          },
        },
      )
    const rootOwned = await doctorAsNobody()
    assert.match(
      rootOwned.stdout,
      new RegExp(
        `^FAIL +postfix access +${path} is srw------- root:root: postfix \\(uid \\d+\\) may not write to it$`,
        'm',
      ),
      rootOwned.stdout,
    )
    await runOk('chown', ['postfix:postfix', path])
    const postfixOwned = await doctorAsNobody()
    assert.match(
      postfixOwned.stdout,
      /^ok +postfix access +postfix may connect by the permission bits \(as root, doctor connects as postfix\)$/m,
      postfixOwned.stdout,
    )
  } finally {
    server.close()
  }
})
