/**
 * Error responses as RFC 9457 problem details. Every error the API returns goes through
 * here, so clients parse one shape whatever went wrong.
 */

// node:http's status phrases, read from the module itself: an ES import of node:http builds
// its namespace from every export, and its lazy ones (WebSocket, CloseEvent, MessageEvent)
// then load Node's bundled undici, with perf_hooks, http2 and assert: about 20 ms of the
// API's cold start, for a table of phrases.
const { STATUS_CODES } = process.getBuiltinModule('node:http')

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

/** RFC 9457 §4.2.1: no type of our own, so the title is the status phrase. */
const PROBLEM_TYPE = 'about:blank'

export interface Problem {
  type: string
  title: string
  status: number
  detail: string
}

export function problem(status: number, detail: string): Problem {
  return { type: PROBLEM_TYPE, title: STATUS_CODES[status] ?? 'Error', status, detail }
}

/** A problem+json response; `headers` adds e.g. `WWW-Authenticate` to a 401. */
export function problemResponse(
  status: number,
  detail: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(problem(status, detail)), {
    status,
    headers: { ...headers, 'Content-Type': PROBLEM_CONTENT_TYPE },
  })
}
