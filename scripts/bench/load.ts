/**
 * The load: Postfix's `smtp-source -L`, timed from start to exit. Without -A it stops with
 * a non-zero exit at the first reply that is not the expected success, so exit 0 means
 * every message got its 250.
 */
import type { Envelope, Target } from './lmtp-client.ts'
import { findCommand, run } from './processes.ts'

// A row that takes this long is stuck (ms).
const LOAD_TIMEOUT_MS = 180_000

export interface Load {
  /** Parallel sessions (-s). */
  sessions: number
  /** Messages in all (-m), shared by the sessions. */
  messages: number
  /** Payload bytes per message, headers not included (-l). */
  size: number
  /** Keep each session's connection for its next message (-d). */
  reuse: boolean
}

/** Runs smtp-source; resolves with its wall-clock seconds, throws if it failed. */
export async function runLoad(target: Target, load: Load, envelope: Envelope): Promise<number> {
  const smtpSource = findCommand('smtp-source')
  if (!smtpSource) throw new Error('smtp-source is not installed')
  const args = [
    '-L',
    ...(load.reuse ? ['-d'] : []),
    '-s',
    String(load.sessions),
    '-m',
    String(load.messages),
    '-l',
    String(load.size),
    '-f',
    envelope.from,
    '-t',
    envelope.to,
    '-M',
    'smtp-source.bench',
    `inet:${target.host}:${target.port}`,
  ]
  const started = performance.now()
  const result = await run(smtpSource, args, { timeoutMs: LOAD_TIMEOUT_MS })
  const seconds = (performance.now() - started) / 1000
  if (result.exitCode !== 0) {
    const why = result.exitCode === null ? `killed after ${LOAD_TIMEOUT_MS} ms` : 'failed'
    throw new Error(`smtp-source ${args.join(' ')} ${why}: ${result.stderr}${result.stdout}`.trim())
  }
  return seconds
}
