/**
 * Which addresses a webhook may reach: the SSRF policy, pure. A webhook URL is chosen by
 * whoever holds an API key, and the deliverer runs inside the operator's network (on AWS,
 * next to the instance metadata service at 169.254.169.254), so every address a host name
 * resolves to is classified before a socket is opened to it.
 *
 * Addresses are compared as bytes, never as text: `::ffff:127.0.0.1`, `::ffff:7f00:1`,
 * `64:ff9b::7f00:1` and `2002:7f00:1::` all reach (or name) 127.0.0.1, and the WHATWG URL
 * parser has already turned `2130706433`, `0x7f.1` and `0177.0.0.1` into `127.0.0.1`.
 */
import { isIP } from 'node:net'

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
  /** Network bytes (4 or 16). */
  net: number[]
  bits: number
  kind: Kind
  why: string
}

function v4(text: string, bits: number, kind: Kind, why: string): Range {
  return { net: text.split('.').map(Number), bits, kind, why }
}

// IANA IPv4 special-purpose registry (RFC 6890 and successors): nothing here is a
// webhook receiver on the internet.
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

function v6(text: string, bits: number, kind: Kind, why: string): Range {
  return { net: [...(parseIpv6(text) ?? [])], bits, kind, why }
}

// IPv6 ranges refused outright; the forms that embed an IPv4 address (mapped, NAT64,
// 6to4, IPv4-compatible) are unwrapped first and judged by that address.
const IPV6_RANGES: Range[] = [
  v6('::', 128, 'never', 'the unspecified address'),
  v6('::1', 128, 'loopback', 'the loopback address'),
  v6('100::', 64, 'never', 'a discard-only address (RFC 6666)'),
  v6('2001::', 32, 'never', 'a Teredo address (RFC 4380)'),
  v6('2001:db8::', 32, 'never', 'a documentation address (RFC 3849)'),
  v6('fc00::', 7, 'private', 'a unique local address (RFC 4193)'),
  v6('fe80::', 10, 'never', 'a link-local address'),
  v6('fec0::', 10, 'never', 'a site-local address (deprecated, RFC 3879)'),
  v6('ff00::', 8, 'never', 'a multicast address'),
]

function inRange(bytes: Uint8Array, range: Range): boolean {
  let bits = range.bits
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff
    if (((bytes[i] ?? 0) & mask) !== ((range.net[i] ?? 0) & mask)) return false
  }
  return true
}

function parseIpv4(text: string): Uint8Array | undefined {
  if (isIP(text) !== 4) return undefined
  return Uint8Array.from(text.split('.').map(Number))
}

/** The 16 bytes of an IPv6 address in any textual form (with `::`, a dotted tail, a zone). */
export function parseIpv6(input: string): Uint8Array | undefined {
  const text = input.replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  if (isIP(text) !== 6) return undefined
  let groups: number[] = []
  const [head = '', tail] = text.split('::') as [string, string | undefined]
  const words = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((word) => {
          if (!word.includes('.')) return [Number.parseInt(word, 16)]
          const [a = 0, b = 0, c = 0, d = 0] = word.split('.').map(Number)
          return [(a << 8) | b, (c << 8) | d]
        })
  const left = words(head)
  if (tail === undefined) groups = left
  else {
    const right = words(tail)
    groups = [...left, ...Array(8 - left.length - right.length).fill(0), ...right]
  }
  const bytes = new Uint8Array(16)
  groups.forEach((word, i) => {
    bytes[2 * i] = word >> 8
    bytes[2 * i + 1] = word & 0xff
  })
  return bytes
}

/** The IPv4 address an IPv6 one stands for, when it is one of the forms that embed one. */
function embeddedIpv4(bytes: Uint8Array): Uint8Array | undefined {
  const zero = (from: number, to: number) => bytes.subarray(from, to).every((b) => b === 0)
  // ::ffff:a.b.c.d (mapped, RFC 4291) and ::a.b.c.d (IPv4-compatible, deprecated); :: and
  // ::1 are themselves and handled by the ranges.
  if (zero(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12)
  if (zero(0, 12) && !zero(12, 14)) return bytes.slice(12)
  // 64:ff9b::/96 (NAT64, RFC 6052) and 64:ff9b:1::/48 (local NAT64, RFC 8215).
  if (bytes[0] === 0 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b) {
    return bytes.slice(12)
  }
  // 2002:a.b.c.d::/48 (6to4, RFC 3056).
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return bytes.slice(2, 6)
  return undefined
}

function judge(bytes: Uint8Array, ranges: Range[], policy: AddressPolicy): string | undefined {
  const range = ranges.find((each) => inRange(bytes, each))
  if (range === undefined) return undefined
  if (range.kind === 'loopback' && policy.allowLoopback) return undefined
  if (range.kind === 'private' && policy.allowPrivate) return undefined
  return range.why
}

/**
 * Why `address` (an IP literal, v4 or v6) may not be reached under `policy`, or undefined
 * when it may. Anything that is not an IP literal is refused.
 */
export function refusalOf(address: string, policy: AddressPolicy): string | undefined {
  const four = parseIpv4(address)
  if (four) return judge(four, IPV4_RANGES, policy)
  const six = parseIpv6(address)
  if (!six) return 'not an IP address'
  const inner = embeddedIpv4(six)
  if (inner) {
    const why = judge(inner, IPV4_RANGES, policy)
    return why && `${why}, written as IPv6`
  }
  return judge(six, IPV6_RANGES, policy)
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
  // A user name or password in the URL would be listed with the endpoint and sent nowhere
  // (undici refuses it): the receiver should check the signature instead.
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
