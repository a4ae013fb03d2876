/**
 * The doctor's runner against real things: the S3/SQS emulator, the real edge and its
 * health endpoint on TCP, Postfix's own postconf reading a config directory, closed ports,
 * listeners that never answer, and a real UNIX socket owned by root or by postfix.
 */
import assert from 'node:assert/strict'
import { chmod, chown, copyFile, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { ListObjectsV2Command } from '@aws-sdk/client-s3'
import { type RunningHealthServer, startHealthServer } from '../../edge/health-server.ts'
import { type CheckResult, formatReport } from '../../edge/ops/doctor/report.ts'
import { type DoctorOptions, runDoctor } from '../../edge/ops/doctor/run.ts'
import { startTestEdge, type TestEdge } from '../helpers/edge.ts'
import { type Emulator, startEmulator } from '../helpers/emulator.ts'
import { freePort } from '../helpers/postfix.ts'
import { needCommands, needRoot, runOk } from '../helpers/system.ts'

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' }
// Short: every listener here is local, and the timeout tests wait this long (ms).
const TIMEOUT_MS = 3_000

let emulator: Emulator
let edge: TestEdge
let health: RunningHealthServer
let dir: string

before(async () => {
  emulator = await startEmulator({ MAILBRIDGE_DOMAINS: 'example.com' })
  edge = await startTestEdge(emulator)
  health = await startHealthServer({ host: '127.0.0.1', port: 0 }, edge.metrics, edge)
  dir = await mkdtemp(join(tmpdir(), 'mailbridge-doctor-'))
  // The postfix user must be able to enter it for the socket tests.
  await chmod(dir, 0o755)
})

after(async () => {
  await edge.close()
  await health.close()
  await emulator.stop()
  await rm(dir, { recursive: true, force: true })
})

function byName(results: CheckResult[], name: string): CheckResult {
  const result = results.find((r) => r.name === name)
  assert.ok(result, `no "${name}" check in:\n${formatReport(results)}`)
  return result
}

/** A Postfix config directory that postconf -c reads: Debian's master.cf and `main`. */
async function postfixConfigDir(name: string, main: Record<string, string>): Promise<string> {
  const configDir = join(dir, name)
  await mkdir(configDir)
  await copyFile('/etc/postfix/master.cf', join(configDir, 'master.cf'))
  const lines = Object.entries(main).map(([key, value]) => `${key} = ${value}`)
  await writeFile(join(configDir, 'main.cf'), `${lines.join('\n')}\n`)
  // Postfix's tools wait for a main.cf younger than a second or two to settle.
  const past = new Date(Date.now() - 60_000)
  for (const file of ['main.cf', 'master.cf']) await utimes(join(configDir, file), past, past)
  return configDir
}

function env(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    AWS_ENDPOINT_URL: emulator.endpoint,
    MAILBRIDGE_DOMAINS: 'example.com',
    MAILBRIDGE_LMTP_PORT: String(edge.lmtp.port),
    MAILBRIDGE_EDGE_HTTP_PORT: String(health.address.port),
    ...extra,
  }
}

function doctor(options: DoctorOptions): Promise<CheckResult[]> {
  return runDoctor({ credentials: CREDENTIALS, timeoutMs: TIMEOUT_MS, postfix: false, ...options })
}

test('against the emulator, the edge and a Postfix routing to it: every check ok', async (t) => {
  if (!needCommands(t, ['postfix'])) return
  const configDir = await postfixConfigDir('routed', {
    queue_directory: join(dir, 'queue'),
    virtual_mailbox_domains: 'example.com',
    virtual_transport: `lmtp:inet:127.0.0.1:${edge.lmtp.port}`,
  })
  const results = await doctor({ env: env({}), postfix: { configDir } })
  const report = formatReport(results)

  assert.deepEqual(
    results.map((r) => [r.name, r.status]),
    [
      ['config', 'ok'],
      ['socket', 'skip'],
      ['tcp listener', 'ok'],
      ['postfix routing', 'ok'],
      ['postfix domains', 'ok'],
      ['sqs', 'ok'],
      ['s3', 'ok'],
      ['routes', 'ok'],
      ['health endpoint', 'ok'],
    ],
    report,
  )
  assert.match(byName(results, 'routes').detail, /not published yet: every recipient/)
  assert.match(byName(results, 'tcp listener').detail, /answered "220 /)
  assert.match(
    byName(results, 'postfix routing').detail,
    new RegExp(`virtual_transport = lmtp:inet:127\\.0\\.0\\.1:${edge.lmtp.port}`),
  )
  assert.match(
    byName(results, 'sqs').detail,
    new RegExp(emulator.ingestQueueUrl.replaceAll('.', '\\.')),
  )
  assert.match(byName(results, 'health endpoint').detail, /answered 200/)
  // The write test cleaned up after itself.
  const listed = await emulator.s3.send(
    new ListObjectsV2Command({ Bucket: emulator.bucket, Prefix: 'incoming/doctor-' }),
  )
  assert.equal(listed.KeyCount ?? 0, 0)
})

test('Postfix sending the edge’s domain elsewhere: routing fails with the postconf line', async (t) => {
  if (!needCommands(t, ['postfix'])) return
  const configDir = await postfixConfigDir('elsewhere', {
    queue_directory: join(dir, 'queue'),
    virtual_mailbox_domains: 'example.com',
    virtual_transport: 'lmtp:unix:private/dovecot-lmtp',
  })
  const results = await doctor({ env: env({}), postfix: { configDir } })
  const routing = byName(results, 'postfix routing')
  assert.equal(routing.status, 'fail', formatReport(results))
  assert.match(routing.detail, /LMTP goes to: virtual_transport = lmtp:unix:private\/dovecot-lmtp/)
  assert.match(
    routing.fix ?? '',
    new RegExp(`example\\.com  lmtp:inet:127\\.0\\.0\\.1:${edge.lmtp.port}`),
  )
  assert.equal(byName(results, 'postfix domains').status, 'skip')
})

test('closed ports: SQS, S3, the listener and the health endpoint fail, each with its fix', async () => {
  const closed = await freePort()
  const started = Date.now()
  const results = await doctor({
    env: env({
      AWS_ENDPOINT_URL: `http://127.0.0.1:${closed}`,
      MAILBRIDGE_LMTP_PORT: String(closed),
      MAILBRIDGE_EDGE_HTTP_PORT: String(closed),
    }),
  })
  const report = formatReport(results)
  for (const name of ['sqs', 's3', 'routes']) {
    const result = byName(results, name)
    assert.equal(result.status, 'fail', report)
    assert.match(result.detail, /ECONNREFUSED/, report)
    assert.match(
      result.fix ?? '',
      new RegExp(`AWS_ENDPOINT_URL=http://127\\.0\\.0\\.1:${closed}`),
      report,
    )
  }
  assert.match(byName(results, 'tcp listener').fix ?? '', /systemctl start mailbridge-edge/)
  const healthResult = byName(results, 'health endpoint')
  assert.match(healthResult.detail, /edge not running/)
  assert.equal(healthResult.fix, 'start it: systemctl start mailbridge-edge')
  assert.equal(byName(results, 'postfix routing').status, 'skip')
  assert.ok(Date.now() - started < TIMEOUT_MS * 3, 'refused connections fail fast')
})

test('published routes: the doctor reads them as the edge does', async () => {
  await emulator.root.stores.routes.initialize()
  const results = await doctor({ env: env({}) })
  const routes = byName(results, 'routes')
  assert.equal(routes.status, 'ok', formatReport(results))
  assert.match(routes.detail, /^routes\/routes\.json: version \d+, 1 enabled routes$/)
})

test('a wrong queue name and a wrong bucket name: the settings to change', async () => {
  const results = await doctor({
    env: env({ MAILBRIDGE_INGEST_QUEUE: 'no-such-queue', MAILBRIDGE_BUCKET: 'no-such-bucket' }),
  })
  const report = formatReport(results)
  const sqs = byName(results, 'sqs')
  assert.equal(sqs.status, 'fail', report)
  assert.match(sqs.fix ?? '', /MAILBRIDGE_INGEST_QUEUE=.*\(now no-such-queue\)/, report)
  const s3 = byName(results, 's3')
  assert.equal(s3.status, 'fail', report)
  assert.match(s3.fix ?? '', /MAILBRIDGE_BUCKET=.*\(now no-such-bucket\)/, report)
})

test('listeners that accept but never answer: the checks give up within their timeout', async () => {
  const silent: Server = createServer(() => {})
  const hanging: HttpServer = createHttpServer(() => {})
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve))
  const port = (server: Server | HttpServer) => (server.address() as { port: number }).port
  try {
    const started = Date.now()
    const results = await doctor({
      env: env({
        MAILBRIDGE_LMTP_PORT: String(port(silent)),
        MAILBRIDGE_EDGE_HTTP_PORT: String(port(hanging)),
      }),
      timeoutMs: 500,
    })
    assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`)
    assert.equal(byName(results, 'tcp listener').status, 'fail')
    assert.match(byName(results, 'tcp listener').detail, /no greeting in time/)
    assert.equal(byName(results, 'health endpoint').status, 'fail')
    assert.match(byName(results, 'health endpoint').detail, /no answer within 0\.5 s/)
  } finally {
    silent.close()
    hanging.closeAllConnections()
    hanging.close()
  }
})

test('a bad setting: the config check fails with the line to change, nothing else runs', async () => {
  const results = await doctor({
    env: env({ MAILBRIDGE_LMTP_SOCKET: '/x', MAILBRIDGE_LMTP_SOCKET_MODE: 'rw' }),
  })
  assert.deepEqual(
    results.map((r) => [r.name, r.status]),
    [
      ['config', 'fail'],
      ['other checks', 'skip'],
    ],
  )
  assert.match(results[0]?.fix ?? '', /MAILBRIDGE_LMTP_SOCKET_MODE=0600/)
})

/** A plain LMTP greeter on a UNIX socket, as the edge would greet. */
async function greeter(path: string): Promise<Server> {
  const server = createServer((socket) => {
    socket.on('error', () => {})
    socket.end('220 x LMTP\r\n')
  })
  await new Promise<void>((resolve) => server.listen(path, resolve))
  return server
}

test('a 0600 socket owned by root: postfix cannot connect; chowned to postfix, it can', async (t) => {
  if (!needCommands(t, ['postfix'])) return
  if (!needRoot(t)) return
  const path = join(dir, 'owned.sock')
  const server = await greeter(path)
  try {
    await chmod(path, 0o600)
    const socketEnv = env({ MAILBRIDGE_LMTP_SOCKET: path, MAILBRIDGE_LMTP_SOCKET_MODE: '0600' })

    const asRoot = await doctor({ env: socketEnv })
    const denied = byName(asRoot, 'postfix access')
    assert.equal(denied.status, 'fail', formatReport(asRoot))
    assert.match(denied.detail, /srw------- root:root: postfix \(uid \d+\) may not write to it/)
    assert.match(denied.fix ?? '', /MAILBRIDGE_LMTP_SOCKET_OWNER=postfix/)
    assert.match(denied.fix ?? '', new RegExp(`chown postfix:postfix ${path}`))
    assert.equal(byName(asRoot, 'socket mode').status, 'ok')
    assert.equal(byName(asRoot, 'socket file').status, 'ok')

    // The config asks for postfix, the file is root's: the owner check says so too.
    const wanted = await doctor({ env: { ...socketEnv, MAILBRIDGE_LMTP_SOCKET_OWNER: 'postfix' } })
    assert.equal(byName(wanted, 'socket owner').status, 'fail')
    assert.match(byName(wanted, 'socket owner').detail, /but the config asks for postfix:root/)

    await runOk('chown', ['postfix:postfix', path])
    const fixed = await doctor({
      env: {
        ...socketEnv,
        MAILBRIDGE_LMTP_SOCKET_OWNER: 'postfix',
        MAILBRIDGE_LMTP_SOCKET_GROUP: 'postfix',
      },
    })
    assert.equal(byName(fixed, 'socket owner').status, 'ok', formatReport(fixed))
    const access = byName(fixed, 'postfix access')
    assert.equal(access.status, 'ok', formatReport(fixed))
    assert.equal(access.detail, `${path} as postfix answered "220 x LMTP"`)

    // Mode 0660 with the socket back to root:postfix: the group bit lets postfix in.
    await chown(path, 0, Number((await runOk('id', ['-g', 'postfix'])).stdout.trim()))
    await chmod(path, 0o660)
    const group = await doctor({ env: { ...socketEnv, MAILBRIDGE_LMTP_SOCKET_MODE: '0660' } })
    assert.equal(byName(group, 'postfix access').status, 'ok', formatReport(group))
  } finally {
    server.close()
  }
})

test('a socket in a directory postfix cannot enter: the fix names the directory', async (t) => {
  if (!needCommands(t, ['postfix'])) return
  if (!needRoot(t)) return
  const closedDir = join(dir, 'closed')
  await mkdir(closedDir, { mode: 0o700 })
  const path = join(closedDir, 'lmtp.sock')
  const server = await greeter(path)
  try {
    await runOk('chown', ['postfix:postfix', path])
    const results = await doctor({ env: env({ MAILBRIDGE_LMTP_SOCKET: path }) })
    const access = byName(results, 'postfix access')
    assert.equal(access.status, 'fail', formatReport(results))
    assert.match(
      access.detail,
      new RegExp(`${closedDir} is drwx------ root:root: postfix .* may not enter it`),
    )
    assert.match(access.fix ?? '', new RegExp(`chmod o\\+x ${closedDir}`))
  } finally {
    server.close()
  }
})

test('no socket file: the edge is not running', async () => {
  const results = await doctor({ env: env({ MAILBRIDGE_LMTP_SOCKET: join(dir, 'absent.sock') }) })
  const file = byName(results, 'socket file')
  assert.equal(file.status, 'fail')
  assert.match(file.detail, /does not exist: the edge is not running/)
  assert.equal(file.fix, 'start it: systemctl start mailbridge-edge')
})
