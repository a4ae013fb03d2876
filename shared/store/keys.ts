/**
 * Where everything lives: the bucket's keys and the table's keys. Pure functions only,
 * the one place that knows the layout, so the edge, the functions and the API can never
 * disagree about it.
 *
 * The bucket holds bytes, each message once, under keys of bounded length (no address
 * in them, so S3's 1,024-byte limit holds whatever the address):
 *
 *   incoming/{id}.eml        raw message staged by the edge (too big for an SQS message)
 *   messages/{id}.eml        raw message as received over LMTP
 *   messages/{id}.json       its parse (ParsedMessage)
 *   routes/routes.json       the published route set (RouteSet), what the edge reads
 *
 * The table (one DynamoDB table, `pk` + `sk`) holds everything looked up:
 *
 *   pk                   sk                 what
 *   mbx#{mailbox}        m#{id}             mailbox entry: the summary, newest first by sk
 *   mbx#{mailbox}        meta               counters, the endpoints subscribed to it
 *   mailboxes            {mailbox}          the list of mailboxes, by address
 *   msg#{id}             refs               the mailboxes holding a message stored in several
 *   msg#{id}             dlv#{endpoint id}  where one notification stands (expires)
 *   webhooks             {endpoint id}      webhook endpoint with its secret
 *   webhooks             #all               endpoints subscribed to every mailbox
 *   webhooks             #route#{route id}  endpoints listening to that route
 *   wha#{endpoint id}    {at}#{nonce}       one attempt at a webhook, newest last (expires)
 *   whf#{endpoint id}    {message id}       a failed event, for replay since a time (expires)
 *   rcv#{fingerprint}    {mailbox}          which message a mailbox got for these bytes (expires)
 *   routes               r#{route id}       a route (JSON)
 *   routes               s#{route id}       its counters: matched, dropped (s##unrouted: none)
 *   routes               q#{mailbox}        a mailbox's own quota (JSON), published with the routes
 *   routes               #version           bumped by every change to the routes or quotas
 *
 * {mailbox} is mailboxKey(address): the address itself, or its start and a digest for one
 * too long for a DynamoDB key.
 */
import { createHash } from 'node:crypto'
import { withAsciiDomain } from '../routing/address.ts'

export const INCOMING_PREFIX = 'incoming/'
/** The published route set: the one object the edge reads besides writing incoming/. */
export const ROUTES_KEY = 'routes/routes.json'
export const MESSAGES_PREFIX = 'messages/'

/** Longest mailbox name kept as its own key, in UTF-8 bytes: a sort key may have 1,024. */
const MAX_KEY_BYTES = 800
/** What a longer name keeps of its start, so that keys still sort by address. */
const KEPT_BYTES = 700

/**
 * The mailbox name of a recipient address: lower-cased whole, its domain in ASCII (`xn--`,
 * as Postfix writes it, so that either spelling of an internationalised domain names one
 * mailbox). RFC 5321 lets a local part be case-sensitive, but no mail host in practice
 * treats `Bob@` and `bob@` as two people (Dovecot setups lower-case with %Lu), and two
 * mailboxes would surprise users.
 */
export function mailboxName(address: string): string {
  return withAsciiDomain(address.trim()).toLowerCase()
}

/**
 * The key of a mailbox in the table: its name, or, past MAX_KEY_BYTES, the start of the
 * name, `#` and the SHA-256 of the whole name (which is kept beside it in full).
 */
export function mailboxKey(mailbox: string): string {
  if (Buffer.byteLength(mailbox) <= MAX_KEY_BYTES) return mailbox
  let start = ''
  for (const char of mailbox) {
    if (Buffer.byteLength(start + char) > KEPT_BYTES) break
    start += char
  }
  return `${start}#${createHash('sha256').update(mailbox).digest('hex')}`
}

/** A short fixed-length reference to a mailbox, for sets of many mailboxes in one item. */
export function mailboxRef(mailbox: string): string {
  return createHash('sha256').update(mailbox).digest('base64url').slice(0, 22)
}

export function incomingRawKey(id: string): string {
  return `${INCOMING_PREFIX}${id}.eml`
}

/** True for a key incomingRawKey() makes: a staged message, and nothing else in the bucket. */
export function isIncomingRawKey(key: string): boolean {
  return /^incoming\/[0-9A-Z]{26}\.eml$/.test(key)
}

export function rawKey(id: string): string {
  return `${MESSAGES_PREFIX}${id}.eml`
}

export function parsedKey(id: string): string {
  return `${MESSAGES_PREFIX}${id}.json`
}

export interface TableKey {
  pk: string
  sk: string
}

export const keys = {
  entry: (mailbox: string, id: string): TableKey => ({ pk: mailboxPk(mailbox), sk: `m#${id}` }),
  mailboxMeta: (mailbox: string): TableKey => ({ pk: mailboxPk(mailbox), sk: 'meta' }),
  mailboxListing: (mailbox: string): TableKey => ({ pk: 'mailboxes', sk: mailboxKey(mailbox) }),
  refs: (id: string): TableKey => ({ pk: `msg#${id}`, sk: 'refs' }),
  delivery: (messageId: string, endpointId: string): TableKey => ({
    pk: `msg#${messageId}`,
    sk: `dlv#${endpointId}`,
  }),
  endpoint: (id: string): TableKey => ({ pk: 'webhooks', sk: id }),
  allMailboxesSubscription: (): TableKey => ({ pk: 'webhooks', sk: '#all' }),
  routeSubscription: (routeId: string): TableKey => ({ pk: 'webhooks', sk: `#route#${routeId}` }),
  route: (id: string): TableKey => ({ pk: ROUTES_PK, sk: `${ROUTE_PREFIX}${id}` }),
  routeStats: (id: string): TableKey => ({ pk: ROUTES_PK, sk: `${ROUTE_STATS_PREFIX}${id}` }),
  routesVersion: (): TableKey => ({ pk: ROUTES_PK, sk: '#version' }),
  mailboxQuota: (mailbox: string): TableKey => ({
    pk: ROUTES_PK,
    sk: `${QUOTA_PREFIX}${mailboxKey(mailbox)}`,
  }),
  attempt: (endpointId: string, at: string, nonce: string): TableKey => ({
    pk: attemptsPk(endpointId),
    sk: `${at}#${nonce}`,
  }),
  failedEvent: (endpointId: string, messageId: string): TableKey => ({
    pk: failedEventsPk(endpointId),
    sk: messageId,
  }),
  fingerprint: (fingerprint: string, mailbox: string): TableKey => ({
    pk: fingerprintPk(fingerprint),
    sk: mailboxKey(mailbox),
  }),
}

export function fingerprintPk(fingerprint: string): string {
  return `rcv#${fingerprint}`
}

export function attemptsPk(endpointId: string): string {
  return `wha#${endpointId}`
}

export function failedEventsPk(endpointId: string): string {
  return `whf#${endpointId}`
}

export function mailboxPk(mailbox: string): string {
  return `mbx#${mailboxKey(mailbox)}`
}

export const ENTRY_PREFIX = 'm#'
export const MAILBOXES_PK = 'mailboxes'
export const WEBHOOKS_PK = 'webhooks'
export const ROUTES_PK = 'routes'
export const ROUTE_PREFIX = 'r#'
export const ROUTE_STATS_PREFIX = 's#'
export const QUOTA_PREFIX = 'q#'
