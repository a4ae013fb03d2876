/**
 * The embedded S3/SQS emulator (fauxqs) of local mode, the tests and the bench: on
 * loopback only, and kept in `dataDir` (SQLite, every write committed before it is
 * answered) or in memory when there is none.
 *
 * fauxqs listens on every interface unless told otherwise; `listenHost` is our patch
 * (patches/fauxqs+*.patch), offered upstream. It checks no signature, so what it holds
 * (mail, webhook secrets) is guarded by the loopback listener and the data directory's
 * mode alone.
 */
import { mkdirSync } from 'node:fs'
import { startFauxqs } from 'fauxqs'
import { startThread } from './threads.ts'

export interface EmulatorOptions {
  /** 0 for any free port. */
  port: number
  /** Where queues and objects are kept; undefined keeps them in memory. */
  dataDir: string | undefined
}

export interface EmbeddedEmulator {
  /** Base URL for the SDK clients, e.g. http://127.0.0.1:4566 */
  endpoint: string
  stop(): Promise<void>
}

/** fauxqs on 127.0.0.1, in this thread. */
export async function startEmulator(options: EmulatorOptions): Promise<EmbeddedEmulator> {
  // Mail and webhook secrets: readable by this user only.
  if (options.dataDir !== undefined) mkdirSync(options.dataDir, { recursive: true, mode: 0o700 })
  const server = await startFauxqs({
    port: options.port,
    listenHost: '127.0.0.1',
    logger: false,
    ...(options.dataDir !== undefined && { dataDir: options.dataDir }),
  })
  return { endpoint: server.address, stop: () => server.stop() }
}

/**
 * fauxqs in a worker thread of its own, so that its request handling, SQLite writes and
 * object copies run beside the edge, ingest and the API.
 */
export async function startEmulatorThread(options: EmulatorOptions): Promise<EmbeddedEmulator> {
  const thread = await startThread<string>(import.meta.url, 'emulator-worker', options)
  // Stopping closes the server, which closes the database; then the thread ends.
  return { endpoint: thread.ready, stop: thread.stop }
}
