/**
 * Judging Postfix's settings: does some transport send mail to this edge, over the socket or
 * TCP port it listens on, for the domains it accepts? Pure: ../postfix/postconf.ts reads the
 * postconf output, this turns it into verdicts with the lines to change.
 */

import { domainOf } from '../../../shared/routing/address.ts'
import {
  type EdgeListeners,
  edgeNexthop,
  isChrooted,
  type LmtpRoute,
  literalDomains,
  type PostfixFacts,
} from '../postfix/postconf.ts'
import { type CheckResult, DEFAULT_ENV_FILE, fail, ok, RESTART_EDGE, skip } from './report.ts'

const ROUTING = 'postfix routing'
const DOMAINS = 'postfix domains'
// Postfix's default virtual_transport: free to point at the edge.
const DEFAULT_VIRTUAL_TRANSPORT = 'virtual'

function describe(route: LmtpRoute): string {
  const where =
    route.key === undefined
      ? `${route.source} = ${route.value}`
      : `${route.source} → ${route.value}`
  if (!route.service) return where
  return `${where} (master.cf ${route.service.name} ${route.service.type} ${route.service.command}, chroot ${isChrooted(route.service) ? 'y' : 'n'})`
}

/** The main.cf lines (as a `postconf -e` command) that route `domains` to the edge. */
function routingFix(facts: PostfixFacts, edge: EdgeListeners, domains: readonly string[]): string {
  const queueDirectory = facts.params.queue_directory
  const nexthop = edge.socketPath
    ? edgeNexthop({ socketPath: edge.socketPath }, queueDirectory)
    : edge.tcp
      ? edgeNexthop({ tcp: edge.tcp }, queueDirectory)
      : undefined
  if (nexthop === undefined) return 'configure a socket or TCP listener for the edge first'
  const list = domains.length > 0 ? domains.join(' ') : 'example.com'
  const yours = domains.length > 0 ? '' : ' (example.com: your domains)'
  const virtual = facts.params.virtual_transport ?? DEFAULT_VIRTUAL_TRANSPORT
  const recommended = 'or print the recommended lines: mailbridge postfix-config'
  if (virtual === DEFAULT_VIRTUAL_TRANSPORT || virtual === '') {
    return [
      `postconf -e 'virtual_mailbox_domains = ${list}' 'virtual_transport = lmtp:${nexthop}' && postfix reload${yours}`,
      recommended,
    ].join('\n')
  }
  // virtual_transport already serves other domains (Dovecot…): route ours by transport_maps.
  return [
    `virtual_transport serves other domains: route these by transport_maps${yours}, e.g. /etc/postfix/transport:`,
    ...list.split(' ').map((domain) => `  ${domain}  lmtp:${nexthop}`),
    `then postmap /etc/postfix/transport, add hash:/etc/postfix/transport to transport_maps,`,
    `add the domains to virtual_mailbox_domains, and postfix reload; ${recommended}`,
  ].join('\n')
}

/** Whether any transport sends mail to the edge's socket or TCP listener. */
export function postfixRoutingCheck(
  facts: PostfixFacts,
  routes: readonly LmtpRoute[],
  edge: EdgeListeners,
  domains: readonly string[],
): CheckResult {
  const unread = facts.tables.filter((table) => table.error !== undefined)
  const note =
    unread.length > 0
      ? `; not read: ${unread.map((t) => `${t.table} (${t.error})`).join(', ')}`
      : ''
  const toEdge = routes.filter((route) => route.toEdge)
  const missingService = toEdge.find((route) => !route.service)
  if (missingService) {
    const name = missingService.transport
    return fail(
      ROUTING,
      `${describe(missingService)}, but master.cf has no "${name}" service`,
      `postconf -M -e '${name}/unix=${name} unix - - y - 20 lmtp' && postfix reload`,
    )
  }
  if (toEdge.length > 0) return ok(ROUTING, `${toEdge.map(describe).join('; ')}${note}`)
  const elsewhere = routes.map(describe)
  return fail(
    ROUTING,
    `no transport sends mail to the edge${elsewhere.length > 0 ? `; LMTP goes to: ${elsewhere.join('; ')}` : ''}${note}`,
    routingFix(facts, edge, domains),
  )
}

/** The domains a route to the edge carries, or undefined when they cannot be told. */
function routedDomains(route: LmtpRoute, facts: PostfixFacts): string[] | undefined {
  if (route.key !== undefined) {
    if (route.key === '*') return undefined
    const key = route.key.toLowerCase()
    return [key.includes('@') ? domainOf(key) : key.replace(/^\./, '')]
  }
  if (route.source === 'virtual_transport') {
    return literalDomains(facts.params.virtual_mailbox_domains)
  }
  return undefined
}

/**
 * Whether Postfix sends the edge exactly the domains it accepts: a domain Postfix sends but
 * the edge refuses bounces (550 5.1.2); one the edge accepts but Postfix never sends is lost
 * to another transport.
 */
export function postfixDomainsCheck(
  facts: PostfixFacts,
  routes: readonly LmtpRoute[],
  edgeDomains: readonly string[],
  envFile = DEFAULT_ENV_FILE,
): CheckResult {
  const toEdge = routes.filter((route) => route.toEdge && route.service)
  if (toEdge.length === 0) return skip(DOMAINS, 'no transport sends mail to the edge')
  const routed = new Set<string>()
  for (const route of toEdge) {
    const domains = routedDomains(route, facts)
    if (domains === undefined) {
      return skip(
        DOMAINS,
        `${route.source} takes its domains from a table or a wildcard: not compared`,
      )
    }
    for (const domain of domains) routed.add(domain)
  }
  const sent = [...routed].sort()
  if (edgeDomains.length === 0) {
    return ok(
      DOMAINS,
      `Postfix sends ${sent.join(', ') || 'no domain'}; the edge accepts every domain`,
    )
  }
  const refused = sent.filter((domain) => !edgeDomains.includes(domain))
  if (refused.length > 0) {
    return fail(
      DOMAINS,
      `Postfix sends ${refused.join(', ')} to the edge, which refuses it (550 5.1.2): that mail bounces`,
      `MAILBRIDGE_DOMAINS=${[...edgeDomains, ...refused].join(',')} in ${envFile}, then ${RESTART_EDGE}`,
    )
  }
  const unsent = edgeDomains.filter((domain) => !routed.has(domain))
  if (unsent.length > 0) {
    const viaVirtual = toEdge.some((route) => route.source === 'virtual_transport')
    return fail(
      DOMAINS,
      `the edge accepts ${unsent.join(', ')}, but Postfix does not send it there`,
      viaVirtual
        ? `postconf -e 'virtual_mailbox_domains = ${[...sent, ...unsent].join(' ')}' && postfix reload`
        : `add ${unsent.join(', ')} to the transport_maps table that routes to the edge, postmap it, postfix reload`,
    )
  }
  return ok(DOMAINS, `Postfix sends ${sent.join(', ')}; the edge accepts them`)
}
