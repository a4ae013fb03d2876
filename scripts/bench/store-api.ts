/**
 * API read latency in local mode, from the outside: local mode as `npm start` runs it (its
 * data on disk), ONE mailbox filled over LMTP by smtp-source with 10 KB messages, then
 * sequential GETs from this process, timed from the request to the last byte of the answer.
 * It uses only LMTP and the public HTTP API, so that it measures any store behind them the
 * same way. Run alone: `npm exec -- tsx scripts/bench/store-api.ts [--scale 0.1]`.
 */
import { setTimeout } from 'node:timers/promises'
import type { Envelope } from './lmtp-client.ts'
import { type Load, runLoad } from './load.ts'
import { type LocalModeServer, startLocalModeServer } from './local-mode.ts'
import { cpuSeconds, machineBusySeconds, scanProcesses } from './proc.ts'
import { waitFor } from './processes.ts'
import { fixed, markdownTable, percentile } from './report.ts'
import { isEntryPoint, log, parseScale, runBench } from './run-bench.ts'

// Messages in the mailbox when the reads are timed: the figures must not grow with it.
const STORED = [1_000, 10_000]
// The fill: as the local row's load, all of it to one mailbox.
const FILL: Omit<Load, 'messages'> = { size: 10_000, reuse: true, sessions: 10 }
const FILL_ENVELOPE: Envelope = { from: 'fill@sender.test', to: 'reader@bench.test' }
// Timed requests of each kind at each size, one at a time, after a few untimed ones that
// open the keep-alive connection and run the route's code once.
const REQUESTS = 200
const WARMUP_REQUESTS = 5
// A first page as a mail client asks for it.
const PAGE_LIMIT = 50
// The read target of the store rewrite (ms), at every size.
const TARGET_P99_MS = 20
// Local mode stores about 180 msg/s on 2 cores: 10,000 in about a minute; this is stuck (ms).
const STORE_TIMEOUT_MS = 600_000
// How often the fill asks for the count (ms).
const STORE_POLL_MS = 500

/** One request, timed at one size. */
export interface ApiLatency {
  stored: number
  request: string
  /** ms, ascending. */
  latencies: number[]
  /**
   * CPU seconds the machine spent during the timed requests on anything but the bench and
   * local mode (another user's work, steal): how noisy the figures are.
   */
  othersCpuSeconds: number
}

interface Request {
  name: string
  path: string
  /** Throws when the answer is not what `stored` messages in the mailbox should give. */
  check(body: unknown, stored: number): void
}

const MAILBOX = FILL_ENVELOPE.to

const REQUESTS_TIMED: Request[] = [
  {
    name: 'GET /v1/mailboxes',
    path: '/v1/mailboxes',
    check(body, stored) {
      const { mailboxes } = body as { mailboxes: { address: string; messages: number }[] }
      const mailbox = mailboxes.find((entry) => entry.address === MAILBOX)
      if (mailboxes.length !== 1 || mailbox?.messages !== stored) {
        throw new Error(`expected ${MAILBOX} alone with ${stored}: ${JSON.stringify(mailboxes)}`)
      }
    },
  },
  {
    name: `GET …/messages?limit=${PAGE_LIMIT}`,
    path: `/v1/mailboxes/${encodeURIComponent(MAILBOX)}/messages?limit=${PAGE_LIMIT}`,
    check(body) {
      const page = body as { messages: unknown[]; nextCursor: string | null }
      if (page.messages.length !== PAGE_LIMIT || typeof page.nextCursor !== 'string') {
        throw new Error(`expected a full first page: ${page.messages.length}, ${page.nextCursor}`)
      }
    },
  },
]

/** Sends smtp-source's messages until the mailbox holds `count`, and waits until it does. */
async function fillTo(server: LocalModeServer, count: number): Promise<void> {
  const missing = count - (await server.holds())
  if (missing > 0) await runLoad(server.target, { ...FILL, messages: missing }, FILL_ENVELOPE)
  await waitFor(
    `local mode to store ${count} messages`,
    async () => ((await server.holds()) >= count ? true : undefined),
    STORE_TIMEOUT_MS,
    STORE_POLL_MS,
  )
  const held = await server.holds()
  if (held !== count) throw new Error(`local mode holds ${held} messages, expected ${count}`)
}

// After a fill, the reads wait until local mode has settled: its emulators compact and
// checkpoint what the burst wrote for a few seconds, which is the writes' cost, not the
// reads'. Settled: under SETTLED_CPU of a core over one SETTLE_STEP_MS, at most SETTLE_MAX_MS.
const SETTLED_CPU = 0.1
const SETTLE_STEP_MS = 1000
const SETTLE_MAX_MS = 15_000

/** Waits until local mode is idle after a fill; returns the seconds waited. */
async function settle(server: LocalModeServer): Promise<number> {
  const started = performance.now()
  for (;;) {
    const before = cpuSeconds(scanProcesses(), [server.rootPid])
    await setTimeout(SETTLE_STEP_MS)
    const used = cpuSeconds(scanProcesses(), [server.rootPid]) - before
    const waited = performance.now() - started
    if (used < (SETTLED_CPU * SETTLE_STEP_MS) / 1000 || waited >= SETTLE_MAX_MS)
      return waited / 1000
  }
}

/** One GET; ms from the call to the last byte read, and the parsed answer. */
async function timeGet(server: LocalModeServer, path: string): Promise<[number, unknown]> {
  const started = performance.now()
  const response = await fetch(`${server.api.url}${path}`, {
    headers: { authorization: `Bearer ${server.api.key}` },
  })
  const text = await response.text()
  const ms = performance.now() - started
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${text.slice(0, 200)}`)
  return [ms, JSON.parse(text)]
}

/** Busy CPU seconds so far: the machine's, and ours (this process and local mode). */
function readCpu(): { machine: number; ours: number } {
  return { machine: machineBusySeconds(), ours: cpuSeconds(scanProcesses(), [process.pid]) }
}

async function timeRequests(
  server: LocalModeServer,
  request: Request,
  stored: number,
  count: number,
): Promise<ApiLatency> {
  for (let i = 0; i < WARMUP_REQUESTS; i++) {
    request.check((await timeGet(server, request.path))[1], stored)
  }
  const latencies: number[] = []
  const before = readCpu()
  for (let i = 0; i < count; i++) {
    const [ms, body] = await timeGet(server, request.path)
    request.check(body, stored)
    latencies.push(ms)
  }
  const after = readCpu()
  return {
    stored,
    request: request.name,
    latencies: latencies.sort((a, b) => a - b),
    othersCpuSeconds: after.machine - before.machine - (after.ours - before.ours),
  }
}

/** Fills one mailbox in a fresh local mode to each size in turn and times the reads there. */
export async function measureStoreApi(scale: number): Promise<ApiLatency[]> {
  const sizes = STORED.map((stored) => Math.max(PAGE_LIMIT + 1, Math.round(stored * scale)))
  const count = Math.max(20, Math.round(REQUESTS * scale))
  const server = await startLocalModeServer()
  try {
    const results: ApiLatency[] = []
    for (const stored of sizes) {
      const started = performance.now()
      await fillTo(server, stored)
      log(`  ${stored} stored (${((performance.now() - started) / 1000).toFixed(1)} s to fill)`)
      log(`  settled after ${(await settle(server)).toFixed(1)} s`)
      for (const request of REQUESTS_TIMED) {
        const result = await timeRequests(server, request, stored, count)
        results.push(result)
        log(`  ${request.name}: p99 ${fixed(percentile(result.latencies, 99), 1)} ms`)
      }
    }
    return results
  } finally {
    await server.stop()
  }
}

const HEADER = [
  'stored messages',
  'request',
  'requests',
  'p50 ms',
  'p99 ms',
  'target',
  'others CPU s',
]
const RIGHT_ALIGNED = new Set([0, 2, 3, 4, 6])

export function formatStoreApi(results: ApiLatency[]): string {
  const lines = results.map((result) => {
    const p99 = percentile(result.latencies, 99)
    return [
      result.stored.toLocaleString('en'),
      result.request,
      String(result.latencies.length),
      fixed(percentile(result.latencies, 50), 1),
      fixed(p99, 1),
      `p99 < ${TARGET_P99_MS} ms ${p99 < TARGET_P99_MS ? 'PASS' : 'MISS'}`,
      fixed(Math.max(0, result.othersCpuSeconds), 1),
    ]
  })
  // "The same at both sizes": how much the p99 grew from the smallest mailbox to the largest.
  const growth = REQUESTS_TIMED.map((request) => {
    const rows = results.filter((result) => result.request === request.name)
    const first = rows[0]
    const last = rows.at(-1)
    if (!first || !last) return ''
    const ratio = percentile(last.latencies, 99) / percentile(first.latencies, 99)
    return `${request.name} ${fixed(ratio, 2)}×`
  })
  return [
    `API reads in local mode, one mailbox (${MAILBOX}) of 10 KB messages, one request at a time; others CPU s: the machine's busy time meanwhile that was neither the bench nor local mode:`,
    '',
    markdownTable(HEADER, lines, RIGHT_ALIGNED),
    '',
    `p99 at the largest size ÷ at the smallest: ${growth.join(', ')}`,
  ].join('\n')
}

if (isEntryPoint(import.meta.url)) {
  await runBench(async () => {
    const scale = parseScale()
    const started = performance.now()
    log('API reads in local mode')
    const results = await measureStoreApi(scale)
    const seconds = (performance.now() - started) / 1000
    console.log(`\n${formatStoreApi(results)}\n(${seconds.toFixed(0)} s)`)
  })
}
