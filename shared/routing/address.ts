/**
 * Plus-addressing, as Postfix's `recipient_delimiter` and Postmark's `MailboxHash` have
 * it: `bob+news@example.com` is bob's mail, tagged `news`. Pure.
 */
import { domainToASCII } from 'node:url'

/**
 * The address with its domain in ASCII (IDNA: `xn--` labels, lower-cased), the form Postfix
 * writes and DNS knows: smtp-server hands an internationalised domain over in Unicode, and
 * a user may type either. Unchanged when the domain is ASCII already, or no valid IDN.
 */
export function withAsciiDomain(address: string): string {
  const at = address.lastIndexOf('@')
  const domain = address.slice(at + 1)
  if (at < 0 || /^[ -~]*$/.test(domain)) return address
  const ascii = domainToASCII(domain)
  return ascii === '' ? address : `${address.slice(0, at + 1)}${ascii}`
}

/** A domain in ASCII (`xn--` labels) and lower-cased, however it was spelled. */
export function asciiDomain(domain: string): string {
  return domainOf(withAsciiDomain(`@${domain}`))
}

/** The domain of an address (after its last `@`), lower-cased; `""` when there is none. */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@')
  return at < 0 ? '' : address.slice(at + 1).toLowerCase()
}

export interface SplitAddress {
  /** The local part as written. */
  local: string
  /** The domain, lower-cased; `""` when there is none. */
  domain: string
  /** The address without its tag: `bob@example.com`. */
  base: string
  /** The tag, as written (`news`), or null when there is none. */
  hash: string | null
}

/**
 * Splits `address` at the first delimiter character of its local part (several may be
 * configured: `+-` splits at whichever comes first, as Postfix does). A local part that
 * begins with a delimiter, or has nothing after it, is not split: `+@x` and `bob+@x` are
 * addresses of their own. An empty `delimiters` turns plus-addressing off.
 *
 * A quoted local part (`"a,b+tag"@x`, which Postfix keeps quoted when it holds specials) is
 * split inside its quotes, and the base quoted again only if it still needs to be:
 * `"a,b"@x`, but `"bob+x y"@x` is bob@x's.
 */
export function splitAddress(address: string, delimiters: string): SplitAddress {
  const at = address.lastIndexOf('@')
  const local = at < 0 ? address : address.slice(0, at)
  const domain = domainOf(address)
  const suffix = at < 0 ? '' : `@${domain}`
  const quoted = local.length > 2 && local.startsWith('"') && local.endsWith('"')
  const inner = quoted ? local.slice(1, -1) : local
  let cut = -1
  for (let i = 1; i < inner.length - 1 && cut < 0; i++) {
    if (delimiters.includes(inner[i] as string)) cut = i
  }
  if (cut < 0) return { local, domain, base: `${local}${suffix}`, hash: null }
  const base = inner.slice(0, cut)
  const baseLocal = quoted && !DOT_STRING.test(base) ? `"${base}"` : base
  return { local, domain, base: `${baseLocal}${suffix}`, hash: inner.slice(cut + 1) }
}

// RFC 5321's Dot-string (atoms of atext joined by dots), with SMTPUTF8's non-ASCII: a local
// part that needs no quotes.
const DOT_STRING =
  /^[\w!#$%&'*+/=?^`{|}~\u0080-\u{10FFFF}-]+(\.[\w!#$%&'*+/=?^`{|}~\u0080-\u{10FFFF}-]+)*$/u
