/**
 * Which addresses a webhook may reach: the SSRF policy, pure. A webhook URL is chosen by
 * whoever holds an API key, and the deliverer runs inside the operator's network (on AWS,
 * next to the instance metadata service at 169.254.169.254), so every address a host name
 * resolves to is classified before a socket is opened to it.
 *
 * Addresses are matched by `node:net`'s `BlockList`, never as text: `::ffff:127.0.0.1`,
 * `::ffff:7f00:1`, `64:ff9b::7f00:1` and `2002:7f00:1::` all reach (or name) 127.0.0.1, and
 * the WHATWG URL parser has already turned `2130706433`, `0x7f.1` and `0177.0.0.1` into
 * `127.0.0.1`.
 */
import { BlockList, isIP } from 'node:net'

/** What the deployment lets webhooks reach beyond the public internet. */
export interface AddressPolicy {
  /** `http:` URLs; otherwise `https:` only. Local mode and tests. */
  allowHttp: boolean
  /** Loopback (127.0.0.0/8, ::1, `localhost`): a receiver on the same machine. */
  allowLoopback: boolean
  /** Private ranges (RFC 1918, CGNAT, IPv6 ULA): a receiver on the same LAN or VPC. */
  allowPrivate: boolean
}

/** Production: https to public addresses only. */
export const STRICT_POLICY: AddressPolicy = {
  allowHttp: false,
  allowLoopback: false,
  allowPrivate: false,
}

/** Local mode and tests: a receiver on this machine over plain http. */
export const LOCAL_POLICY: AddressPolicy = {
  allowHttp: true,
  allowLoopback: true,
  allowPrivate: false,
}

type Kind = 'loopback' | 'private' | 'never'

interface Range {
  /** The range and, for an IPv4 one, every IPv6 form that embeds it. */
  list: BlockList
  kind: Kind
  why: string
  /** An IPv4 range: an IPv6 address in it is one of the forms that embed an IPv4 address. */
  ipv4: boolean
}

// IPv6 prefixes that embed an IPv4 address in their last 32 bits: IPv4-compatible (::/96,
// deprecated by RFC 4291), NAT64 (64:ff9b::/96, RFC 6052) and local NAT64 at the start of
// RFC 8215's 64:ff9b:1::/48 (a /96 elsewhere in it, chosen by the operator, is not known
// here). IPv4-mapped (::ffff:0:0/96) needs no entry: `BlockList` matches it against IPv4
// rules itself.
const EMBEDDING_PREFIXES = ['::', '64:ff9b::', '64:ff9b:1::']

/** The 6to4 prefix (RFC 3056) of an IPv4 network: 2002:aabb:ccdd::, the address in bits 16-47. */
function sixToFour(net: string): string {
  const [a = 0, b = 0, c = 0, d = 0] = net.split('.').map(Number)
  return `2002:${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}::`
}

function v4(net: string, bits: number, kind: Kind, why: string): Range {
  const list = new BlockList()
  list.addSubnet(net, bits, 'ipv4')
  for (const prefix of EMBEDDING_PREFIXES) list.addSubnet(prefix + net, 96 + bits, 'ipv6')
  list.addSubnet(sixToFour(net), 16 + bits, 'ipv6')
  return { list, kind, why, ipv4: true }
}

function v6(net: string, bits: number, kind: Kind, why: string): Range {
  const list = new BlockList()
  list.addSubnet(net, bits, 'ipv6')
  return { list, kind, why, ipv4: false }
}

// IPv6 ranges refused outright. They come first: `::` and `::1` also lie in the
// IPv4-compatible form of 0.0.0.0/8 but are themselves.
const IPV6_RANGES: Range[] = [
  v6('::', 128, 'never', 'the unspecified address'),
  v6('::1', 128, 'loopback', 'the loopback address'),
  v6('100::', 64, 'never', 'a discard-only address (RFC 6666)'),
  // An operator's own NAT64 may embed any IPv4 address, private ones included, at any /96
  // of it: none of it is trusted (a webhook receiver has a public address of its own).
  v6('64:ff9b:1::', 48, 'never', 'a local-use NAT64 address (RFC 8215)'),
  v6('2001::', 32, 'never', 'a Teredo address (RFC 4380)'),
  v6('2001:db8::', 32, 'never', 'a documentation address (RFC 3849)'),
  v6('fc00::', 7, 'private', 'a unique local address (RFC 4193)'),
  v6('fe80::', 10, 'never', 'a link-local address'),
  v6('fec0::', 10, 'never', 'a site-local address (deprecated, RFC 3879)'),
  v6('ff00::', 8, 'never', 'a multicast address'),
]

// IANA IPv4 special-purpose registry (RFC 6890 and successors): nothing here is a
// webhook receiver on the internet, whether written as IPv4 or embedded in IPv6.
const IPV4_RANGES: Range[] = [
  v4('0.0.0.0', 8, 'never', 'an unspecified ("this network") address'),
  v4('10.0.0.0', 8, 'private', 'a private address (RFC 1918)'),
  v4('100.64.0.0', 10, 'private', 'a carrier-grade NAT address (RFC 6598)'),
  v4('127.0.0.0', 8, 'loopback', 'a loopback address'),
  v4('169.254.0.0', 16, 'never', 'a link-local address (cloud metadata lives here)'),
  v4('172.16.0.0', 12, 'private', 'a private address (RFC 1918)'),
  v4('192.0.0.0', 24, 'never', 'an IETF protocol assignment (RFC 6890)'),
  v4('192.0.2.0', 24, 'never', 'a documentation address (RFC 5737)'),
  v4('192.88.99.0', 24, 'never', 'a 6to4 relay anycast address (RFC 7526)'),
  v4('192.168.0.0', 16, 'private', 'a private address (RFC 1918)'),
  v4('198.18.0.0', 15, 'never', 'a benchmarking address (RFC 2544)'),
  v4('198.51.100.0', 24, 'never', 'a documentation address (RFC 5737)'),
  v4('203.0.113.0', 24, 'never', 'a documentation address (RFC 5737)'),
  v4('224.0.0.0', 4, 'never', 'a multicast address'),
  v4('240.0.0.0', 4, 'never', 'a reserved or broadcast address'),
]

const RANGES = [...IPV6_RANGES, ...IPV4_RANGES]

/**
 * Why `address` (an IP literal, v4 or v6) may not be reached under `policy`, or undefined
 * when it may. Anything that is not an IP literal is refused.
 */
export function refusalOf(address: string, policy: AddressPolicy): string | undefined {
  // `BlockList` takes neither brackets nor a zone (`fe80::1%eth0`).
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  const family = isIP(address) === 4 ? 'ipv4' : isIP(bare) === 6 ? 'ipv6' : undefined
  if (family === undefined) return 'not an IP address'
  const range = RANGES.find((each) => each.list.check(bare, family))
  if (range === undefined) return undefined
  if (range.kind === 'loopback' && policy.allowLoopback) return undefined
  if (range.kind === 'private' && policy.allowPrivate) return undefined
  return range.ipv4 && family === 'ipv6' ? `${range.why}, written as IPv6` : range.why
}

/** Host names that always mean this machine (RFC 6761 §6.3), whatever DNS says. */
function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '')
  return name === 'localhost' || name.endsWith('.localhost')
}

/**
 * Why a webhook URL can never be delivered under `policy`, or undefined when it might:
 * the check at creation. A host name that resolves somewhere forbidden is only found out
 * when delivering (DNS changes), and is refused then, per connection.
 */
export function urlRefusal(raw: string, policy: AddressPolicy): string | undefined {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return 'is not an absolute URL'
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    return policy.allowHttp ? 'must be an http(s) URL' : 'must be an https URL'
  }
  // A user name or password in the URL would be listed with the endpoint to whoever reads
  // it: the receiver should check the signature instead.
  if (url.username !== '' || url.password !== '') {
    return 'must not hold a user name or password: webhooks are authenticated by signature'
  }
  if (url.hash !== '') return 'must not have a #fragment'
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (isIP(host) !== 0) {
    const why = refusalOf(host, policy)
    return why && `points at ${host}, ${why}`
  }
  if (isLocalhostName(host) && !policy.allowLoopback) return `points at ${host}, this machine`
  if (!host.includes('.') && !policy.allowPrivate && !isLocalhostName(host)) {
    return `host ${host} is not a public domain name`
  }
  return undefined
}
