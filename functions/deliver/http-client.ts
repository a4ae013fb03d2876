/**
 * The one HTTP client webhooks are sent with: Node's own http and https agents, whose
 * `createConnection` resolves the host itself, checks every address against the
 * AddressPolicy, and connects to the checked address. There is no second look-up for DNS
 * rebinding to change, and no other client: Node's global `fetch` would ignore these
 * agents, so requests go through `http.request` with the agent always given.
 *
 * The agents keep connections to each origin alive between webhooks (an idle one is closed
 * after KEEP_ALIVE_MS, before receivers usually close theirs), and a response body is read
 * up to MAX_RESPONSE_BYTES, then the connection is dropped rather than drained. Redirects are
 * not followed: `http.request` never does. The built-ins are the SDK's already, so the
 * client adds nothing to a function's cold start (undici's agent was 266 KiB of deliver's).
 */
import { lookup } from 'node:dns/promises'
import type { ClientRequestArgs, Agent as HttpAgent, IncomingMessage } from 'node:http'
import type { Agent as HttpsAgent } from 'node:https'
import { isIP, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { ConnectionOptions } from 'node:tls'
import { MailbridgeError } from '../../shared/errors.ts'
import { type AddressPolicy, refusalOf } from './address-policy.ts'

// Loaded as CommonJS built-ins: an ES import of node:http reads its lazy exports (WebSocket
// and the rest), which load Node's bundled undici and more (functions/api/problem.ts).
const http = process.getBuiltinModule('node:http')
const https = process.getBuiltinModule('node:https')
const net = process.getBuiltinModule('node:net')
const tls = process.getBuiltinModule('node:tls')

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
  /** Certificates trusted instead of the system's; tests give a self-signed one. */
  ca?: string | Buffer
}

/** The agents every webhook goes through: one per scheme, both checked. */
export interface WebhookAgent {
  http: HttpAgent
  https: HttpsAgent
  /** Closes the idle connections. */
  close(): void
}

type Connected = (error: Error | null, socket: Duplex) => void

/**
 * Connects to the checked address of `options.host`. `dial` is net.connect or tls.connect;
 * for TLS the name stays the server name, so SNI and the certificate check use it, and
 * only the address dialled is replaced by the checked one.
 */
function checkedConnection(
  options: ClientRequestArgs,
  callback: Connected | undefined,
  client: WebhookClientOptions,
  dial: (options: ConnectionOptions & { host: string }) => Socket,
): void {
  // Node's agents always pass one: a connection they get back synchronously is not checked.
  if (callback === undefined) throw new Error('a checked connection is made asynchronously')
  const host = options.host ?? 'localhost'
  checkedAddress(host, client.policy, client.resolve ?? systemResolver).then(
    (address) => {
      // The agents name the server (empty for an IP address, which TLS may not send).
      const socket = dial({ ...(options as ConnectionOptions), host: address })
      const connectedEvent = 'encrypted' in socket ? 'secureConnect' : 'connect'
      const timer = setTimeout(
        () => socket.destroy(new Error(`connect to ${host} timed out`)),
        CONNECT_TIMEOUT_MS,
      )
      const settle = (error: Error | null) => {
        clearTimeout(timer)
        socket.off(connectedEvent, onConnect)
        socket.off('error', settle)
        callback(error, socket)
      }
      const onConnect = () => settle(null)
      socket.once(connectedEvent, onConnect)
      socket.once('error', settle)
    },
    (error: Error) => callback(error, undefined as unknown as Duplex),
  )
}

/** Agents that connect only to addresses the policy allows. */
export function createWebhookAgent(options: WebhookClientOptions): WebhookAgent {
  const settings = { keepAlive: true, maxSockets: CONNECTIONS_PER_ORIGIN, timeout: KEEP_ALIVE_MS }
  class CheckedHttpAgent extends http.Agent {
    override createConnection(connection: ClientRequestArgs, callback?: Connected): undefined {
      checkedConnection(connection, callback, options, (dial) => net.connect(dial as never))
      return undefined
    }
  }
  class CheckedHttpsAgent extends https.Agent {
    override createConnection(connection: ClientRequestArgs, callback?: Connected): undefined {
      checkedConnection(connection, callback, options, (dial) => tls.connect(dial))
      return undefined
    }
  }
  const agents = {
    http: new CheckedHttpAgent(settings),
    https: new CheckedHttpsAgent({ ...settings, ...(options.ca && { ca: options.ca }) }),
  }
  return {
    ...agents,
    close() {
      agents.http.destroy()
      agents.https.destroy()
    },
  }
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
  agent: WebhookAgent,
  url: string,
  headers: Record<string, string>,
  body: Uint8Array | string,
  timeoutMs: number,
): Promise<WebhookResponse> {
  const target = new URL(url)
  const secure = target.protocol === 'https:'
  const payload = typeof body === 'string' ? Buffer.from(body) : body
  const signal = AbortSignal.timeout(timeoutMs)
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const request = (secure ? https : http).request(target, {
      method: 'POST',
      agent: secure ? agent.https : agent.http,
      headers: { ...headers, 'content-length': String(payload.byteLength) },
      signal,
    })
    request.once('response', resolve)
    request.once('error', reject)
    request.end(payload)
  })
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of response) {
      const buffer = chunk as Buffer
      chunks.push(buffer)
      size += buffer.length
      if (size >= MAX_RESPONSE_BYTES) break
    }
  } finally {
    // Breaking out of the loop destroys the body (and so the socket); a body read to its
    // end leaves the socket for the next request.
    if (size >= MAX_RESPONSE_BYTES) response.destroy()
  }
  return {
    status: response.statusCode ?? 0,
    headers: response.headers,
    body: Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8'),
  }
}
