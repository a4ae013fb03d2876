/** Which recipients the edge accepts. Pure: no I/O, tested directly. */
import { domainOf } from '../shared/routing/address.ts'

/**
 * True when mail for `address` is accepted: its domain is one of `domains` (already
 * lower-case), or `domains` is empty, which accepts every domain. A recipient without a
 * domain is never accepted: Postfix always qualifies addresses before LMTP.
 */
export function acceptsRecipient(address: string, domains: readonly string[]): boolean {
  const domain = domainOf(address)
  if (!domain) return false
  return domains.length === 0 || domains.includes(domain)
}
