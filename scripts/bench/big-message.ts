/**
 * One message of 50,000,000 body bytes (just under the edge's default 50 MiB limit) into a
 * fresh edge, warmed up first with a 10 KB and a 1 MB message so that the S3 staging code
 * is loaded: how far above its resting RSS does the message drive the process?
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { BenchEmulator } from './emulator.ts'
import { buildMessage, openSession, sendTimed } from './probe.ts'
import { type Memory, readMemory } from './proc.ts'
import { PROBE_ENVELOPE } from './row.ts'
import { startEdgeServer } from './servers.ts'

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
  const edge = await startEdgeServer(emulator)
  try {
    const message = buildMessage(BIG_MESSAGE_BYTES, PROBE_ENVELOPE)
    const client = await openSession(edge.target, REPLY_TIMEOUT_MS)
    let result: BigMessageResult
    try {
      for (const size of WARMUP_SIZES) {
        await sendTimed(client, buildMessage(size, PROBE_ENVELOPE), PROBE_ENVELOPE)
      }
      await sleep(SETTLE_MS)
      const before = memoryOf(edge.rootPid)
      const started = performance.now()
      const handoffMs = await sendTimed(client, message, PROBE_ENVELOPE)
      const seconds = (performance.now() - started) / 1000
      const peakKiB = memoryOf(edge.rootPid).hwmKiB
      result = { before, peakKiB, increaseKiB: peakKiB - before.rssKiB, handoffMs, seconds }
    } finally {
      await client.close()
    }
    const expected = WARMUP_SIZES.length + 1
    const held = await edge.holds()
    if (held !== expected) {
      throw new Error(`the edge acknowledged ${expected} messages but the queue holds ${held}`)
    }
    const largest = await emulator.largestStagedBytes()
    if (largest < BIG_MESSAGE_BYTES) {
      throw new Error(`no staged object holds the 50 MB message (largest ${largest} bytes)`)
    }
    return result
  } finally {
    await edge.stop()
  }
}
