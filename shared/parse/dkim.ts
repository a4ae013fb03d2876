/**
 * DKIM signatures verified by ingest itself (RFC 6376, RFC 8463), with mailauth: a verdict
 * of our own beside the one the mail host's MTA wrote in Authentication-Results
 * (auth-results.ts). mailauth is imported only when a message has a DKIM-Signature header,
 * so that unsigned mail (and the cold start of every function) pays nothing for it. Its
 * DNS lookups go through a resolver the caller passes: tests serve key records from memory.
 */
import { promises as dns } from 'node:dns'

/** TXT lookup as mailauth calls it: each record as its strings, as `dns.resolve` answers. */
export type TxtResolver = (name: string, rrtype: string) => Promise<string[][] | string[]>

/** One DKIM-Signature of the message, as ingest's own check found it. */
export interface DkimVerification {
  /** The signing domain (`d=`). */
  domain: string
  /** The key selector (`s=`): the key was looked up at `{selector}._domainkey.{domain}`. */
  selector: string
  /** The signature algorithm (`a=`), e.g. `rsa-sha256`, `ed25519-sha256`. */
  algorithm: string | null
  /**
   * RFC 8601 result: `pass`; `fail` (the signature does not match the signed headers);
   * `neutral` (the body was altered, no usable key, an expired or malformed signature:
   * `comment` says which; Gmail reports an altered body the same way); `policy` (a key
   * or algorithm too weak); `temperror` (DNS failed or timed out); `permerror`; `none`.
   */
  result: string
  /** Why the result is not `pass`, e.g. `body hash did not verify`, `no key`, `bad signature`. */
  comment: string | null
  /** True when `domain` is the From header's domain or shares its organizational domain (DMARC relaxed alignment). */
  aligned: boolean
}

// What one key lookup may take (ms) before it counts as a temporary failure (temperror):
// a slow or silent name server must not hold a message's ingest for the resolver's own
// retries (c-ares: 5 s, four tries).
export const DKIM_LOOKUP_TIMEOUT_MS = 3000
// Key lookups per message: a message with a hundred signatures of a hundred domains costs
// at most this many DNS queries; the signatures past it get temperror.
export const DKIM_MAX_LOOKUPS = 8

// A DKIM-Signature header field in the header section (RFC 6376 §3.5), at a line start.
const SIGNATURE_FIELD = /(?:^|\n)dkim-signature[ \t]*:/i
// How far into the message the header section is looked for (bytes): postal-mime's own
// header limit is larger, but a signature past this point is not one a signer wrote.
const HEADER_SCAN_BYTES = 1024 * 1024

/** True when the message's header section has a DKIM-Signature field. */
export function hasDkimSignature(raw: Uint8Array): boolean {
  const head = Buffer.from(raw.buffer, raw.byteOffset, Math.min(raw.byteLength, HEADER_SCAN_BYTES))
  const text = head.toString('latin1')
  const end = text.search(/\r?\n\r?\n/)
  return SIGNATURE_FIELD.test(end < 0 ? text : text.slice(0, end))
}

class LookupError extends Error {
  readonly code: string
  constructor(message: string, code: string) {
    super(message)
    this.name = 'LookupError'
    this.code = code
  }
}

/** The system's resolver (node:dns), as mailauth would use it. */
export const systemResolver: TxtResolver = (name, rrtype) =>
  dns.resolve(name, rrtype) as Promise<string[][]>

// The resolver, each lookup bounded by `timeoutMs` (then ETIMEOUT, which mailauth reports
// as temperror), and at most `max` lookups for the message (the rest fail: temperror).
function bounded(resolver: TxtResolver, timeoutMs: number, max: number): TxtResolver {
  let count = 0
  return async (name, rrtype) => {
    count++
    if (count > max) throw new LookupError(`more than ${max} key lookups`, 'ETOOMANY')
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new LookupError(`${rrtype} ${name}: no answer in ${timeoutMs} ms`, 'ETIMEOUT')),
        timeoutMs,
      )
    })
    try {
      return await Promise.race([resolver(name, rrtype), timeout])
    } finally {
      clearTimeout(timer)
    }
  }
}

export interface DkimOptions {
  /** Answers the key lookups; the system's DNS by default. */
  resolver?: TxtResolver | undefined
  /** How long one key lookup may take (ms); DKIM_LOOKUP_TIMEOUT_MS by default. */
  lookupTimeoutMs?: number | undefined
  /** The time signatures' `t=` and `x=` are judged against (tests of old mail). */
  now?: Date | undefined
}

/**
 * Every DKIM signature of the message, verified; null when it has none (mailauth is then
 * not loaded). Never throws for a message's content: a malformed signature is a result.
 */
export async function verifyDkim(
  raw: Uint8Array,
  options: DkimOptions = {},
): Promise<DkimVerification[] | null> {
  if (!hasDkimSignature(raw)) return null
  const { dkimVerify } = await import('mailauth/lib/dkim/verify.js')
  const resolver = bounded(
    options.resolver ?? systemResolver,
    options.lookupTimeoutMs ?? DKIM_LOOKUP_TIMEOUT_MS,
    DKIM_MAX_LOOKUPS,
  )
  const verified = await dkimVerify(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), {
    resolver,
    ...(options.now && { curTime: options.now }),
  })
  return verified.results
    .filter((r) => r.signingDomain !== undefined)
    .map((r) => ({
      domain: r.signingDomain as string,
      selector: r.selector ?? '',
      algorithm: r.algo ?? null,
      result: r.status.result,
      comment: typeof r.status.comment === 'string' ? r.status.comment : null,
      aligned: typeof r.status.aligned === 'string',
    }))
}
