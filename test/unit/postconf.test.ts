/**
 * Reading postconf / postmap output and deciding which settings route mail to the edge.
 * The inputs are what Postfix 3.7 prints (taken from `postconf -x`, `postconf -M`, `postmap -s`).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { postfixDomainsCheck, postfixRoutingCheck } from '../../edge/ops/doctor/postfix-verdicts.ts'
import {
  type EdgeListeners,
  edgeNexthop,
  literalDomains,
  lmtpRoutes,
  type PostfixFacts,
  parseLmtpNexthop,
  parseMasterCf,
  parsePostconf,
  parseTableDump,
  parseTransport,
  reachesEdge,
  socketFileOf,
  splitTableList,
} from '../../edge/ops/postfix/postconf.ts'

const QUEUE = '/var/spool/postfix'
const SOCKET = '/var/spool/postfix/private/mailbridge-lmtp'

// `postconf -M` on Debian's stock master.cf, plus our transport.
const MASTER = `smtp       inet  n       -       y       -       -       smtpd
pickup     unix  n       -       y       60      1       pickup
smtp       unix  -       -       y       -       -       smtp
relay      unix  -       -       y       -       -       smtp -o syslog_name=postfix/$service_name
virtual    unix  -       n       n       -       -       virtual
lmtp       unix  -       -       y       -       -       lmtp
mailbridge unix  -       -       y       -       20      lmtp -o syslog_name=postfix/mailbridge
lmtp-plain unix  -       -       -       -       -       lmtp
`

function facts(params: Record<string, string>, tables: PostfixFacts['tables'] = []): PostfixFacts {
  return {
    params: {
      queue_directory: QUEUE,
      mail_owner: 'postfix',
      virtual_transport: 'virtual',
      default_transport: 'smtp',
      relay_transport: 'relay',
      local_transport: 'local:mx.example.com',
      mailbox_transport: '',
      transport_maps: '',
      ...params,
    },
    services: parseMasterCf(MASTER),
    tables,
  }
}

test('postconf output: name = value lines, empty values kept', () => {
  const params = parsePostconf(
    'queue_directory = /var/spool/postfix\nmailbox_transport =\nvirtual_transport = lmtp:unix:private/x\n',
  )
  assert.deepEqual(params, {
    queue_directory: '/var/spool/postfix',
    mailbox_transport: '',
    virtual_transport: 'lmtp:unix:private/x',
  })
})

test('master.cf entries: name, type, chroot, command and its -o arguments', () => {
  const services = parseMasterCf(MASTER)
  assert.equal(services.length, 8)
  const mailbridge = services.find((s) => s.name === 'mailbridge')
  assert.deepEqual(mailbridge, {
    name: 'mailbridge',
    type: 'unix',
    chroot: 'y',
    command: 'lmtp',
    args: ['-o', 'syslog_name=postfix/mailbridge'],
  })
  assert.equal(services.find((s) => s.name === 'virtual')?.chroot, 'n')
})

test('postmap -s dumps, table lists and transport values', () => {
  assert.deepEqual(
    parseTableDump('c.com\tmailbridge:unix:private/x\nb.com\tlmtp:inet:127.0.0.1:2424\n'),
    [
      { key: 'c.com', value: 'mailbridge:unix:private/x' },
      { key: 'b.com', value: 'lmtp:inet:127.0.0.1:2424' },
    ],
  )
  assert.deepEqual(splitTableList('hash:/etc/postfix/transport, regexp:/etc/postfix/t.re'), [
    'hash:/etc/postfix/transport',
    'regexp:/etc/postfix/t.re',
  ])
  assert.deepEqual(parseTransport('lmtp:unix:private/dovecot-lmtp'), {
    transport: 'lmtp',
    nexthop: 'unix:private/dovecot-lmtp',
  })
  assert.deepEqual(parseTransport('virtual'), { transport: 'virtual', nexthop: '' })
})

test('LMTP nexthops: unix paths, inet with or without prefix, brackets and IPv6, several', () => {
  assert.deepEqual(parseLmtpNexthop('unix:private/mailbridge-lmtp'), [
    { kind: 'unix', path: 'private/mailbridge-lmtp' },
  ])
  assert.deepEqual(parseLmtpNexthop('inet:127.0.0.1:2424'), [
    { kind: 'inet', host: '127.0.0.1', port: 2424 },
  ])
  assert.deepEqual(parseLmtpNexthop('[127.0.0.1]:2424'), [
    { kind: 'inet', host: '127.0.0.1', port: 2424 },
  ])
  assert.deepEqual(parseLmtpNexthop('inet:[ipv6:::1]:2424, inet:[::1]:2425'), [
    { kind: 'inet', host: '::1', port: 2424 },
    { kind: 'inet', host: '::1', port: 2425 },
  ])
  // No port: lmtp_tcp_port, 24.
  assert.deepEqual(parseLmtpNexthop('inet:localhost'), [
    { kind: 'inet', host: 'localhost', port: 24 },
  ])
})

test('unix paths resolve from the queue directory; absolute ones only when chrooted', () => {
  assert.equal(socketFileOf('private/x', QUEUE, true), `${QUEUE}/private/x`)
  assert.equal(socketFileOf('private/x', QUEUE, false), `${QUEUE}/private/x`)
  assert.equal(socketFileOf('/run/x', QUEUE, false), '/run/x')
  assert.equal(socketFileOf('/private/x', QUEUE, true), `${QUEUE}/private/x`)
  const edge: EdgeListeners = { socketPath: SOCKET, tcp: { host: '127.0.0.1', port: 2424 } }
  assert.ok(reachesEdge({ kind: 'unix', path: 'private/mailbridge-lmtp' }, edge, QUEUE, true))
  assert.ok(
    !reachesEdge({ kind: 'unix', path: SOCKET }, edge, QUEUE, true),
    'chrooted: looks in queue/var/spool/…',
  )
  assert.ok(reachesEdge({ kind: 'unix', path: SOCKET }, edge, QUEUE, false))
  assert.ok(reachesEdge({ kind: 'inet', host: 'localhost', port: 2424 }, edge, QUEUE, true))
  assert.ok(!reachesEdge({ kind: 'inet', host: '127.0.0.1', port: 24 }, edge, QUEUE, true))
  assert.ok(
    reachesEdge(
      { kind: 'inet', host: '192.0.2.1', port: 2424 },
      { tcp: { host: '0.0.0.0', port: 2424 } },
      QUEUE,
      true,
    ),
    'an edge on every address',
  )
})

test('the nexthop to write: relative inside the queue directory, absolute outside, inet', () => {
  assert.equal(edgeNexthop({ socketPath: SOCKET }, QUEUE), 'unix:private/mailbridge-lmtp')
  assert.equal(edgeNexthop({ socketPath: SOCKET }, `${QUEUE}/`), 'unix:private/mailbridge-lmtp')
  assert.equal(edgeNexthop({ socketPath: '/run/mb/lmtp' }, QUEUE), 'unix:/run/mb/lmtp')
  assert.equal(edgeNexthop({ tcp: { host: '127.0.0.1', port: 2424 } }), 'inet:127.0.0.1:2424')
  assert.equal(edgeNexthop({ tcp: { host: '0.0.0.0', port: 2424 } }), 'inet:127.0.0.1:2424')
  assert.equal(edgeNexthop({ tcp: { host: '::1', port: 2424 } }), 'inet:[::1]:2424')
})

test('routing: virtual_transport through our own lmtp transport is found, with its chroot', () => {
  const edge = { socketPath: SOCKET }
  const f = facts({ virtual_transport: 'mailbridge:unix:private/mailbridge-lmtp' })
  const routes = lmtpRoutes(f, edge)
  assert.equal(routes.length, 1)
  assert.equal(routes[0]?.toEdge, true)
  const verdict = postfixRoutingCheck(f, routes, edge, ['example.com'])
  assert.equal(verdict.status, 'ok')
  assert.match(
    verdict.detail,
    /virtual_transport = mailbridge:unix:private\/mailbridge-lmtp \(master\.cf mailbridge unix lmtp, chroot y\)/,
  )
})

test('routing: nothing to the edge fails, lists where LMTP goes and gives the postconf line', () => {
  const edge = { socketPath: SOCKET }
  const f = facts({ mailbox_transport: 'lmtp:unix:private/dovecot-lmtp' })
  const routes = lmtpRoutes(f, edge)
  const verdict = postfixRoutingCheck(f, routes, edge, ['example.com', 'example.org'])
  assert.equal(verdict.status, 'fail')
  assert.match(verdict.detail, /LMTP goes to: mailbox_transport = lmtp:unix:private\/dovecot-lmtp/)
  assert.match(
    verdict.fix ?? '',
    /^postconf -e 'virtual_mailbox_domains = example\.com example\.org' 'virtual_transport = lmtp:unix:private\/mailbridge-lmtp' && postfix reload$/m,
  )
  assert.match(verdict.fix ?? '', /mailbridge postfix-config/)
})

test('routing: when virtual_transport serves Dovecot, the fix routes our domains by transport_maps', () => {
  const edge = { tcp: { host: '127.0.0.1', port: 2424 } }
  const f = facts({ virtual_transport: 'lmtp:unix:private/dovecot-lmtp' })
  const verdict = postfixRoutingCheck(f, lmtpRoutes(f, edge), edge, ['example.com'])
  assert.equal(verdict.status, 'fail')
  assert.match(verdict.fix ?? '', /^ {2}example\.com {2}lmtp:inet:127\.0\.0\.1:2424$/m)
  assert.match(verdict.fix ?? '', /transport_maps/)
})

test('routing: a transport_maps entry counts; a transport missing from master.cf fails', () => {
  const edge = { tcp: { host: '127.0.0.1', port: 2424 } }
  const tables = [
    {
      table: 'hash:/etc/postfix/transport',
      entries: [
        { key: 'example.com', value: 'lmtp:inet:[127.0.0.1]:2424' },
        { key: 'other.test', value: 'smtp:[relay.example.net]' },
      ],
    },
    { table: 'regexp:/etc/postfix/t.re', error: 'unsupported dictionary type' },
  ]
  const f = facts(
    { transport_maps: 'hash:/etc/postfix/transport regexp:/etc/postfix/t.re' },
    tables,
  )
  const routes = lmtpRoutes(f, edge)
  assert.deepEqual(
    routes.map((r) => [r.source, r.toEdge]),
    [['transport_maps hash:/etc/postfix/transport (example.com)', true]],
  )
  const verdict = postfixRoutingCheck(f, routes, edge, [])
  assert.equal(verdict.status, 'ok')
  assert.match(
    verdict.detail,
    /not read: regexp:\/etc\/postfix\/t\.re \(unsupported dictionary type\)/,
  )

  const missing = facts({ virtual_transport: 'mailbrige:inet:127.0.0.1:2424' })
  const broken = postfixRoutingCheck(missing, lmtpRoutes(missing, edge), edge, [])
  assert.equal(broken.status, 'fail')
  assert.match(broken.detail, /master\.cf has no "mailbrige" service/)
  assert.equal(
    broken.fix,
    "postconf -M -e 'mailbrige/unix=mailbrige unix - - y - 20 lmtp' && postfix reload",
  )
})

test('routing: an absolute socket path under a chrooted lmtp does not reach the edge', () => {
  const edge = { socketPath: SOCKET }
  const f = facts({ virtual_transport: `lmtp:unix:${SOCKET}` })
  const verdict = postfixRoutingCheck(f, lmtpRoutes(f, edge), edge, [])
  assert.equal(verdict.status, 'fail')
  const unchrooted = facts({ virtual_transport: `lmtp-plain:unix:${SOCKET}` })
  assert.equal(postfixRoutingCheck(unchrooted, lmtpRoutes(unchrooted, edge), edge, []).status, 'ok')
})

test('domains: Postfix must send exactly what the edge accepts', () => {
  const edge = { socketPath: SOCKET }
  const routed = (domains: string) => {
    const f = facts({
      virtual_transport: 'lmtp:unix:private/mailbridge-lmtp',
      virtual_mailbox_domains: domains,
    })
    return { f, routes: lmtpRoutes(f, edge) }
  }
  const same = routed('example.com, example.org')
  assert.equal(
    postfixDomainsCheck(same.f, same.routes, ['example.org', 'example.com']).status,
    'ok',
  )
  const extra = routed('example.com example.net')
  const bounce = postfixDomainsCheck(extra.f, extra.routes, ['example.com'])
  assert.equal(bounce.status, 'fail')
  assert.match(bounce.detail, /sends example\.net to the edge, which refuses it/)
  assert.match(bounce.fix ?? '', /^MAILBRIDGE_DOMAINS=example\.com,example\.net in /)
  const fewer = routed('example.com')
  const unsent = postfixDomainsCheck(fewer.f, fewer.routes, ['example.com', 'example.org'])
  assert.equal(unsent.status, 'fail')
  assert.match(unsent.fix ?? '', /virtual_mailbox_domains = example\.com example\.org/)
  // The edge accepts every domain: whatever Postfix sends is fine.
  assert.equal(postfixDomainsCheck(extra.f, extra.routes, []).status, 'ok')
  // A table in virtual_mailbox_domains cannot be compared.
  const table = routed('hash:/etc/postfix/vdomains')
  assert.equal(postfixDomainsCheck(table.f, table.routes, ['example.com']).status, 'skip')
  assert.deepEqual(literalDomains('A.com,b.org'), ['a.com', 'b.org'])
})
