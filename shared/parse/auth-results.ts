/**
 * Authentication verdicts (SPF, DKIM, DMARC, ARC) from the Authentication-Results header
 * (RFC 8601) that the mail host's own MTA added, recognised by its authserv-id. A header
 * with any other authserv-id may have been written by the sender and is ignored: a
 * claimed `pass` from anyone else counts for nothing (RFC 8601 §5).
 */
import type { DkimVerification } from './dkim.ts'

export interface MethodResult {
  /** `pass`, `fail`, `softfail`, `neutral`, `none`, `temperror`, `permerror`, `policy`... */
  result: string
  /** Properties such as `smtp.mailfrom`, `header.d`, `header.s`, `header.from`. */
  properties: Record<string, string>
}

export interface Authentication {
  /**
   * The authserv-id of the header the verdicts come from: the configured one. Null when no
   * such header was found and only ingest's own DKIM check has something to say.
   */
  authservId: string | null
  spf: MethodResult | null
  /** One entry per DKIM signature the MTA checked. */
  dkim: MethodResult[]
  dmarc: (MethodResult & { policy: string | null }) | null
  arc: MethodResult | null
  /**
   * Ingest's own verification of each DKIM-Signature (dkim.ts), beside the MTA's `dkim`;
   * absent when it did not run.
   */
  dkimVerified?: DkimVerification[]
}

// Splits on `;` outside quoted strings.
function statements(value: string): string[] {
  const out: string[] = []
  let current = ''
  let quoted = false
  for (const c of value) {
    if (c === '"') quoted = !quoted
    if (c === ';' && !quoted) {
      out.push(current)
      current = ''
    } else current += c
  }
  out.push(current)
  return out.map((s) => s.trim()).filter(Boolean)
}

function withoutComments(value: string): string {
  let out = ''
  let depth = 0
  for (const c of value) {
    if (c === '(') depth++
    else if (c === ')' && depth > 0) depth--
    else if (depth === 0) out += c
  }
  return out
}

function methodResult(
  statement: string,
): { method: string; result: MethodResult; policy: string | null } | null {
  const policy = statement.match(/\(\s*p=([a-z]+)/i)?.[1]?.toLowerCase() ?? null
  const plain = withoutComments(statement)
  const head = plain.match(/^\s*([a-z0-9-]+)(?:\/\d+)?\s*=\s*([a-z]+)/i)
  if (!head) return null
  const properties: Record<string, string> = {}
  for (const match of plain
    .slice(head[0].length)
    .matchAll(/([a-z0-9-]+(?:\.[a-z0-9-]+)?)\s*=\s*("[^"]*"|[^\s;]+)/gi)) {
    properties[(match[1] as string).toLowerCase()] = (match[2] as string).replace(/^"|"$/g, '')
  }
  return {
    method: (head[1] as string).toLowerCase(),
    result: { result: (head[2] as string).toLowerCase(), properties },
    policy,
  }
}

/**
 * The verdicts of the first Authentication-Results header whose authserv-id is `authservId`
 * (the topmost: the last hop's MTA prepends its own); null when there is none or no id is
 * configured.
 */
export function readAuthentication(
  headers: Array<{ name: string; value: string }>,
  authservId: string | undefined,
): Authentication | null {
  if (!authservId) return null
  const wanted = authservId.toLowerCase()
  for (const { name, value } of headers) {
    if (name.toLowerCase() !== 'authentication-results') continue
    const [first = '', ...rest] = statements(value)
    const id = withoutComments(first).trim().split(/\s+/)[0]?.toLowerCase()
    if (id !== wanted) continue
    const auth: Authentication = { authservId: wanted, spf: null, dkim: [], dmarc: null, arc: null }
    for (const statement of rest) {
      const parsed = methodResult(statement)
      if (!parsed) continue
      if (parsed.method === 'spf') auth.spf ??= parsed.result
      else if (parsed.method === 'dkim') auth.dkim.push(parsed.result)
      else if (parsed.method === 'dmarc') auth.dmarc ??= { ...parsed.result, policy: parsed.policy }
      else if (parsed.method === 'arc') auth.arc ??= parsed.result
    }
    return auth
  }
  return null
}

/**
 * The MTA's verdicts (`readAuthentication`) with ingest's own DKIM check beside them:
 * `dkimVerified` is set whenever the check ran (`dkim` not undefined: null for an unsigned
 * message, which adds nothing when there are no trusted verdicts either).
 */
export function combineAuthentication(
  trusted: Authentication | null,
  dkim: DkimVerification[] | null | undefined,
): Authentication | null {
  if (dkim === undefined) return trusted
  if (trusted === null && !dkim?.length) return null
  const base = trusted ?? { authservId: null, spf: null, dkim: [], dmarc: null, arc: null }
  return { ...base, dkimVerified: dkim ?? [] }
}
