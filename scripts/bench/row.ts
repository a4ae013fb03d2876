/**
 * One row of the table: a fresh server, a short warm-up, then smtp-source's load with the
 * latency probe beside it, peak memory sampled throughout, CPU read before and after, and
 * a check that the server holds exactly every message it acknowledged.
 */
import type { Envelope } from './lmtp-client.ts'
import { type Load, runLoad } from './load.ts'
import { startProbe } from './probe.ts'
import { cpuSeconds, machineBusySeconds, samplePeakMemory, scanProcesses } from './proc.ts'
import type { ServerName, ServerUnderTest } from './servers.ts'

// Warm-up messages per session before the timed load: every session's connection, and
// the server's code paths, are exercised once before the clock starts.
const WARMUP_PER_SESSION = 2

// Addresses in a domain both servers accept (Dovecot's static userdb takes any user).
const LOAD_ENVELOPE: Envelope = { from: 'load@sender.test', to: 'load@bench.test' }
export const PROBE_ENVELOPE: Envelope = { from: 'probe@sender.test', to: 'probe@bench.test' }

export interface RowResult {
  server: ServerName
  load: Load
  /**
   * Wall-clock seconds of smtp-source's timed run; for a server that stores later (local
   * mode), until it held every message of the run.
   */
  seconds: number
  /** Probe hand-off latencies, ms, ascending. */
  latencies: number[]
  /** Largest sum of VmHWM over the server's processes, KiB. */
  peakRssKiB: number
  /** CPU seconds the server used during the timed run. */
  cpuSeconds: number
  /** CPU seconds the emulator used meanwhile (edge rows). */
  emulatorCpuSeconds?: number
  /**
   * CPU seconds the machine spent meanwhile on anything the bench did not start (other
   * work on the machine, hypervisor steal, kernel work charged to no process).
   */
  othersCpuSeconds: number
}

class MissingMessagesError extends Error {
  override name = 'MissingMessagesError'
}

interface CpuReading {
  machine: number
  server: number
  emulator: number
  /**
   * Everything the bench started: itself and its descendants (smtp-source once reaped,
   * the edge, the emulator), and the server's tree, which Dovecot detached from ours.
   */
  bench: number
}

/** CPU seconds used so far, all from one scan of /proc. */
function readCpu(server: ServerUnderTest, emulatorPid: number | undefined): CpuReading {
  const table = scanProcesses()
  return {
    machine: machineBusySeconds(),
    server: cpuSeconds(table, [server.rootPid]),
    emulator: emulatorPid === undefined ? 0 : cpuSeconds(table, [emulatorPid]),
    bench: cpuSeconds(table, [process.pid, server.rootPid]),
  }
}

// How long a server that stores later may take to store what it acknowledged (ms), and
// how often it is asked meanwhile: asking lists every index key (an O(messages) count
// until the store keeps counters), so often enough to time the row within 2 %, no more.
const STORE_TIMEOUT_MS = 300_000
const STORE_POLL_MS = 500

/** Waits until the server holds `count` messages; past the timeout the row's check fails. */
async function allHeld(server: ServerUnderTest, count: number): Promise<void> {
  const deadline = performance.now() + STORE_TIMEOUT_MS
  while ((await server.holds()) < count && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, STORE_POLL_MS))
  }
}

export async function runRow(
  start: () => Promise<ServerUnderTest>,
  load: Load,
  emulatorPid?: number,
): Promise<RowResult> {
  const server = await start()
  try {
    const memory = samplePeakMemory(server.pids)
    const warmup = load.sessions * WARMUP_PER_SESSION
    await runLoad(server.target, { ...load, messages: warmup }, LOAD_ENVELOPE)
    if (server.storesLater) await allHeld(server, warmup)

    const before = readCpu(server, emulatorPid)
    const started = performance.now()
    const probe = startProbe(server.target, load.size, PROBE_ENVELOPE)
    let seconds: number
    try {
      seconds = await runLoad(server.target, load, LOAD_ENVELOPE)
    } catch (error) {
      probe.abort()
      throw error
    }
    const latencies = await probe.stop()
    const acknowledged = warmup + load.messages + latencies.length
    if (server.storesLater) {
      await allHeld(server, acknowledged)
      seconds = (performance.now() - started) / 1000
    }
    const after = readCpu(server, emulatorPid)
    const peakRssKiB = memory.stop()

    const held = await server.holds()
    if (held !== acknowledged) {
      throw new MissingMessagesError(
        `${server.name} acknowledged ${acknowledged} messages but holds ${held}`,
      )
    }
    latencies.sort((a, b) => a - b)
    return {
      server: server.name,
      load,
      seconds,
      latencies,
      peakRssKiB,
      cpuSeconds: after.server - before.server,
      emulatorCpuSeconds: emulatorPid === undefined ? undefined : after.emulator - before.emulator,
      othersCpuSeconds: after.machine - before.machine - (after.bench - before.bench),
    }
  } finally {
    await server.stop()
  }
}
