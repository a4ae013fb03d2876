/**
 * Where everything lives in the bucket. Pure functions only: the one place that knows
 * the key layout, so the edge, the functions and the API can never disagree about it.
 *
 *   incoming/{id}.eml                              raw message staged by the edge (too big for SQS)
 *   mailboxes/{address}/index/{inverted id}.json   small summary, listed newest first
 *   mailboxes/{address}/messages/{id}.eml          raw message as received over LMTP
 *   mailboxes/{address}/messages/{id}.json         parsed message
 *   webhooks/{endpoint id}.json                    webhook endpoint with its secret
 *   deliveries/{message id}/{endpoint id}.json     webhook job state, for idempotency
 *   received/{address}/{fingerprint}.json          which message a mailbox got for these
 *                                                  bytes: a client's retry is spotted by it
 *
 * {address} is the lower-cased address, URI-encoded so that no address can add a path
 * segment of its own.
 */
import { invertMessageId } from './message-id.ts'

export const INCOMING_PREFIX = 'incoming/'
export const MAILBOXES_PREFIX = 'mailboxes/'
export const WEBHOOKS_PREFIX = 'webhooks/'
export const DELIVERIES_PREFIX = 'deliveries/'
export const RECEIVED_PREFIX = 'received/'

/**
 * The mailbox name of a recipient address: lower-cased whole. RFC 5321 lets a local
 * part be case-sensitive, but no mail host in practice treats `Bob@` and `bob@` as two
 * people (Dovecot setups lower-case with %Lu), and two mailboxes would surprise users.
 */
export function mailboxName(address: string): string {
  return address.trim().toLowerCase()
}

export function incomingRawKey(id: string): string {
  return `${INCOMING_PREFIX}${id}.eml`
}

/** True for a key incomingRawKey() makes: a staged message, and nothing else in the bucket. */
export function isIncomingRawKey(key: string): boolean {
  return /^incoming\/[0-9A-Z]{26}\.eml$/.test(key)
}

export function mailboxPrefix(address: string): string {
  return `${MAILBOXES_PREFIX}${encodeURIComponent(mailboxName(address))}/`
}

/** The address a `mailboxes/{address}/` prefix stands for, or undefined for another key. */
export function mailboxFromPrefix(prefix: string): string | undefined {
  if (!prefix.startsWith(MAILBOXES_PREFIX) || !prefix.endsWith('/')) return undefined
  const encoded = prefix.slice(MAILBOXES_PREFIX.length, -1)
  if (!encoded || encoded.includes('/')) return undefined
  try {
    return decodeURIComponent(encoded)
  } catch {
    return undefined
  }
}

export function indexPrefix(address: string): string {
  return `${mailboxPrefix(address)}index/`
}

export function indexKey(address: string, id: string): string {
  return `${indexPrefix(address)}${invertMessageId(id)}.json`
}

export function rawKey(address: string, id: string): string {
  return `${mailboxPrefix(address)}messages/${id}.eml`
}

export function messageKey(address: string, id: string): string {
  return `${mailboxPrefix(address)}messages/${id}.json`
}

export function webhookKey(endpointId: string): string {
  return `${WEBHOOKS_PREFIX}${endpointId}.json`
}

export function deliveryKey(messageId: string, endpointId: string): string {
  return `${DELIVERIES_PREFIX}${messageId}/${endpointId}.json`
}

/** `fingerprint` is a hex digest (functions/ingest/retries.ts). */
export function receivedKey(address: string, fingerprint: string): string {
  return `${RECEIVED_PREFIX}${encodeURIComponent(mailboxName(address))}/${fingerprint}.json`
}
