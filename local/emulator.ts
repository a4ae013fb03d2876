/**
 * The embedded S3/SQS emulator (fauxqs) of local mode, the tests and the bench: on
 * loopback only, and kept in `dataDir` (SQLite, every write committed before it is
 * answered, so a crash of the process loses nothing answered) or in memory when there is
 * none.
 *
 * fauxqs listens on every interface unless told otherwise; `listenHost` is our patch
 * (patches/fauxqs+*.patch), offered upstream. It checks no signature, so what it holds
 * (mail, webhook secrets) is guarded by the loopback listener and the data directory's
 * mode alone.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
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

/** Another process runs on the data directory. */
export class DataDirInUseError extends Error {
  override name = 'DataDirInUseError'
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * One process per data directory: a second would load the same database into memory and
 * the two would hand out the same messages. A lock left by a killed process is taken over.
 * Returns what removes the lock.
 */
export function lockDataDir(dir: string): () => void {
  const path = join(dir, 'mailbridge.pid')
  for (;;) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 })
      return () => rmSync(path, { force: true })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10)
    if (pid > 0 && pid !== process.pid && isRunning(pid)) {
      throw new DataDirInUseError(
        `${dir} is in use by process ${pid}; stop it first (or, if that is not mailbridge, remove ${path})`,
      )
    }
    rmSync(path, { force: true })
  }
}

/** fauxqs on 127.0.0.1, in this thread. */
export async function startEmulator(options: EmulatorOptions): Promise<EmbeddedEmulator> {
  const { dataDir } = options
  let unlock = () => {}
  if (dataDir !== undefined) {
    // Mail and webhook secrets: readable by this user only.
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    unlock = lockDataDir(dataDir)
  }
  try {
    const server = await startFauxqs({
      port: options.port,
      listenHost: '127.0.0.1',
      logger: false,
      ...(dataDir !== undefined && { dataDir }),
    })
    return {
      endpoint: server.address,
      async stop() {
        await server.stop()
        unlock()
      },
    }
  } catch (error) {
    unlock()
    throw error
  }
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
