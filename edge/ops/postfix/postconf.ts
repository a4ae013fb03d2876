/**
 * Postfix's settings as `postconf` and `postmap -s` print them, and which of them route mail
 * to this edge. Pure: the doctor runs the commands and hands their output in.
 *
 * Postfix facts this relies on (postconf(5), lmtp(8)):
 * - A transport value is `transport:nexthop`; the transport is a master.cf service, and it
 *   speaks LMTP when that service's command is `lmtp`.
 * - An LMTP nexthop is `unix:PATH`, `inet:HOST:PORT` or, without a prefix, a TCP destination.
 *   Since Postfix 3.5 several may be listed, separated by commas or spaces.
 * - Postfix daemons run with the queue directory as working directory, and a chrooted one
 *   (master.cf chroot column `y`) inside it: a relative `unix:` path, and for a chrooted
 *   client an absolute one too, is resolved from the queue directory.
 */
import { isAbsolute, join, normalize, relative } from 'node:path'

/** Postfix's queue_directory when it does not say (Debian's and the source's default). */
export const DEFAULT_QUEUE_DIRECTORY = '/var/spool/postfix'

// main.cf parameters whose value is a transport that can carry mail to the edge.
const ROUTING_PARAMETERS = [
  'virtual_transport',
  'mailbox_transport',
  'local_transport',
  'default_transport',
  'relay_transport',
] as const

/** Every main.cf parameter the doctor reads, in one `postconf -x` call. */
export const POSTCONF_PARAMETERS = [
  'queue_directory',
  'mail_owner',
  'virtual_mailbox_domains',
  'transport_maps',
  ...ROUTING_PARAMETERS,
] as const

// The LMTP port when a TCP nexthop names none (lmtp_tcp_port's default).
const DEFAULT_LMTP_PORT = 24

/** One master.cf service, as `postconf -M` prints it. */
export interface MasterService {
  name: string
  type: string
  /** `y`, `n` or `-`; `-` is `n` since Postfix 3.0. */
  chroot: string
  command: string
  /** The command's arguments, `-o` overrides included. */
  args: string[]
}

export type LmtpDestination =
  | { kind: 'unix'; path: string }
  | { kind: 'inet'; host: string; port: number }

/** Where the edge listens, from its config. */
export interface EdgeListeners {
  socketPath?: string
  tcp?: { host: string; port: number }
}

/** `name = value` lines (`postconf`, `postconf -x`) as a record. */
export function parsePostconf(output: string): Record<string, string> {
  const params: Record<string, string> = {}
  for (const line of output.split('\n')) {
    const match = /^([A-Za-z0-9_]+)\s*=\s?(.*)$/.exec(line)
    if (match?.[1] !== undefined) params[match[1]] = (match[2] ?? '').trim()
  }
  return params
}

/** The entries of `postconf -M` (one line each, fields separated by blanks). */
export function parseMasterCf(output: string): MasterService[] {
  const services: MasterService[] = []
  for (const line of output.split('\n')) {
    if (/^\s*(#|$)/.test(line)) continue
    const fields = line.trim().split(/\s+/)
    const [name, type, , , chroot, , , command, ...args] = fields
    if (command === undefined || name === undefined || type === undefined) continue
    services.push({ name, type, chroot: chroot ?? '-', command, args })
  }
  return services
}

/** `key value` lines of `postmap -s TABLE`. */
export function parseTableDump(output: string): { key: string; value: string }[] {
  const entries: { key: string; value: string }[] = []
  for (const line of output.split('\n')) {
    const match = /^(\S+)\s+(.+)$/.exec(line.trim())
    if (match?.[1] !== undefined && match[2] !== undefined) {
      entries.push({ key: match[1], value: match[2].trim() })
    }
  }
  return entries
}

/** The tables of a list parameter such as transport_maps (`hash:/etc/postfix/transport …`). */
export function splitTableList(value: string): string[] {
  return value.split(/[\s,]+/).filter((table) => table.includes(':'))
}

/** `lmtp:unix:private/x` → `{ transport: 'lmtp', nexthop: 'unix:private/x' }`. */
export function parseTransport(value: string): { transport: string; nexthop: string } {
  const colon = value.indexOf(':')
  if (colon < 0) return { transport: value.trim(), nexthop: '' }
  return { transport: value.slice(0, colon).trim(), nexthop: value.slice(colon + 1).trim() }
}

/** The destinations of an LMTP nexthop; an unparsable one is left out. */
export function parseLmtpNexthop(nexthop: string): LmtpDestination[] {
  const destinations: LmtpDestination[] = []
  for (const item of nexthop.split(/[\s,]+/).filter(Boolean)) {
    if (item.startsWith('unix:')) {
      destinations.push({ kind: 'unix', path: item.slice('unix:'.length) })
      continue
    }
    const rest = item.startsWith('inet:') ? item.slice('inet:'.length) : item
    // [address]:port, [ipv6:address]:port, host:port or host
    const bracketed = /^\[(?:ipv6:)?([^\]]+)\](?::(\d+))?$/i.exec(rest)
    const plain = /^([^:[\]]+)(?::(\d+))?$/.exec(rest)
    const match = bracketed ?? plain
    if (match?.[1] === undefined) continue
    destinations.push({
      kind: 'inet',
      host: match[1],
      port: match[2] === undefined ? DEFAULT_LMTP_PORT : Number(match[2]),
    })
  }
  return destinations
}

/** True when a master.cf chroot column means chrooted (`-` is `n` since Postfix 3.0). */
export function isChrooted(service: MasterService | undefined): boolean {
  return service?.chroot === 'y'
}

/** The file a `unix:` destination names, as seen from outside Postfix. */
export function socketFileOf(path: string, queueDirectory: string, chrooted: boolean): string {
  if (!isAbsolute(path) || chrooted) return normalize(join(queueDirectory, path))
  return normalize(path)
}

// A listener on every address is reached, from this host, through loopback.
const LOOPBACK_OF_ANY: Record<string, string> = { '0.0.0.0': '127.0.0.1', '::': '::1' }
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])

/** True for a wildcard listener address (`0.0.0.0`, `::`). */
export function isAnyAddress(host: string): boolean {
  return host in LOOPBACK_OF_ANY
}

/** The address to connect to a listener on `host` by: loopback for a wildcard. */
export function connectHost(host: string): string {
  return LOOPBACK_OF_ANY[host] ?? host
}

/** True when `path` lies below the directory `dir` (not merely shares its prefix). */
export function isInside(path: string, dir: string): boolean {
  return normalize(path).startsWith(`${normalize(dir).replace(/\/+$/, '')}/`)
}

/** True when a destination reaches one of the edge's listeners. */
export function reachesEdge(
  destination: LmtpDestination,
  edge: EdgeListeners,
  queueDirectory: string,
  chrooted: boolean,
): boolean {
  if (destination.kind === 'unix') {
    return (
      edge.socketPath !== undefined &&
      socketFileOf(destination.path, queueDirectory, chrooted) === normalize(edge.socketPath)
    )
  }
  const tcp = edge.tcp
  if (tcp === undefined || tcp.port !== destination.port) return false
  if (destination.host === tcp.host || isAnyAddress(tcp.host)) return true
  return LOOPBACK.has(destination.host) && LOOPBACK.has(tcp.host)
}

/** A place where Postfix's settings send mail over LMTP. */
export interface LmtpRoute {
  /** Where it is set: `virtual_transport`, or `transport_maps hash:/etc/postfix/transport (example.com)`. */
  source: string
  /** The key of a transport_maps entry (a domain, `.domain`, an address or `*`). */
  key?: string
  /** The transport value, e.g. `lmtp:unix:private/mailbridge-lmtp`. */
  value: string
  transport: string
  /** The master.cf service of that transport, when there is one. */
  service?: MasterService
  /** True when it reaches one of the edge's listeners. */
  toEdge: boolean
}

export interface PostfixFacts {
  /** From `postconf -x` over POSTCONF_PARAMETERS. */
  params: Record<string, string>
  services: MasterService[]
  /** Each transport_maps table dumped with `postmap -s`, or why it could not be. */
  tables: { table: string; entries?: { key: string; value: string }[]; error?: string }[]
}

/** The master.cf service a transport name runs (transports are `unix` services). */
export function transportService(facts: PostfixFacts, name: string): MasterService | undefined {
  return facts.services.find((s) => s.name === name && s.type === 'unix')
}

function routeOf(
  source: string,
  value: string,
  facts: PostfixFacts,
  edge: EdgeListeners,
  key?: string,
): LmtpRoute | undefined {
  const { transport, nexthop } = parseTransport(value)
  const service = transportService(facts, transport)
  const destinations = parseLmtpNexthop(nexthop)
  // A transport that is not in master.cf still counts when its nexthop looks like the
  // edge's: that is a route that fails, and the doctor should say so.
  if (service ? service.command !== 'lmtp' : transport === '' || destinations.length === 0) {
    return undefined
  }
  const queueDirectory = facts.params.queue_directory ?? DEFAULT_QUEUE_DIRECTORY
  const toEdge = destinations.some((d) => reachesEdge(d, edge, queueDirectory, isChrooted(service)))
  if (!service && !toEdge) return undefined
  return { source, key, value, transport, service, toEdge }
}

/** Every LMTP route in main.cf's transports and the transport_maps entries. */
export function lmtpRoutes(facts: PostfixFacts, edge: EdgeListeners): LmtpRoute[] {
  const routes: LmtpRoute[] = []
  for (const param of ROUTING_PARAMETERS) {
    const value = facts.params[param]
    if (!value) continue
    const route = routeOf(param, value, facts, edge)
    if (route) routes.push(route)
  }
  for (const table of facts.tables) {
    for (const entry of table.entries ?? []) {
      const source = `transport_maps ${table.table} (${entry.key})`
      const route = routeOf(source, entry.value, facts, edge, entry.key)
      if (route) routes.push(route)
    }
  }
  return routes
}

/**
 * The nexthop that reaches the edge from Postfix: `unix:private/NAME` for a socket inside the
 * queue directory (relative, so it works chrooted or not), the absolute path otherwise, or
 * `inet:HOST:PORT`, with an address the edge listens on when it listens on all of them.
 */
export function edgeNexthop(
  edge: { socketPath: string } | { tcp: { host: string; port: number } },
  queueDirectory = DEFAULT_QUEUE_DIRECTORY,
): string {
  if ('socketPath' in edge) {
    const path = normalize(edge.socketPath)
    return `unix:${isInside(path, queueDirectory) ? relative(queueDirectory, path) : path}`
  }
  const host = connectHost(edge.tcp.host)
  // Postfix takes [::1] as well as the [ipv6:::1] of lmtp(8); both were tried with 3.7.
  return `inet:${host.includes(':') ? `[${host}]` : host}:${edge.tcp.port}`
}

/** The literal domains of a domain-list parameter; undefined when it also names a table. */
export function literalDomains(value: string | undefined): string[] | undefined {
  const items = (value ?? '').split(/[\s,]+/).filter(Boolean)
  if (items.some((item) => item.includes(':') || item.startsWith('/'))) return undefined
  return items.map((item) => item.toLowerCase())
}
