/**
 * A route set compiled for evaluation, and the decision it makes for one recipient: the
 * mailboxes to store into, the endpoints to notify, or a drop. Pure: the edge asks it at
 * RCPT time (without headers), ingest again with the parsed headers.
 *
 * Order: routes by priority, then id, a total order. Every enabled route that matches
 * applies its actions, until one says `stop` or `drop`. Catch-all routes are evaluated,
 * in the same order, only when no other route matched.
 */
import type { Quota, Route, RouteAction } from '../contracts/route.ts'
import { mailboxName } from '../store/keys.ts'
import { domainOf, splitAddress } from './address.ts'
import {
  type Captures,
  captureNames,
  compilePattern,
  compileRegex,
  domainValue,
  exactValue,
  expand,
  type Matcher,
  placeholders,
} from './patterns.ts'

/** Placeholders every store template may use besides the pattern's named captures. */
const BUILTINS = ['local', 'domain', 'hash', 'address'] as const

/** The routes that apply when none were ever saved: every recipient in its own mailbox. */
export const DEFAULT_ROUTES: Route[] = [
  {
    id: 'default',
    priority: 1_000_000,
    description: 'Every recipient in its own mailbox. Delete it to refuse unrouted recipients.',
    enabled: true,
    match: { recipient: { type: 'catchAll' }, address: 'base' },
    actions: [{ type: 'store' }],
    origin: 'api',
    updatedAt: new Date(0).toISOString(),
  },
]

export interface RoutingInput {
  recipient: string
  /** MAIL FROM; `""` for the null sender. */
  sender: string
  /** The message's headers; undefined at RCPT time, when a header condition may still hold. */
  headers?: ReadonlyArray<{ name: string; value: string }>
  /** Plus-address delimiters to split with instead of the table's own. */
  delimiters?: string | undefined
}

export interface StoreTarget {
  /** The mailbox name: lower-cased. */
  mailbox: string
  routeId: string
  /** The quotas that apply: the route's and the mailbox's own; each must hold. */
  quotas: Quota[]
}

export interface Decision {
  recipient: string
  /** The recipient without its plus-address tag. */
  base: string
  /** The plus-address tag (Postmark's MailboxHash), or null. */
  hash: string | null
  /** Ids of the routes that matched, in the order they applied. */
  routes: string[]
  /** Where to store it, each mailbox once. */
  stores: StoreTarget[]
  /** Endpoints to notify, each once. */
  endpoints: string[]
  /** The route that dropped it, when one did: then nothing is stored or notified. */
  dropped?: string
}

/** True when some route wants the recipient: it is accepted (and maybe dropped). */
export function isAccepted(decision: Decision): boolean {
  return decision.routes.length > 0
}

interface CompiledRoute {
  route: Route
  /** Position in evaluation order. */
  rank: number
  recipient: Matcher | undefined
  sender: Matcher | undefined
  header: { name: string; pattern: ReturnType<typeof compileRegex> } | undefined
}

function compileRoute(route: Route, rank: number): CompiledRoute {
  const { recipient, sender, header } = route.match
  return {
    route,
    rank,
    recipient: recipient.type === 'catchAll' ? undefined : compilePattern(recipient),
    sender: sender && compilePattern(sender),
    header: header && { name: header.name.toLowerCase(), pattern: compileRegex(header.pattern) },
  }
}

/** Routes by priority, then id: the order they are evaluated in. */
export function sortRoutes<T extends Pick<Route, 'priority' | 'id'>>(routes: readonly T[]): T[] {
  return [...routes].sort((a, b) =>
    a.priority !== b.priority ? a.priority - b.priority : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
  )
}

/** The key of an exact or domain route in its index: what it tests, and the value. */
const indexKey = (address: 'base' | 'full', value: string) => `${address} ${value}`

export class RouteTable {
  // Exact and domain routes are looked up, not tried one by one: with a thousand routes,
  // mostly addresses and domains, a decision tests only the few wildcards and regexes.
  readonly #exact = new Map<string, CompiledRoute[]>()
  readonly #domain = new Map<string, CompiledRoute[]>()
  readonly #scanned: CompiledRoute[] = []
  readonly #catchAll: CompiledRoute[] = []
  readonly size: number

  readonly #quotas: ReadonlyMap<string, Quota>

  /**
   * Compiles `routes` (disabled ones are left out); `delimiters` as splitAddress takes
   * them; `quotas` are the mailboxes' own, by mailbox.
   */
  constructor(
    routes: readonly Route[],
    readonly delimiters: string,
    quotas: Readonly<Record<string, Quota>> = {},
  ) {
    this.#quotas = new Map(Object.entries(quotas))
    const compiled = sortRoutes(routes.filter((route) => route.enabled)).map(compileRoute)
    this.size = compiled.length
    const index = (map: Map<string, CompiledRoute[]>, key: string, route: CompiledRoute) =>
      map.set(key, [...(map.get(key) ?? []), route])
    for (const route of compiled) {
      const { recipient, address } = route.route.match
      if (recipient.type === 'catchAll') this.#catchAll.push(route)
      else if (recipient.type === 'exact') {
        index(this.#exact, indexKey(address, exactValue(recipient.value)), route)
      } else if (recipient.type === 'domain') {
        index(this.#domain, indexKey(address, domainValue(recipient.value)), route)
      } else this.#scanned.push(route)
    }
  }

  decide(input: RoutingInput): Decision {
    const split = splitAddress(input.recipient, input.delimiters ?? this.delimiters)
    const decision: Decision = {
      recipient: input.recipient,
      base: split.base,
      hash: split.hash,
      routes: [],
      stores: [],
      endpoints: [],
    }
    const builtins: Captures = {
      local: split.local,
      domain: split.domain,
      hash: split.hash ?? '',
      address: input.recipient,
    }
    const run = (candidates: Array<{ compiled: CompiledRoute; captures: Captures }>) => {
      for (const { compiled, captures } of candidates) {
        if (!this.#conditionsHold(compiled, input)) continue
        decision.routes.push(compiled.route.id)
        if (apply(decision, compiled.route, { ...builtins, ...captures }, this.#quotas)) return
      }
    }
    run(this.#candidates(input.recipient, split.base))
    if (decision.routes.length === 0) {
      run(this.#catchAll.map((compiled) => ({ compiled, captures: {} })))
    }
    return decision
  }

  /** The ordinary routes whose recipient pattern matches, in evaluation order. */
  #candidates(full: string, base: string) {
    const tested = { full, base }
    const lower = { full: full.toLowerCase(), base: base.toLowerCase() }
    const found: Array<{ compiled: CompiledRoute; captures: Captures }> = []
    for (const address of ['base', 'full'] as const) {
      const keys = [
        this.#exact.get(indexKey(address, lower[address])),
        this.#domain.get(indexKey(address, domainOf(lower[address]))),
      ]
      for (const compiled of keys.flat()) {
        if (compiled) found.push({ compiled, captures: {} })
      }
    }
    for (const compiled of this.#scanned) {
      const address = compiled.route.match.address
      const captures = compiled.recipient?.(tested[address], lower[address])
      if (captures) found.push({ compiled, captures })
    }
    return found.sort((a, b) => a.compiled.rank - b.compiled.rank)
  }

  #conditionsHold(compiled: CompiledRoute, input: RoutingInput): boolean {
    if (compiled.sender && compiled.sender(input.sender) === null) return false
    if (compiled.header && input.headers) {
      const { name, pattern } = compiled.header
      return input.headers.some(
        (header) => header.name.toLowerCase() === name && pattern.matcher(header.value).find(),
      )
    }
    return true
  }
}

/** Applies a route's actions to the decision; true when evaluation stops here. */
function apply(
  decision: Decision,
  route: Route,
  values: Captures,
  mailboxQuotas: ReadonlyMap<string, Quota>,
): boolean {
  for (const action of route.actions) {
    switch (action.type) {
      case 'store': {
        const mailbox = mailboxName(action.mailbox ? expand(action.mailbox, values) : decision.base)
        if (mailbox && !decision.stores.some((store) => store.mailbox === mailbox)) {
          const quotas = [route.quota, mailboxQuotas.get(mailbox)].filter((q) => q !== undefined)
          decision.stores.push({ mailbox, routeId: route.id, quotas })
        }
        break
      }
      case 'notify':
        for (const id of action.endpoints) {
          if (!decision.endpoints.includes(id)) decision.endpoints.push(id)
        }
        break
      case 'drop':
        decision.dropped = route.id
        decision.stores = []
        decision.endpoints = []
        return true
      case 'stop':
        return true
    }
  }
  return false
}

/**
 * What is wrong with a route, in words for a 400: patterns RE2 cannot run, placeholders
 * the pattern does not capture, actions that contradict each other. Empty when it is fine.
 */
export function routeProblems(route: Pick<Route, 'match' | 'actions'>): string[] {
  const problems: string[] = []
  const regex = (where: string, source: string): string[] => {
    try {
      return captureNames(source)
    } catch (error) {
      problems.push(`${where}: not a regular expression RE2 can run: ${(error as Error).message}`)
      return []
    }
  }
  const { recipient, sender, header } = route.match
  const captures = recipient.type === 'regex' ? regex('match.recipient.value', recipient.value) : []
  if (sender?.type === 'regex') regex('match.sender.value', sender.value)
  if (header) regex('match.header.pattern', header.pattern)
  const known = new Set<string>([...BUILTINS, ...captures])
  route.actions.forEach((action: RouteAction, index) => {
    if (action.type !== 'store' || !action.mailbox) return
    for (const name of placeholders(action.mailbox)) {
      if (!known.has(name)) {
        problems.push(
          `actions.${index}.mailbox: {${name}} is neither a named capture of the recipient pattern nor one of ${BUILTINS.map((b) => `{${b}}`).join(', ')}`,
        )
      }
    }
  })
  const types = new Set(route.actions.map((action) => action.type))
  if (types.has('drop') && (types.has('store') || types.has('notify'))) {
    problems.push('actions: drop cannot be combined with store or notify')
  }
  if (!types.has('store') && !types.has('notify') && !types.has('drop')) {
    problems.push('actions: a route needs a store, notify or drop action')
  }
  return problems
}
