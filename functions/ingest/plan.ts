/**
 * What ingest does with one message, decided before anything is written: each
 * recipient routed (RouteTable), then gathered per mailbox and per endpoint. Pure.
 */
import type { WebhookJob } from '../../shared/contracts/webhook-job.ts'
import type { Decision, RouteTable } from '../../shared/routing/route-table.ts'

export interface MailboxPlan {
  /** The recipients stored in this mailbox, each once (compared case-insensitively). */
  rcptTo: string[]
  /** The plus-address tag of the first of them, or null. */
  mailboxHash: string | null
}

export interface DeliveryPlan {
  /** Mailbox → who lands there, in first-seen order. */
  mailboxes: Map<string, MailboxPlan>
  /** Endpoint → the recipients whose routes notify it. */
  notify: Map<string, string[]>
  /** Recipients a route dropped, with that route. */
  dropped: Array<{ rcpt: string; routeId: string }>
  /** Recipients no route matched (possible only once headers are known). */
  unrouted: string[]
  /** Route → how many recipients it matched. */
  matched: Map<string, number>
  /** Recipient → its decision, each recipient once. */
  decisions: Map<string, Decision>
}

function addOnce(list: string[], rcpt: string): void {
  const lower = rcpt.toLowerCase()
  if (!list.some((other) => other.toLowerCase() === lower)) list.push(rcpt)
}

export function planDelivery(
  routes: RouteTable,
  envelope: { mailFrom: string; rcptTo: string[] },
  headers: ReadonlyArray<{ name: string; value: string }>,
  /** The delimiters the edge split the recipients with, when it said. */
  delimiters?: string,
): DeliveryPlan {
  const plan: DeliveryPlan = {
    mailboxes: new Map(),
    notify: new Map(),
    dropped: [],
    unrouted: [],
    matched: new Map(),
    decisions: new Map(),
  }
  for (const rcpt of envelope.rcptTo) {
    const key = rcpt.toLowerCase()
    if (plan.decisions.has(key)) continue
    const decision = routes.decide({
      recipient: rcpt,
      sender: envelope.mailFrom,
      headers,
      delimiters,
    })
    plan.decisions.set(key, decision)
    for (const id of decision.routes) plan.matched.set(id, (plan.matched.get(id) ?? 0) + 1)
    if (decision.dropped !== undefined) {
      plan.dropped.push({ rcpt, routeId: decision.dropped })
      continue
    }
    if (decision.routes.length === 0) {
      plan.unrouted.push(rcpt)
      continue
    }
    for (const { mailbox } of decision.stores) {
      const entry = plan.mailboxes.get(mailbox) ?? { rcptTo: [], mailboxHash: decision.hash }
      // Each recipient is decided once (compared without case), so it is here once.
      entry.rcptTo.push(rcpt)
      plan.mailboxes.set(mailbox, entry)
    }
    for (const endpointId of decision.endpoints) {
      const list = plan.notify.get(endpointId) ?? []
      list.push(rcpt)
      plan.notify.set(endpointId, list)
    }
  }
  return plan
}

/**
 * `notify` with the endpoints that listen to a route (WebhookEndpoint.routes) added for
 * each recipient that route matched and did not drop: the same as a notify action.
 */
export function withRouteListeners(
  plan: Pick<DeliveryPlan, 'notify' | 'decisions'>,
  listeners: Map<string, string[]>,
): Map<string, string[]> {
  const notify = new Map([...plan.notify].map(([id, rcptTo]) => [id, [...rcptTo]]))
  for (const decision of plan.decisions.values()) {
    if (decision.dropped !== undefined) continue
    for (const routeId of decision.routes) {
      for (const endpointId of listeners.get(routeId) ?? []) {
        const list = notify.get(endpointId) ?? []
        addOnce(list, decision.recipient)
        notify.set(endpointId, list)
      }
    }
  }
  return notify
}

/**
 * The webhook jobs for one message: one per endpoint, whether it subscribes to a mailbox
 * the message landed in (`subscribers` holds each mailbox's own endpoints, `everywhere`
 * those of every mailbox) or a route notifies it. Each job names the mailboxes and the
 * recipients that concern its endpoint.
 */
export function planWebhookJobs(
  messageId: string,
  plan: Pick<DeliveryPlan, 'mailboxes' | 'notify' | 'decisions'>,
  subscribers: Map<string, string[]>,
  everywhere: string[],
): WebhookJob[] {
  const jobs = new Map<string, { mailboxes: string[]; rcptTo: string[] }>()
  const jobOf = (endpointId: string) => {
    const job = jobs.get(endpointId) ?? { mailboxes: [], rcptTo: [] }
    jobs.set(endpointId, job)
    return job
  }
  for (const [mailbox, { rcptTo }] of plan.mailboxes) {
    for (const endpointId of new Set([...everywhere, ...(subscribers.get(mailbox) ?? [])])) {
      const job = jobOf(endpointId)
      if (!job.mailboxes.includes(mailbox)) job.mailboxes.push(mailbox)
      for (const rcpt of rcptTo) addOnce(job.rcptTo, rcpt)
    }
  }
  for (const [endpointId, rcptTo] of plan.notify) {
    const job = jobOf(endpointId)
    for (const rcpt of rcptTo) {
      addOnce(job.rcptTo, rcpt)
      for (const { mailbox } of plan.decisions.get(rcpt.toLowerCase())?.stores ?? []) {
        if (!job.mailboxes.includes(mailbox)) job.mailboxes.push(mailbox)
      }
    }
  }
  return [...jobs].map(([endpointId, { mailboxes, rcptTo }]) => {
    const first = plan.decisions.get((rcptTo[0] ?? '').toLowerCase())
    return { v: 1, messageId, endpointId, mailboxes, rcptTo, mailboxHash: first?.hash ?? null }
  })
}
