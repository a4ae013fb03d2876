/** The Postfix lines `mailbridge postfix-config` prints, checked line by line. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseMasterCf } from '../../edge/ops/postfix/postconf.ts'
import { postfixConfig } from '../../edge/ops/postfix/render-config.ts'

/** The non-comment lines under a `# /etc/…` header, up to the next blank line. */
function section(text: string, header: string, occurrence = 0): string[] {
  const blocks = text.split(/\n\n/).filter((block) => block.startsWith(header))
  const block = blocks[occurrence]
  assert.ok(block, `no ${header} section`)
  return block.split('\n').filter((line) => line && !line.startsWith('#'))
}

test('UNIX socket inside the queue directory: relative nexthop, chrooted transport, owner postfix', () => {
  const text = postfixConfig({
    socketPath: '/var/spool/postfix/private/mailbridge-lmtp',
    domains: ['example.com', 'example.org'],
  })
  assert.deepEqual(section(text, '# /etc/mailbridge/edge.env'), [
    'MAILBRIDGE_LMTP_SOCKET=/var/spool/postfix/private/mailbridge-lmtp',
    'MAILBRIDGE_LMTP_SOCKET_MODE=0600',
    'MAILBRIDGE_LMTP_SOCKET_OWNER=postfix',
    'MAILBRIDGE_LMTP_SOCKET_GROUP=postfix',
    'MAILBRIDGE_LMTP_PORT=off',
    'MAILBRIDGE_DOMAINS=example.com,example.org',
  ])
  assert.deepEqual(section(text, '# /etc/postfix/main.cf'), [
    'virtual_mailbox_domains = example.com, example.org',
    'virtual_transport = mailbridge:unix:private/mailbridge-lmtp',
    'mailbridge_destination_recipient_limit = 50',
  ])
  const master = section(text, '# /etc/postfix/master.cf')
  assert.deepEqual(master, [
    'mailbridge unix  -       -       y       -       20      lmtp',
    '  -o syslog_name=postfix/mailbridge',
  ])
  // The entry parses as postconf -M would print it: an lmtp service, chrooted, 20 processes.
  const [service] = parseMasterCf(master.join(' '))
  assert.deepEqual(service, {
    name: 'mailbridge',
    type: 'unix',
    chroot: 'y',
    command: 'lmtp',
    args: ['-o', 'syslog_name=postfix/mailbridge'],
  })
  assert.doesNotMatch(text, /over TCP|inet:/)
  assert.match(text, /postfix check && postfix reload/)
})

test('a socket outside the queue directory: absolute nexthop and an unchrooted transport', () => {
  const text = postfixConfig({
    socketPath: '/run/mailbridge/lmtp',
    domains: ['example.com'],
    postfixUser: 'mail',
  })
  assert.ok(
    section(text, '# /etc/postfix/main.cf').includes(
      'virtual_transport = mailbridge:unix:/run/mailbridge/lmtp',
    ),
  )
  assert.match(
    section(text, '# /etc/postfix/master.cf')[0] ?? '',
    /^mailbridge unix +- +- +n +- +20 +lmtp$/,
  )
  assert.ok(
    section(text, '# /etc/mailbridge/edge.env').includes('MAILBRIDGE_LMTP_SOCKET_OWNER=mail'),
  )
})

test('another queue directory moves the relative nexthop with it', () => {
  const text = postfixConfig({
    socketPath: '/srv/postfix-queue/private/mb',
    queueDirectory: '/srv/postfix-queue',
    domains: ['example.com'],
  })
  assert.ok(
    section(text, '# /etc/postfix/main.cf').includes(
      'virtual_transport = mailbridge:unix:private/mb',
    ),
  )
})

test('TCP: numeric nexthop, both setups when both are given, placeholder domain when none', () => {
  const text = postfixConfig({
    socketPath: '/var/spool/postfix/private/mailbridge-lmtp',
    tcp: { host: '127.0.0.1', port: 2424 },
    domains: [],
  })
  assert.match(text, /^# Two setups follow: use one of them\./)
  assert.deepEqual(section(text, '# /etc/postfix/main.cf', 1), [
    'virtual_mailbox_domains = example.com',
    'virtual_transport = mailbridge:inet:127.0.0.1:2424',
    'mailbridge_destination_recipient_limit = 50',
  ])
  assert.deepEqual(section(text, '# /etc/mailbridge/edge.env', 1), [
    'MAILBRIDGE_LMTP_HOST=127.0.0.1',
    'MAILBRIDGE_LMTP_PORT=2424',
    'MAILBRIDGE_DOMAINS=example.com',
  ])
  assert.match(text, /example\.com stands for your domains/)
})

test('IPv6 and wildcard listeners, and a recipient limit never above the edge’s', () => {
  const v6 = postfixConfig({
    tcp: { host: '::1', port: 2424 },
    domains: ['example.com'],
    maxRecipients: 10,
  })
  const main = section(v6, '# /etc/postfix/main.cf')
  assert.ok(main.includes('virtual_transport = mailbridge:inet:[::1]:2424'))
  assert.ok(main.includes('inet_protocols = all'))
  assert.ok(main.includes('mailbridge_destination_recipient_limit = 10'))
  const any = postfixConfig({ tcp: { host: '0.0.0.0', port: 2424 }, domains: ['example.com'] })
  assert.ok(
    section(any, '# /etc/postfix/main.cf').includes(
      'virtual_transport = mailbridge:inet:127.0.0.1:2424',
    ),
  )
  assert.match(any, /prefer 127\.0\.0\.1/)
})
