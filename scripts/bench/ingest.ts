/**
 * The ingest handler on its own, in this process, fed SQS events directly: 10 records a
 * batch, as Lambda's SQS event source hands them over, one batch at a time, with bodies as
 * the edge queues them (ingest-events.ts). The emulators (fauxqs and dynalite, in memory) run in a child
 * process, so that this process's CPU is the handler's alone (its SDK clients included);
 * the emulator's is shown apart. Only the handler's calls are timed: building the events and staging the raw
 * messages in S3 (the edge's work) happen between them.
 * Run alone: `npm exec -- tsx scripts/bench/ingest.ts [--scale 0.1]`.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { createIngestHandler, ingestDeps } from '../../functions/ingest/ingest.ts'
import { createS3Client } from '../../shared/aws-clients.ts'
import { compose, destroyClients } from '../../shared/compose.ts'
import { createLogger } from '../../shared/logger.ts'
import type { SqsBatchHandler } from '../../shared/sqs-batch.ts'
import { ensureTable } from '../../shared/store/table.ts'
import { type BenchEmulator, startEmulator } from './emulator.ts'
import { type IngestCase, ingestCases, type Stage, sqsEvent } from './ingest-events.ts'
import { machineBusySeconds, processCpuSeconds } from './proc.ts'
import { onCleanup } from './processes.ts'
import { fixed, markdownTable } from './report.ts'
import { isEntryPoint, log, parseScale, runBench } from './run-bench.ts'

/** The handler under test, and how many messages a mailbox holds (to check the run). */
export interface IngestUnderTest {
  handle: SqsBatchHandler
  stored(mailbox: string): Promise<number>
  close(): void
}

/**
 * Builds ingest on the emulator as local mode and the tests do: the composition root, no
 * webhook endpoint subscribed. The only function here that knows how ingest is put together.
 */
export async function buildIngestHandler(emulator: BenchEmulator): Promise<IngestUnderTest> {
  const root = compose(emulator.config)
  await ensureTable(root.clients.dynamodb, emulator.config.table)
  const logger = createLogger('ingest')
  // As the bench runs every server (LOG_LEVEL=warn): a line per message would be the
  // bench's stdout's cost, not ingest's.
  logger.level = 'warn'
  return {
    handle: createIngestHandler(ingestDeps(root, logger)),
    stored: async (mailbox) => (await root.stores.mailboxes.counters(mailbox)).messages,
    close: () => destroyClients(root.clients),
  }
}

// Records per event: the most Lambda's SQS event source hands a function by default.
const BATCH = 10
// Untimed batches first, at least this many and this long (handler seconds), so that
// every code path has run and been compiled before the clock starts.
const WARMUP_BATCHES = 2
const WARMUP_SECONDS = 1
// Timed handler seconds per case at --scale 1; never below the minimum.
const CASE_SECONDS = 5
const MIN_CASE_SECONDS = 0.5
// Timed batches per case at least, whatever the time: a 50-recipient batch takes seconds.
const MIN_TIMED_BATCHES = 3

export interface IngestResult {
  name: string
  messages: number
  /** Wall-clock seconds inside the handler, summed over the timed batches. */
  seconds: number
  /** CPU seconds (user + system) of this process meanwhile. */
  cpuSeconds: number
  /** CPU seconds of the emulator's process meanwhile. */
  emulatorCpuSeconds: number
  /** CPU seconds the machine spent meanwhile on anything else (another user's work, steal). */
  othersCpuSeconds: number
}

async function runCase(
  ingest: IngestUnderTest,
  c: IngestCase,
  seconds: number,
  emulatorPid: number,
  stage: Stage,
): Promise<IngestResult> {
  const result: IngestResult = {
    name: c.name,
    messages: 0,
    seconds: 0,
    cpuSeconds: 0,
    emulatorCpuSeconds: 0,
    othersCpuSeconds: 0,
  }
  let sent = 0
  let warmupSeconds = 0
  let warmupBatches = 0
  while (result.messages < MIN_TIMED_BATCHES * BATCH || result.seconds < seconds) {
    const event = await sqsEvent(c, BATCH, stage)
    const machineBefore = machineBusySeconds()
    const emulatorBefore = processCpuSeconds(emulatorPid)
    const cpuBefore = process.cpuUsage()
    const started = performance.now()
    const { batchItemFailures } = await ingest.handle(event)
    const elapsed = (performance.now() - started) / 1000
    const cpu = process.cpuUsage(cpuBefore)
    const emulatorCpu = processCpuSeconds(emulatorPid) - emulatorBefore
    const machineCpu = machineBusySeconds() - machineBefore
    if (batchItemFailures.length > 0) {
      throw new Error(`${c.name}: ${batchItemFailures.length} of ${BATCH} records failed`)
    }
    sent += BATCH
    if (warmupBatches < WARMUP_BATCHES || warmupSeconds < WARMUP_SECONDS) {
      warmupBatches++
      warmupSeconds += elapsed
      continue
    }
    const ownCpu = (cpu.user + cpu.system) / 1e6
    result.messages += BATCH
    result.seconds += elapsed
    result.cpuSeconds += ownCpu
    result.emulatorCpuSeconds += emulatorCpu
    result.othersCpuSeconds += machineCpu - ownCpu - emulatorCpu
  }
  for (const mailbox of new Set([c.rcptTo[0] ?? '', c.rcptTo.at(-1) ?? ''])) {
    const held = await ingest.stored(mailbox)
    if (held !== sent) throw new Error(`${mailbox} holds ${held} messages, ${sent} were ingested`)
  }
  return result
}

/** Each case in turn against one fresh emulator, each to mailboxes of its own. */
export async function measureIngest(scale: number): Promise<IngestResult[]> {
  const seconds = Math.max(MIN_CASE_SECONDS, CASE_SECONDS * scale)
  const emulator = await startEmulator()
  const forgetEmulator = onCleanup('ingest emulator', emulator.stop)
  // The edge's side: its own client, as the edge stages with its own.
  const s3 = createS3Client(emulator.config.aws)
  const { bucket } = emulator.config
  const stage: Stage = async (key, raw) => {
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: raw, ContentType: 'message/rfc822' }),
    )
    return { s3: { bucket, key } }
  }
  const ingest = await buildIngestHandler(emulator)
  try {
    const results: IngestResult[] = []
    for (const c of ingestCases()) {
      const result = await runCase(ingest, c, seconds, emulator.pid, stage)
      log(`  ${c.name}: ${fixed(result.messages / result.seconds, 1)} msg/s`)
      results.push(result)
    }
    return results
  } finally {
    ingest.close()
    s3.destroy()
    await emulator.stop()
    forgetEmulator()
  }
}

const HEADER = [
  'case',
  'messages',
  'seconds',
  'msg/s',
  'CPU ms/msg',
  'emulator CPU ms/msg',
  'others CPU s',
]
const RIGHT_ALIGNED = new Set([1, 2, 3, 4, 5, 6])

export function formatIngest(results: IngestResult[]): string {
  const lines = results.map((result) => [
    result.name,
    String(result.messages),
    fixed(result.seconds, 2),
    fixed(result.messages / result.seconds, 1),
    fixed((result.cpuSeconds * 1000) / result.messages, 2),
    fixed((result.emulatorCpuSeconds * 1000) / result.messages, 2),
    fixed(Math.max(0, result.othersCpuSeconds), 1),
  ])
  return [
    `ingest handler alone, batches of ${BATCH} records one after another, no webhook endpoint; seconds: inside the handler; CPU ms/msg: this process only (the handler and its SDK clients), the emulators (fauxqs and dynalite, in memory) run in their own process; others CPU s: the machine's busy time meanwhile that was neither:`,
    '',
    markdownTable(HEADER, lines, RIGHT_ALIGNED),
  ].join('\n')
}

if (isEntryPoint(import.meta.url)) {
  await runBench(async () => {
    const scale = parseScale()
    const started = performance.now()
    log('the ingest handler alone')
    const results = await measureIngest(scale)
    const seconds = (performance.now() - started) / 1000
    console.log(`\n${formatIngest(results)}\n(${seconds.toFixed(0)} s)`)
  })
}
