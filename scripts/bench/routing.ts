/**
 * The cost of routing, with 1,000 routes: (1) the route table's decision per recipient,
 * in this process, beside the same recipients against the one default catch-all; (2) the
 * edge's RCPT latency as an LMTP client sees it, with those routes published, beside the
 * edge with the default routes and Dovecot LMTP (a static userdb) on this machine. Run
 * alone after `npm run build`: `npm exec -- tsx scripts/bench/routing.ts`.
 */
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { createS3Client } from '../../shared/aws-clients.ts'
import type { Route, RouteSet } from '../../shared/contracts/route.ts'
import { DEFAULT_ROUTES, RouteTable } from '../../shared/routing/route-table.ts'
import { ROUTES_KEY } from '../../shared/store/keys.ts'
import { startDovecot } from './dovecot.ts'
import { startEdgeProcess } from './edge-process.ts'
import { type BenchEmulator, startEmulator } from './emulator.ts'
import { LmtpClient, type Target } from './lmtp-client.ts'
import { fixed, markdownTable, percentile } from './report.ts'
import { isEntryPoint, log, runBench } from './run-bench.ts'

// The route set: mostly exact addresses, as a company's users, then domains, wildcards and
// regular expressions, evaluated in one priority order.
const ROUTES = { exact: 700, domain: 200, wildcard: 80, regex: 20 }
// Decisions timed in-process, after as many untimed ones.
const DECISIONS = 20_000
// RCPTs timed per server, one at a time on one connection; a new transaction every
// TRANSACTION so that no limit on recipients is reached.
const RCPTS = 2_000
const TRANSACTION = 100
const CLIENT_TIMEOUT_MS = 10_000

export interface RoutingResult {
  /** µs per decision, ascending: with 1,000 routes and with the default route alone. */
  decide: { routes: number[]; defaults: number[] }
  /** ms per RCPT reply, ascending, per server. */
  rcpt: Array<{ server: string; latencies: number[] }>
}

/** 1,000 routes over 200 domains; the recipients hit every kind, and a few none. */
export function benchRoutes(): Route[] {
  const routes: Route[] = []
  const add = (match: Route['match']['recipient'], mailbox?: string) =>
    routes.push({
      id: `bench-${String(routes.length).padStart(4, '0')}`,
      priority: routes.length % 10,
      description: '',
      enabled: true,
      match: { recipient: match, address: 'base' },
      actions: [mailbox ? { type: 'store', mailbox } : { type: 'store' }, { type: 'stop' }],
      origin: 'api',
      updatedAt: new Date(0).toISOString(),
    })
  for (let i = 0; i < ROUTES.exact; i++) add({ type: 'exact', value: `user${i}@corp.test` })
  for (let i = 0; i < ROUTES.domain; i++) add({ type: 'domain', value: `d${i}.test` })
  for (let i = 0; i < ROUTES.wildcard; i++) add({ type: 'wildcard', value: `team${i}-*@corp.test` })
  for (let i = 0; i < ROUTES.regex; i++) {
    add({ type: 'regex', value: `^(?<user>[a-z]+)\\.r${i}@corp\\.test$` }, '{user}@archive.test')
  }
  return routes
}

function recipient(i: number): string {
  switch (i % 5) {
    case 0:
      return `user${i % ROUTES.exact}+tag@corp.test`
    case 1:
      return `someone@d${i % ROUTES.domain}.test`
    case 2:
      return `team${i % ROUTES.wildcard}-sales@corp.test`
    case 3:
      return `ann.r${i % ROUTES.regex}@corp.test`
    default:
      return `nobody${i}@unrouted.test`
  }
}

function timeDecisions(table: RouteTable): number[] {
  const times: number[] = []
  for (let i = 0; i < 2 * DECISIONS; i++) {
    const input = { recipient: recipient(i), sender: 'sender@example.net' }
    const started = process.hrtime.bigint()
    table.decide(input)
    if (i >= DECISIONS) times.push(Number(process.hrtime.bigint() - started) / 1000)
  }
  return times.sort((a, b) => a - b)
}

/** RCPT latencies on one connection: a recipient each routes accept (the bench's domain). */
async function timeRcpts(target: Target, to: (i: number) => string): Promise<number[]> {
  const client = await LmtpClient.open(target, CLIENT_TIMEOUT_MS)
  const latencies: number[] = []
  try {
    await client.command('LHLO bench.test', 250)
    for (let i = 0; i < RCPTS; i++) {
      if (i % TRANSACTION === 0) {
        if (i > 0) await client.command('RSET', 250)
        await client.command('MAIL FROM:<sender@example.net>', 250)
      }
      const started = performance.now()
      await client.command(`RCPT TO:<${to(i)}>`, 250)
      latencies.push(performance.now() - started)
    }
  } finally {
    await client.close()
  }
  return latencies.sort((a, b) => a - b)
}

async function publish(emulator: BenchEmulator, routes: Route[] | undefined): Promise<void> {
  const s3 = createS3Client(emulator.config.aws)
  try {
    const Bucket = emulator.config.bucket
    if (routes === undefined) {
      await s3.send(new DeleteObjectCommand({ Bucket, Key: ROUTES_KEY }))
      return
    }
    const set: RouteSet = { version: 1, updatedAt: new Date().toISOString(), routes, quotas: {} }
    await s3.send(new PutObjectCommand({ Bucket, Key: ROUTES_KEY, Body: JSON.stringify(set) }))
  } finally {
    s3.destroy()
  }
}

/** The edge process with `routes` published (undefined: none, the defaults apply). */
async function edgeRcpts(emulator: BenchEmulator, routes: Route[] | undefined) {
  await publish(emulator, routes)
  const edge = await startEdgeProcess(emulator.edgeEnv())
  try {
    // Every recipient is routed: the unrouted fifth would be refused, not timed.
    return await timeRcpts(edge.target, (i) => recipient(i - (i % 5 === 4 ? 1 : 0)))
  } finally {
    await edge.stop()
    await publish(emulator, undefined)
  }
}

export async function measureRouting(emulator?: BenchEmulator): Promise<RoutingResult> {
  const routes = benchRoutes()
  log(`routing: ${DECISIONS} decisions with ${routes.length} routes, and with the default`)
  const decide = {
    routes: timeDecisions(new RouteTable(routes, '+')),
    defaults: timeDecisions(new RouteTable(DEFAULT_ROUTES, '+')),
  }
  const own = emulator === undefined
  const em = emulator ?? (await startEmulator())
  try {
    log(
      `routing: ${RCPTS} RCPTs each into the edge with ${routes.length} routes, the edge with the default, Dovecot`,
    )
    const rcpt = [
      { server: `edge, ${routes.length} routes`, latencies: await edgeRcpts(em, routes) },
      { server: 'edge, default route', latencies: await edgeRcpts(em, undefined) },
    ]
    const dovecot = await startDovecot()
    try {
      rcpt.push({
        server: 'dovecot (static userdb)',
        latencies: await timeRcpts(dovecot.target, (i) => `user${i}@bench.test`),
      })
    } finally {
      await dovecot.stop()
    }
    return { decide, rcpt }
  } finally {
    if (own) await em.stop()
  }
}

export function formatRouting(result: RoutingResult): string {
  const micro = (sorted: number[]) => [
    fixed(percentile(sorted, 50), 1),
    fixed(percentile(sorted, 99), 1),
  ]
  const milli = (sorted: number[]) => [
    fixed(percentile(sorted, 50), 2),
    fixed(percentile(sorted, 99), 2),
  ]
  return [
    `Routing: one decision per recipient, in-process (${DECISIONS} timed; a fifth unrouted)`,
    '',
    markdownTable(
      ['route set', 'p50 µs', 'p99 µs'],
      [
        [
          `${ROUTES.exact + ROUTES.domain + ROUTES.wildcard + ROUTES.regex} routes (${ROUTES.exact} exact, ${ROUTES.domain} domain, ${ROUTES.wildcard} wildcard, ${ROUTES.regex} regex)`,
          ...micro(result.decide.routes),
        ],
        ['the default catch-all alone', ...micro(result.decide.defaults)],
      ],
      new Set([1, 2]),
    ),
    '',
    `RCPT latency over LMTP, one at a time on one connection (${RCPTS} timed per server)`,
    '',
    markdownTable(
      ['server', 'p50 ms', 'p99 ms'],
      result.rcpt.map(({ server, latencies }) => [server, ...milli(latencies)]),
      new Set([1, 2]),
    ),
  ].join('\n')
}

if (isEntryPoint(import.meta.url)) {
  await runBench(async () => {
    console.log(formatRouting(await measureRouting()))
  })
}
