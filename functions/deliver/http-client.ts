/**
 * The one HTTP client webhooks are sent with: an undici Agent whose `connect` resolves the
 * host itself, checks every address against the AddressPolicy, and connects to the
 * checked address. There is no second look-up for DNS rebinding to change, and no other
 * client: Node's global `fetch` ignores `http.Agent`, so requests go through this Agent's
 * own `request()`, never through a fetch that could fall back to the global dispatcher.
 *
 * The Agent keeps connections to each origin alive between webhooks, and a response body
 * is read up to MAX_RESPONSE_BYTES, then the connection is dropped rather than drained.
 */
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { Agent, buildConnector } from 'undici'
import { MailbridgeError } from '../../shared/errors.ts'
import { type AddressPolicy, refusalOf } from './address-policy.ts'

/** Bytes of a response body read and kept (for the attempt log); the rest is not read. */
export const MAX_RESPONSE_BYTES = 4096
// How long a TCP + TLS handshake may take (ms): within any request timeout.
const CONNECT_TIMEOUT_MS = 10_000
// Idle keep-alive sockets are closed after this (ms): receivers usually close at 5 s.
const KEEP_ALIVE_MS = 4_000
// Sockets per origin: the per-endpoint concurrency limit bounds the requests, this the sockets.
const CONNECTIONS_PER_ORIGIN = 16

export interface ResolvedAddress {
  address: string
  family: number
}

/** Resolves a host name to every address it has; injectable so tests need no network. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>

export const systemResolver: Resolver = (hostname) =>
  lookup(hostname, { all: true, verbatim: true })

/** A connection refused by the address policy: recorded as a failed attempt, never retried sooner. */
export class AddressRefusedError extends MailbridgeError {
  override name = 'AddressRefusedError'
}

/**
 * Resolves `hostname` and returns the first address, after checking all of them: a name
 * with one public and one private address is refused, since the caller cannot choose
 * which one a later connection would get.
 */
export async function checkedAddress(
  hostname: string,
  policy: AddressPolicy,
  resolve: Resolver,
): Promise<string> {
  const bare = hostname.replace(/^\[|\]$/g, '')
  const addresses = isIP(bare) ? [{ address: bare, family: isIP(bare) }] : await resolve(bare)
  if (addresses.length === 0) throw new AddressRefusedError(`${bare} has no address`)
  for (const { address } of addresses) {
    const why = refusalOf(address, policy)
    if (why !== undefined) {
      const named = address === bare ? address : `${bare} resolves to ${address}`
      throw new AddressRefusedError(`refused: ${named}, ${why}`)
    }
  }
  return (addresses[0] as ResolvedAddress).address
}

export interface WebhookClientOptions {
  policy: AddressPolicy
  resolve?: Resolver
}

/** An undici Agent that connects only to addresses the policy allows. */
export function createWebhookAgent(options: WebhookClientOptions): Agent {
  const resolve = options.resolve ?? systemResolver
  const connect = buildConnector({ timeout: CONNECT_TIMEOUT_MS })
  return new Agent({
    keepAliveTimeout: KEEP_ALIVE_MS,
    keepAliveMaxTimeout: KEEP_ALIVE_MS,
    connections: CONNECTIONS_PER_ORIGIN,
    // Pipelining would let one slow answer hold up the next webhook on the socket.
    pipelining: 1,
    connect(opts, callback) {
      checkedAddress(opts.hostname, options.policy, resolve).then(
        // `host` keeps the name, so TLS still sends it as SNI and checks the certificate
        // against it; only the address to dial is replaced by the checked one.
        (address) => connect({ ...opts, hostname: address }, callback),
        (error: Error) => callback(error, null),
      )
    },
  })
}

export interface WebhookResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  /** The first MAX_RESPONSE_BYTES of the body, as text. */
  body: string
}

/**
 * POSTs `body` to `url` through `agent`, within `timeoutMs` for the whole exchange, and
 * reads at most MAX_RESPONSE_BYTES of the answer. Redirects are not followed (the signed
 * request goes to the URL registered, nowhere else).
 */
export async function postWebhook(
  agent: Agent,
  url: string,
  headers: Record<string, string>,
  body: Uint8Array | string,
  timeoutMs: number,
): Promise<WebhookResponse> {
  const target = new URL(url)
  const signal = AbortSignal.timeout(timeoutMs)
  const response = await agent.request({
    origin: target.origin,
    path: `${target.pathname}${target.search}`,
    method: 'POST',
    headers,
    body,
    signal,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  })
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of response.body) {
      const buffer = chunk as Buffer
      chunks.push(buffer)
      size += buffer.length
      if (size >= MAX_RESPONSE_BYTES) break
    }
  } finally {
    // Breaking out of the loop destroys the body (and so the socket); a body read to its
    // end leaves the socket for the next request.
    if (size >= MAX_RESPONSE_BYTES) response.body.destroy()
  }
  return {
    status: response.statusCode,
    headers: response.headers,
    body: Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8'),
  }
}
