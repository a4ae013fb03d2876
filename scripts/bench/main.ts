/**
 * `npm run bench [-- --scale 0.2]`: the edge against Dovecot LMTP on this machine, under the
 * same `smtp-source -L` load, with the same latency probe, each server in its own processes.
 * Installs what it needs, starts and stops every peer itself, and prints one table, the
 * 50 MB measurement and the targets, then three sections, each with a table of its own: API
 * reads in local mode (store-api.ts), the ingest handler alone (ingest.ts) and each Lambda
 * function's cold start (cold-start.ts). Exits 0 whatever the numbers (it measures, it does
 * not judge); 1 when something broke (a peer did not start, a message went missing); 130 on
 * Ctrl-C. See BENCHMARKS.md for what each column means.
 */
import { fileURLToPath } from 'node:url'
import { measureBigMessage } from './big-message.ts'
import { formatColdStart, measureColdStart } from './cold-start.ts'
import { EDGE_BUNDLE } from './edge-process.ts'
import { startEmulator } from './emulator.ts'
import { formatIngest, measureIngest } from './ingest.ts'
import type { Load } from './load.ts'
import { startLocalModeServer } from './local-mode.ts'
import { describeMachine, formatMachine } from './machine.ts'
import { formatParse, measureParse } from './parse.ts'
import { ensurePeers } from './peers.ts'
import { readMemory } from './proc.ts'
import { onCleanup, runOk } from './processes.ts'
import {
  formatBigMessage,
  formatEmulatorMemory,
  formatTable,
  formatTargets,
  rate,
  sizeLabel,
} from './report.ts'
import { formatRouting, measureRouting } from './routing.ts'
import { type RowResult, runRow } from './row.ts'
import { log, parseScale, runBench } from './run-bench.ts'
import { startDovecotServer, startEdgeServer } from './servers.ts'
import { formatStoreApi, measureStoreApi } from './store-api.ts'

// Parallel sessions: Postfix's default LMTP concurrency (default_destination_concurrency_limit).
const SESSIONS = 20
// Messages per row (-m), the same for both servers: on a 2-core machine each row runs
// about 8 to 25 s (enough probe samples for a p99) and the whole bench under 3 minutes.
const PLAN: Omit<Load, 'sessions'>[] = [
  { size: 10_000, reuse: true, messages: 6_000 },
  { size: 10_000, reuse: false, messages: 6_000 },
  { size: 1_000_000, reuse: true, messages: 1_000 },
  { size: 1_000_000, reuse: false, messages: 1_000 },
]
// Local mode (npm start) end to end, accepted and stored, beside Dovecot under the same load.
const LOCAL_PLAN: Load = { size: 10_000, reuse: true, messages: 2_000, sessions: 10 }

// esbuild bundles everything in seconds; this is a stuck build (ms).
const BUILD_TIMEOUT_MS = 120_000

async function main(): Promise<void> {
  const scale = parseScale()
  const started = performance.now()
  const date = new Date()
  await ensurePeers(log)
  // The edge runs from its bundle, as bin/mailbridge and the systemd unit run it.
  log(`building ${EDGE_BUNDLE}`)
  await runOk('npm', ['run', '--silent', 'build'], {
    cwd: fileURLToPath(new URL('../../', import.meta.url)),
    timeoutMs: BUILD_TIMEOUT_MS,
  })
  const machine = await describeMachine()
  log(formatMachine(machine))

  const emulator = await startEmulator()
  const forgetEmulator = onCleanup('emulator', emulator.stop)
  const rows: RowResult[] = []
  for (const plan of PLAN) {
    const load: Load = {
      ...plan,
      sessions: SESSIONS,
      messages: Math.max(SESSIONS, Math.round(plan.messages * scale)),
    }
    for (const server of ['dovecot', 'edge'] as const) {
      const reuse = load.reuse ? 'with' : 'without'
      log(
        `row ${rows.length + 1}/${PLAN.length * 2}: ${server}, ${load.messages} × ${sizeLabel(load.size)}, ${reuse} connection reuse`,
      )
      const row =
        server === 'dovecot'
          ? await runRow(startDovecotServer, load)
          : await runRow(() => startEdgeServer(emulator), load, emulator.pid)
      log(`  ${row.seconds.toFixed(2)} s, ${rate(row).toFixed(0)} msg/s`)
      rows.push(row)
    }
  }
  const local = { ...LOCAL_PLAN, messages: Math.max(20, Math.round(LOCAL_PLAN.messages * scale)) }
  for (const start of [startDovecotServer, startLocalModeServer]) {
    log(`${local.messages} × ${sizeLabel(local.size)}, ${local.sessions} sessions`)
    const row = await runRow(start, local)
    log(`  ${row.server}: ${row.seconds.toFixed(2)} s, ${rate(row).toFixed(0)} msg/s`)
    rows.push(row)
  }
  log('one 50 MB message into a fresh edge')
  const big = await measureBigMessage(emulator)
  const emulatorMemory = readMemory(emulator.pid)
  await emulator.stop()
  forgetEmulator()
  log('API reads in local mode, one mailbox filled over LMTP')
  const storeApi = await measureStoreApi(scale)
  log('the ingest handler alone, fed SQS events')
  const ingest = await measureIngest(scale)
  log('ingest parse alone: 10 KB, 1 MB, 50 MB and hostile shapes')
  const parse = await measureParse()
  log('cold start of each Lambda function, beside its SDK clients alone')
  const coldStart = await measureColdStart()
  log('routing: decisions with 1,000 routes, and RCPT latency with them')
  const routing = await measureRouting()

  const minutes = (performance.now() - started) / 60_000
  console.log(
    [
      '',
      `mailbridge bench, ${date.toISOString()} (${minutes.toFixed(1)} min)`,
      formatMachine(machine),
      `load: smtp-source -L -s SESSIONS; latency probe: 1 more connection, 1 message at a time; local rows are timed until every message is stored`,
      '',
      formatTable(rows),
      '',
      formatBigMessage(big),
      formatEmulatorMemory(emulatorMemory),
      '',
      formatTargets(rows, big),
      '',
      formatStoreApi(storeApi),
      '',
      formatIngest(ingest),
      '',
      formatParse(parse),
      '',
      formatColdStart(coldStart),
      '',
      formatRouting(routing),
    ].join('\n'),
  )
}

await runBench(main)
