/**
 * The two servers under test behind one small interface, so that a row runs the same way
 * for both: where to connect, which processes to measure, and how many messages the server
 * really holds (Dovecot: files in maildir new/; the edge: messages in the SQS queue; local
 * mode, in local-mode.ts: messages in their mailboxes).
 */
import { startDovecot } from './dovecot.ts'
import { startEdgeProcess } from './edge-process.ts'
import type { BenchEmulator } from './emulator.ts'
import type { Target } from './lmtp-client.ts'

export type ServerName = 'dovecot' | 'edge' | 'local'

export interface ServerUnderTest {
  name: ServerName
  target: Target
  /** The process whose tree's CPU is the server's: Dovecot's master, the edge's node. */
  rootPid: number
  /** The processes whose VmHWM is summed for the peak RSS. */
  pids(): number[]
  /** Messages the server holds now, counted where it stores them. */
  holds(): Promise<number>
  /**
   * True when a message is held some time after its 250 (local mode stores it in its
   * mailbox after the queue): its row is timed until it holds every one.
   */
  storesLater?: boolean
  stop(): Promise<void>
}

export async function startDovecotServer(): Promise<ServerUnderTest> {
  const dovecot = await startDovecot()
  return {
    name: 'dovecot',
    target: dovecot.target,
    rootPid: dovecot.masterPid,
    pids: dovecot.pids,
    holds: dovecot.stored,
    stop: dovecot.stop,
  }
}

/** A fresh edge process, on an emulator whose queue must be empty to begin with. */
export async function startEdgeServer(emulator: BenchEmulator): Promise<ServerUnderTest> {
  const left = await emulator.queued()
  if (left !== 0) throw new Error(`the ingest queue holds ${left} messages before the edge starts`)
  const edge = await startEdgeProcess(emulator.edgeEnv())
  return {
    name: 'edge',
    target: edge.target,
    rootPid: edge.pid,
    pids: () => [edge.pid],
    holds: () => emulator.queued(),
    async stop() {
      await edge.stop()
      await emulator.clear()
    },
  }
}
