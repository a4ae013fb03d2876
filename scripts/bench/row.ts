/**
 * One row of the table: a fresh server, a short warm-up, then smtp-source's load with the
 * latency probe beside it, peak memory sampled throughout, CPU read before and after, and
 * a check that the server holds exactly every message it acknowledged.
 */
import { type Load, runLoad } from './load.ts'
import { type Envelope, startProbe } from './probe.ts'
import { machineBusySeconds, samplePeakMemory, treeCpuSeconds } from './proc.ts'
import type { ServerName, ServerUnderTest } from './servers.ts'

// Warm-up messages per session before the timed load: every session's connection, and
// the server's code paths, are exercised once before the clock starts.
const WARMUP_PER_SESSION = 2

// Addresses in a domain both servers accept (Dovecot's static userdb takes any user).
export const LOAD_ENVELOPE: Envelope = { from: 'load@sender.test', to: 'load@bench.test' }
export const PROBE_ENVELOPE: Envelope = { from: 'probe@sender.test', to: 'probe@bench.test' }

export interface RowResult {
  server: ServerName
  load: Load
  /** Wall-clock seconds of smtp-source's timed run. */
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

/**
 * CPU seconds used so far by everything the bench started: itself and its descendants
 * (smtp-source once reaped, the edge, the emulator), plus a detached server.
 */
async function benchCpuSeconds(server: ServerUnderTest): Promise<number> {
  const own = treeCpuSeconds(process.pid)
  return server.detached ? own + (await server.cpuSeconds()) : own
}

export class MissingMessagesError extends Error {
  override name = 'MissingMessagesError'
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

    const cpuBefore = await server.cpuSeconds()
    const emulatorBefore = emulatorPid ? treeCpuSeconds(emulatorPid) : 0
    const machineBefore = machineBusySeconds()
    const benchBefore = await benchCpuSeconds(server)
    const probe = startProbe(server.target, load.size, PROBE_ENVELOPE)
    let seconds: number
    try {
      seconds = await runLoad(server.target, load, LOAD_ENVELOPE)
    } catch (error) {
      probe.abort()
      throw error
    }
    const latencies = await probe.stop()
    const othersCpuSeconds =
      machineBusySeconds() - machineBefore - ((await benchCpuSeconds(server)) - benchBefore)
    const cpuSeconds = (await server.cpuSeconds()) - cpuBefore
    const emulatorCpuSeconds = emulatorPid
      ? treeCpuSeconds(emulatorPid) - emulatorBefore
      : undefined
    const peakRssKiB = await memory.stop()

    const acknowledged = warmup + load.messages + latencies.length
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
      cpuSeconds,
      emulatorCpuSeconds,
      othersCpuSeconds,
    }
  } finally {
    await server.stop()
  }
}
