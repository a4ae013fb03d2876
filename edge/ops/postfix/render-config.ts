/**
 * The lines `mailbridge postfix-config` prints: the edge's settings and the main.cf and
 * master.cf lines that make Postfix deliver to it, over a UNIX socket or TCP. Pure.
 *
 * Each piece was run against Postfix 3.7 (test/e2e/mailbridge-cli.test.ts delivers through
 * exactly these lines):
 * - a transport of its own (`mailbridge unix - - y - 20 lmtp`) runs Postfix's lmtp client
 *   with its own process limit, its own `mailbridge_destination_*` limits and its own name
 *   in the mail log (`-o syslog_name=postfix/mailbridge`);
 * - `unix:private/NAME` is relative to the queue directory, where Postfix daemons run, and
 *   where a chrooted one (chroot `y`, as Debian's own lmtp entry) is locked in;
 * - `virtual_mailbox_domains` without `virtual_mailbox_maps` accepts every address of those
 *   domains (smtpd_reject_unlisted_recipient skips a null map), as the edge does.
 */
import { DEFAULT_QUEUE_DIRECTORY, edgeNexthop, isAnyAddress, isInside } from './postconf.ts'

// The master.cf service name of the transport.
const TRANSPORT = 'mailbridge'
// Postfix's own default_destination_recipient_limit: recipients per LMTP transaction.
const POSTFIX_RECIPIENT_LIMIT = 50
// At most this many lmtp processes deliver to the edge at once (master.cf maxproc); the
// edge serves up to 100 sessions.
const PROCESS_LIMIT = 20

export interface PostfixConfigOptions {
  /** The edge's socket; prints the UNIX-socket setup. */
  socketPath?: string
  /** The edge's TCP listener; prints the TCP setup. */
  tcp?: { host: string; port: number }
  /** Recipient domains; empty prints example.com as a placeholder. */
  domains: readonly string[]
  /** Postfix's queue_directory. */
  queueDirectory?: string
  /** The user Postfix's LMTP client runs as (mail_owner). */
  postfixUser?: string
  /** The edge's MAILBRIDGE_MAX_RECIPIENTS; the recipient limit never goes above it. */
  maxRecipients?: number
}

function masterCfLines(chroot: 'y' | 'n'): string[] {
  return [
    `${TRANSPORT} unix  -       -       ${chroot}       -       ${PROCESS_LIMIT}      lmtp`,
    `  -o syslog_name=postfix/${TRANSPORT}`,
  ]
}

function mainCfLines(domains: readonly string[], nexthop: string, limit: number): string[] {
  const placeholder = domains.length === 0
  return [
    '# Postfix is the final destination of these domains (keep them out of mydestination)',
    '# and hands their mail to mailbridge. Without virtual_mailbox_maps every address in',
    '# them is accepted, as the edge accepts every address of its domains.',
    ...(placeholder
      ? ['# example.com stands for your domains (MAILBRIDGE_DOMAINS is unset).']
      : []),
    `virtual_mailbox_domains = ${placeholder ? 'example.com' : domains.join(', ')}`,
    `virtual_transport = ${TRANSPORT}:${nexthop}`,
    '# Recipients per LMTP transaction; the edge queues one message per transaction.',
    `${TRANSPORT}_destination_recipient_limit = ${limit}`,
  ]
}

function domainsLine(domains: readonly string[]): string {
  return `MAILBRIDGE_DOMAINS=${domains.length === 0 ? 'example.com' : domains.join(',')}`
}

function socketSetup(path: string, options: PostfixConfigOptions, limit: number): string[] {
  const queueDirectory = options.queueDirectory ?? DEFAULT_QUEUE_DIRECTORY
  const user = options.postfixUser ?? 'postfix'
  const chrooted = isInside(path, queueDirectory)
  const nexthop = edgeNexthop({ socketPath: path }, queueDirectory)
  return [
    '# ── Postfix → mailbridge edge over a UNIX socket (recommended) ──',
    '',
    '# /etc/mailbridge/edge.env',
    chrooted
      ? `# Inside Postfix's queue directory (${queueDirectory}), where its chrooted LMTP client can reach it,`
      : `# Outside Postfix's queue directory (${queueDirectory}): the transport below must not be chrooted,`,
    `# owned by ${user} with mode 0600, as Dovecot's unix_listener is set up.`,
    `MAILBRIDGE_LMTP_SOCKET=${path}`,
    'MAILBRIDGE_LMTP_SOCKET_MODE=0600',
    `MAILBRIDGE_LMTP_SOCKET_OWNER=${user}`,
    `MAILBRIDGE_LMTP_SOCKET_GROUP=${user}`,
    '# No TCP listener needed.',
    'MAILBRIDGE_LMTP_PORT=off',
    domainsLine(options.domains),
    '',
    '# /etc/postfix/main.cf',
    ...mainCfLines(options.domains, nexthop, limit),
    '',
    '# /etc/postfix/master.cf: a transport of its own (own process limit, own log name).',
    chrooted
      ? `# chroot y as Debian's lmtp entry: ${nexthop.slice('unix:'.length)} is relative to ${queueDirectory} either way.`
      : '# chroot n: a chrooted client would look for the socket inside the queue directory.',
    ...masterCfLines(chrooted ? 'y' : 'n'),
  ]
}

function tcpSetup(
  tcp: { host: string; port: number },
  options: PostfixConfigOptions,
  limit: number,
): string[] {
  const nexthop = edgeNexthop({ tcp }, options.queueDirectory)
  return [
    '# ── Postfix → mailbridge edge over TCP ──',
    '',
    '# /etc/mailbridge/edge.env',
    ...(isAnyAddress(tcp.host)
      ? [
          '# Listening on every address lets any host that reaches this port deliver: prefer 127.0.0.1.',
        ]
      : []),
    `MAILBRIDGE_LMTP_HOST=${tcp.host}`,
    `MAILBRIDGE_LMTP_PORT=${tcp.port}`,
    domainsLine(options.domains),
    '',
    '# /etc/postfix/main.cf',
    ...mainCfLines(options.domains, nexthop, limit),
    ...(tcp.host.includes(':')
      ? ['# An IPv6 address: inet_protocols must include ipv6.', 'inet_protocols = all']
      : []),
    '',
    '# /etc/postfix/master.cf: a transport of its own (own process limit, own log name).',
    ...masterCfLines('y'),
  ]
}

/** The whole text: the socket setup and/or the TCP setup, then the commands to apply them. */
export function postfixConfig(options: PostfixConfigOptions): string {
  const limit = Math.min(POSTFIX_RECIPIENT_LIMIT, options.maxRecipients ?? POSTFIX_RECIPIENT_LIMIT)
  const sections: string[][] = []
  if (options.socketPath !== undefined)
    sections.push(socketSetup(options.socketPath, options, limit))
  if (options.tcp !== undefined) sections.push(tcpSetup(options.tcp, options, limit))
  const lines: string[] = []
  if (sections.length > 1) lines.push('# Two setups follow: use one of them.', '')
  for (const section of sections) lines.push(...section, '')
  lines.push(
    '# Then apply and check:',
    '#   postfix check && postfix reload',
    '#   systemctl restart mailbridge-edge && mailbridge doctor',
  )
  return `${lines.join('\n')}\n`
}
