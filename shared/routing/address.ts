/**
 * Plus-addressing, as Postfix's `recipient_delimiter` and Postmark's `MailboxHash` have
 * it: `bob+news@example.com` is bob's mail, tagged `news`. Pure.
 */

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
 */
export function splitAddress(address: string, delimiters: string): SplitAddress {
  const at = address.lastIndexOf('@')
  const local = at < 0 ? address : address.slice(0, at)
  const domain = domainOf(address)
  const suffix = at < 0 ? '' : `@${domain}`
  let cut = -1
  for (let i = 1; i < local.length - 1 && cut < 0; i++) {
    if (delimiters.includes(local[i] as string)) cut = i
  }
  if (cut < 0) return { local, domain, base: `${local}${suffix}`, hash: null }
  return { local, domain, base: `${local.slice(0, cut)}${suffix}`, hash: local.slice(cut + 1) }
}
