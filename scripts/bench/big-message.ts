/**
 * One message of 50,000,000 body bytes (just under the edge's default 50 MiB limit) into a
 * fresh edge, warmed up first with a 10 KB and a 1 MB message so that the S3 staging code
 * is loaded: how far above its resting RSS does the message drive the process?
 */

import { startEdgeProcess } from './edge-process.ts'
import type { BenchEmulator } from './emulator.ts'
import { LmtpClient } from './lmtp-client.ts'
import { buildMessage, sendTimed } from './probe.ts'
import { type Memory, readMemory } from './proc.ts'
import { sleep } from './processes.ts'
import { PROBE_ENVELOPE } from './row.ts'

export const BIG_MESSAGE_BYTES = 50_000_000
const WARMUP_SIZES = [10_000, 1_000_000]
// Streaming 50 MB to the emulator on a loaded 2-core machine: seconds, not minutes (ms).
const REPLY_TIMEOUT_MS = 120_000
// Lets the warm-up's garbage be collected before the "before" reading (ms).
const SETTLE_MS = 1_000

export interface BigMessageResult {
  /** Before the message, after the warm-up. */
  before: Memory
  /** VmHWM once the message was acknowledged, KiB. */
  peakKiB: number
  /** peakKiB − before.rssKiB: how far the message drove RSS above where it rested. */
  increaseKiB: number
  /** From the final `\r\n.\r\n` to the 250, ms. */
  handoffMs: number
  /** The whole transaction, DATA bytes included, seconds. */
  seconds: number
}

function memoryOf(pid: number): Memory {
  const memory = readMemory(pid)
  if (!memory) throw new Error(`edge process ${pid} is gone`)
  return memory
}

export async function measureBigMessage(emulator: BenchEmulator): Promise<BigMessageResult> {
  const left = await emulator.queued()
  if (left !== 0) throw new Error(`the ingest queue holds ${left} messages before the run`)
  const edge = await startEdgeProcess(emulator.endpoint)
  try {
    const message = buildMessage(BIG_MESSAGE_BYTES, PROBE_ENVELOPE)
    const client = await LmtpClient.open(edge.host, edge.port, REPLY_TIMEOUT_MS)
    let result: BigMessageResult
    try {
      await client.command('LHLO probe.bench', 250)
      for (const size of WARMUP_SIZES) {
        await sendTimed(client, buildMessage(size, PROBE_ENVELOPE), PROBE_ENVELOPE)
      }
      await sleep(SETTLE_MS)
      const before = memoryOf(edge.pid)
      const started = performance.now()
      const handoffMs = await sendTimed(client, message, PROBE_ENVELOPE)
      const seconds = (performance.now() - started) / 1000
      const peakKiB = memoryOf(edge.pid).hwmKiB
      result = { before, peakKiB, increaseKiB: peakKiB - before.rssKiB, handoffMs, seconds }
    } finally {
      await client.close()
    }
    const queued = await emulator.queued()
    const staged = await emulator.staged()
    const expected = WARMUP_SIZES.length + 1
    if (queued !== expected) {
      throw new Error(`the edge acknowledged ${expected} messages but the queue holds ${queued}`)
    }
    if (staged.largestBytes < BIG_MESSAGE_BYTES) {
      throw new Error(`no staged object holds the 50 MB message (largest ${staged.largestBytes})`)
    }
    return result
  } finally {
    await edge.stop()
    await emulator.clear()
  }
}
