/** The doctor's verdicts and report, from facts given directly: no sockets, no root. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Account } from '../../edge/accounts.ts'
import {
  type CheckResult,
  configFailure,
  doctorExitCode,
  formatReport,
} from '../../edge/ops/doctor/report.ts'
import { awsFix, describeAwsError, healthCheck } from '../../edge/ops/doctor/service-verdicts.ts'
import {
  accessFix,
  accessReason,
  type FileFacts,
  greetingCheck,
  octal,
  socketLocationCheck,
  socketModeCheck,
  socketOwnerCheck,
  symbolic,
  unixSocketAccess,
  unreachableCheck,
} from '../../edge/ops/doctor/socket-verdicts.ts'
import { loadConfig } from '../../shared/config.ts'
import { ConfigError } from '../../shared/errors.ts'

const postfix: Account = { name: 'postfix', uid: 102, gid: 105 }
const root = (path: string, mode = 0o755): FileFacts => ({ path, mode, uid: 0, gid: 0 })
const SOCKET = '/var/spool/postfix/private/mailbridge-lmtp'
// The stock Debian chain down to the socket: / and /var/spool root 0755, the queue dir
// root 0755, private/ postfix 0700.
const DEBIAN_DIRS: FileFacts[] = [
  root('/'),
  root('/var'),
  root('/var/spool'),
  root('/var/spool/postfix'),
  { path: '/var/spool/postfix/private', mode: 0o700, uid: 102, gid: 0 },
]

test('the report: one line per check, the fix under each failure, a tally; exit 1 on a failure', () => {
  const results: CheckResult[] = [
    { name: 'config', status: 'ok', detail: 'loaded' },
    { name: 'socket owner', status: 'fail', detail: 'root:root', fix: 'first line\nsecond line' },
    { name: 'tcp listener', status: 'skip', detail: 'MAILBRIDGE_LMTP_PORT is off' },
  ]
  const lines = formatReport(results).split('\n')
  assert.equal(lines[0], 'ok    config        loaded')
  assert.equal(lines[1], 'FAIL  socket owner  root:root')
  assert.equal(lines[2], `${' '.repeat(20)}fix: first line`)
  assert.equal(lines[3], `${' '.repeat(20)}     second line`)
  assert.equal(lines[4], 'skip  tcp listener  MAILBRIDGE_LMTP_PORT is off')
  assert.equal(lines[6], '1 ok, 1 failed, 1 skipped')
  assert.equal(doctorExitCode(results), 1)
  assert.equal(doctorExitCode(results.filter((r) => r.status !== 'fail')), 0)
})

test('a ConfigError becomes a failure naming the setting and a good value for it', () => {
  const messageOf = (env: NodeJS.ProcessEnv) => {
    try {
      loadConfig(env)
    } catch (error) {
      assert.ok(error instanceof ConfigError)
      return error.message
    }
    assert.fail('loadConfig accepted a bad setting')
  }
  const mode = configFailure(
    messageOf({ MAILBRIDGE_LMTP_SOCKET: '/s', MAILBRIDGE_LMTP_SOCKET_MODE: '999' }),
  )
  assert.equal(mode.status, 'fail')
  assert.match(mode.detail, /MAILBRIDGE_LMTP_SOCKET_MODE/)
  assert.match(mode.fix ?? '', /MAILBRIDGE_LMTP_SOCKET_MODE=0600/)
  assert.match(mode.fix ?? '', /\/etc\/mailbridge\/edge\.env/)

  const off = configFailure(messageOf({ MAILBRIDGE_LMTP_PORT: 'off' }), '/tmp/x.env')
  assert.match(
    off.fix ?? '',
    /^in \/tmp\/x\.env: MAILBRIDGE_LMTP_SOCKET=\/var\/spool\/postfix\/private\//,
  )

  const port = configFailure(messageOf({ MAILBRIDGE_LMTP_PORT: 'abc' }))
  assert.match(port.fix ?? '', /MAILBRIDGE_LMTP_PORT=2424/)
  const file = configFailure(messageOf({ MAILBRIDGE_CONFIG: '/nonexistent/mailbridge.json' }))
  assert.match(file.fix ?? '', /unset MAILBRIDGE_CONFIG/)
})

test('modes are shown as chmod and ls show them', () => {
  assert.equal(octal(0o140600), '0600')
  assert.equal(octal(0o7), '0007')
  assert.equal(symbolic(0o600), 'rw-------')
  assert.equal(symbolic(0o751), 'rwxr-x--x')
})

test('connect(2) needs search on every directory and write on the socket', () => {
  const owned: FileFacts = { path: SOCKET, mode: 0o600, uid: 102, gid: 105 }
  assert.deepEqual(unixSocketAccess(postfix, DEBIAN_DIRS, owned), { allowed: true })

  // The classic trap: the socket left to root with 0600.
  const rootOwned = root(SOCKET, 0o600)
  const denied = unixSocketAccess(postfix, DEBIAN_DIRS, rootOwned)
  assert.deepEqual(denied, { allowed: false, blocked: rootOwned, need: 'write' })

  // Group write is enough when the group matches the primary gid.
  const groupWritable: FileFacts = { path: SOCKET, mode: 0o660, uid: 0, gid: 105 }
  assert.deepEqual(unixSocketAccess(postfix, DEBIAN_DIRS, groupWritable), { allowed: true })

  // The owner class alone counts: world-writable does not help an owner without u+w.
  const ownerReadOnly: FileFacts = { path: SOCKET, mode: 0o466, uid: 102, gid: 0 }
  assert.equal(unixSocketAccess(postfix, DEBIAN_DIRS, ownerReadOnly).allowed, false)

  // private/ as root's 0700 blocks postfix before the socket is even reached.
  const closedDir = root('/var/spool/postfix/private', 0o700)
  const verdict = unixSocketAccess(postfix, [...DEBIAN_DIRS.slice(0, 4), closedDir], owned)
  assert.deepEqual(verdict, { allowed: false, blocked: closedDir, need: 'search' })

  // Root passes everything.
  assert.deepEqual(unixSocketAccess({ name: 'root', uid: 0, gid: 0 }, [closedDir], rootOwned), {
    allowed: true,
  })
})

test('the fix for a denied socket: owner settings, mode, or the directory', () => {
  const rootOwned = root(SOCKET, 0o600)
  const write = unixSocketAccess(postfix, DEBIAN_DIRS, rootOwned)
  assert.ok(!write.allowed)
  const fix = accessFix(postfix, write, SOCKET)
  assert.match(fix, /MAILBRIDGE_LMTP_SOCKET_OWNER=postfix and MAILBRIDGE_LMTP_SOCKET_GROUP=postfix/)
  assert.match(fix, /systemctl restart mailbridge-edge/)
  assert.match(fix, new RegExp(`chown postfix:postfix ${SOCKET}`))
  assert.equal(
    accessReason(postfix, write, { owner: 'root', group: 'root' }),
    `${SOCKET} is srw------- root:root: postfix (uid 102) may not write to it`,
  )

  const ownedNoWrite: FileFacts = { path: SOCKET, mode: 0o400, uid: 102, gid: 105 }
  const mode = unixSocketAccess(postfix, DEBIAN_DIRS, ownedNoWrite)
  assert.ok(!mode.allowed)
  assert.match(accessFix(postfix, mode, SOCKET), /MAILBRIDGE_LMTP_SOCKET_MODE=0600.*chmod 0600/)

  const dir = root('/srv/mb', 0o700)
  const search = unixSocketAccess(postfix, [root('/'), root('/srv'), dir], rootOwned)
  assert.ok(!search.allowed)
  assert.match(accessFix(postfix, search, '/srv/mb/lmtp'), /chmod o\+x \/srv\/mb$/)
})

test('socket mode: as configured, or the running edge has other settings', () => {
  assert.equal(socketModeCheck(0o140600, 0o600).status, 'ok')
  assert.match(socketModeCheck(0o140600, 0o600).detail, /^0600 \(srw-------\) as configured$/)
  assert.match(socketModeCheck(0o140666, 0o666).detail, /any local user can deliver mail/)
  const wrong = socketModeCheck(0o140660, 0o600)
  assert.equal(wrong.status, 'fail')
  assert.match(wrong.detail, /0660.*MAILBRIDGE_LMTP_SOCKET_MODE is 0600/)
  assert.match(wrong.fix ?? '', /systemctl restart mailbridge-edge/)
})

test('socket owner: matched against MAILBRIDGE_LMTP_SOCKET_OWNER / _GROUP when set', () => {
  const rootFacts = { uid: 0, gid: 0, ownerName: 'root', groupName: 'root' }
  const postfixFacts = { uid: 102, gid: 105, ownerName: 'postfix', groupName: 'postfix' }
  const wanted = { owner: 'postfix', group: 'postfix', ownerUid: 102, groupGid: 105 }
  assert.equal(socketOwnerCheck(postfixFacts, wanted).status, 'ok')
  const wrong = socketOwnerCheck(rootFacts, wanted)
  assert.equal(wrong.status, 'fail')
  assert.match(wrong.detail, /root:root \(uid 0, gid 0\), but the config asks for postfix:postfix/)
  assert.match(wrong.fix ?? '', /CAP_CHOWN/)
  // Nothing configured: the owner is reported, the access check judges it.
  const unset = socketOwnerCheck(rootFacts, {})
  assert.equal(unset.status, 'ok')
  assert.match(unset.detail, /no MAILBRIDGE_LMTP_SOCKET_OWNER/)
  const noUser = socketOwnerCheck(rootFacts, { owner: 'postfx' })
  assert.equal(noUser.status, 'fail')
  assert.match(noUser.detail, /postfx, and there is no such user/)
})

test('socket path: inside the queue directory, or reachable only when lmtp is not chrooted', () => {
  const base = { dirExists: true, queueDirectory: '/var/spool/postfix' }
  assert.equal(socketLocationCheck({ ...base, path: SOCKET, chrooted: true }).status, 'ok')
  const outside = socketLocationCheck({ ...base, path: '/run/mailbridge/lmtp', chrooted: true })
  assert.equal(outside.status, 'fail')
  assert.match(
    outside.fix ?? '',
    /MAILBRIDGE_LMTP_SOCKET=\/var\/spool\/postfix\/private\/mailbridge-lmtp/,
  )
  assert.equal(
    socketLocationCheck({ ...base, path: '/run/mailbridge/lmtp', chrooted: false }).status,
    'ok',
  )
  // Unknown chroot (no lmtp service found) is treated as the risky case.
  assert.equal(socketLocationCheck({ ...base, path: '/run/mailbridge/lmtp' }).status, 'fail')
  // A sibling with the same prefix is not inside.
  assert.equal(
    socketLocationCheck({ ...base, path: '/var/spool/postfix2/x', chrooted: true }).status,
    'fail',
  )
  const missing = socketLocationCheck({ path: '/nope/x.sock', dirExists: false })
  assert.equal(missing.status, 'fail')
  assert.match(missing.fix ?? '', /mkdir -p \/nope/)
  assert.equal(socketLocationCheck({ path: '/tmp/x.sock', dirExists: true }).status, 'ok')
})

test('a listener must greet with 220; refused means the edge is not running', () => {
  assert.equal(
    greetingCheck('tcp listener', 'h:1', '220 mx ESMTP mailbridge LMTP ready').status,
    'ok',
  )
  const other = greetingCheck('tcp listener', 'h:1', 'SSH-2.0-OpenSSH_9.2')
  assert.equal(other.status, 'fail')
  assert.match(other.detail, /SSH-2\.0/)
  const refused = unreachableCheck('tcp listener', '127.0.0.1:2424', 'ECONNREFUSED')
  assert.match(refused.detail, /the edge is not running/)
  assert.match(refused.fix ?? '', /^start it: systemctl start mailbridge-edge/)
  assert.match(unreachableCheck('x', 'y', 'timeout').detail, /in time/)
})

test('an AWS failure gets the fix for its cause', () => {
  const context = { bucket: 'mb', queue: 'mailbridge-ingest', region: 'eu-west-1' }
  const refused = describeAwsError(
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
  )
  assert.equal(refused.name, 'ECONNREFUSED')
  assert.match(
    awsFix('sqs', refused, { ...context, endpoint: 'http://127.0.0.1:1' }),
    /AWS_ENDPOINT_URL=http:\/\/127\.0\.0\.1:1/,
  )
  assert.match(awsFix('sqs', refused, context), /network from this host to AWS/)

  // Dual-stack connects fail as an AggregateError whose code is on the inner errors.
  const aggregate = describeAwsError(
    Object.assign(
      new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })], ''),
      {},
    ),
  )
  assert.equal(aggregate.name, 'ECONNREFUSED')

  const sdk = (name: string, status: number) =>
    describeAwsError(
      Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } }),
    )
  assert.match(
    awsFix('sqs', sdk('QueueDoesNotExist', 400), context),
    /MAILBRIDGE_INGEST_QUEUE=.*IngestQueueUrl.*eu-west-1/,
  )
  assert.match(
    awsFix('s3', sdk('NotFound', 404), context),
    /MAILBRIDGE_BUCKET=.*BucketName.*\(now mb\)/,
  )
  assert.match(awsFix('s3', sdk('AccessDenied', 403), context), /EdgePolicy/)
  assert.match(
    awsFix('sqs', sdk('InvalidClientTokenId', 403), context),
    /rejects these credentials/,
  )
  assert.match(
    awsFix('s3', sdk('CredentialsProviderError', 0), context),
    /AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
  )
  assert.match(awsFix('s3', sdk('PermanentRedirect', 301), context), /another region/)
})

test('health: 200 is ok, refused says the edge is not running, anything else fails', () => {
  const url = 'http://127.0.0.1:9425/healthz'
  assert.equal(healthCheck(url, { status: 200, body: '{"status":"ok"}' }).status, 'ok')
  const draining = healthCheck(url, { status: 503, body: '{"status":"draining"}' })
  assert.equal(draining.status, 'fail')
  assert.match(draining.detail, /503: \{"status":"draining"\}/)
  const refused = healthCheck(url, { error: 'ECONNREFUSED' })
  assert.match(refused.detail, /edge not running/)
  assert.equal(refused.fix, 'start it: systemctl start mailbridge-edge')
})
