/**
 * The two servers under test behind one small interface, so that a row runs the same way
 * for both: where to connect, which processes to measure, and how many messages the server
 * really holds (Dovecot: files in maildir new/; the edge: messages in the SQS queue).
 */
import { startDovecot } from './dovecot.ts'
import { startEdgeProcess } from './edge-process.ts'
import type { BenchEmulator } from './emulator.ts'
import type { Target } from './probe.ts'
import { treeCpuSeconds } from './proc.ts'

export type ServerName = 'dovecot' | 'edge'

export interface ServerUnderTest {
  name: ServerName
  target: Target
  /** The processes whose VmHWM is summed for the peak RSS. */
  pids(): Promise<number[]>
  /** CPU seconds the server's processes have used so far. */
  cpuSeconds(): Promise<number>
  /** True when its processes are not the bench's descendants (Dovecot daemonizes). */
  detached: boolean
  /** Messages the server holds now, counted where it stores them. */
  holds(): Promise<number>
  stop(): Promise<void>
}

export async function startDovecotServer(): Promise<ServerUnderTest> {
  const dovecot = await startDovecot()
  return {
    name: 'dovecot',
    target: { host: dovecot.host, port: dovecot.port },
    pids: dovecot.pids,
    cpuSeconds: async () => treeCpuSeconds(dovecot.masterPid),
    detached: true,
    holds: dovecot.stored,
    stop: dovecot.stop,
  }
}

/** A fresh edge process, on an emulator whose queue must be empty to begin with. */
export async function startEdgeServer(emulator: BenchEmulator): Promise<ServerUnderTest> {
  const left = await emulator.queued()
  if (left !== 0) throw new Error(`the ingest queue holds ${left} messages before the row`)
  const edge = await startEdgeProcess(emulator.endpoint)
  return {
    name: 'edge',
    target: { host: edge.host, port: edge.port },
    pids: async () => [edge.pid],
    cpuSeconds: async () => treeCpuSeconds(edge.pid),
    detached: false,
    holds: () => emulator.queued(),
    async stop() {
      await edge.stop()
      await emulator.clear()
    },
  }
}
