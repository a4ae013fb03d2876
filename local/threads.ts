/**
 * Local mode's worker threads (the emulator, the functions), started and stopped one way:
 * the thread runs `runInThread(start)`, which reports `{ ready }` with what `start`
 * returned (or `{ error }`), and on the word "stop" stops it and ends the thread.
 */
import { parentPort, Worker, workerData } from 'node:worker_threads'
import { workerScript } from '../shared/worker-script.ts'

type Report<T> = { ready: T } | { error: string }

export interface Thread<T> {
  /** What the thread reported once started. */
  ready: T
  /** Asks the thread to stop what it runs, and resolves once it has ended. */
  stop(): Promise<void>
}

/** Starts `{name}.ts` (or `.mjs`) beside `callerUrl` as a worker given `data`. */
export function startThread<T>(callerUrl: string, name: string, data: unknown): Promise<Thread<T>> {
  const { script, eval: isEval } = workerScript(callerUrl, name)
  const worker = new Worker(script, { eval: isEval, workerData: data })
  return new Promise((resolve, reject) => {
    worker.once('error', reject)
    worker.once('exit', (code) => reject(new Error(`${name} exited with code ${code}`)))
    worker.once('message', (report: Report<T>) => {
      if ('error' in report) {
        reject(new Error(`${name} did not start: ${report.error}`))
        return
      }
      worker.removeAllListeners()
      resolve({
        ready: report.ready,
        async stop() {
          const exited = new Promise<void>((done) => worker.once('exit', () => done()))
          worker.postMessage('stop')
          await exited
        },
      })
    })
  })
}

/** The worker's side: runs `start` with the thread's data until told to stop. */
export async function runInThread<D, T>(
  start: (data: D) => Promise<{ ready: T; stop(): Promise<void> }>,
): Promise<void> {
  const port = parentPort
  if (!port) throw new Error('runs as a worker thread only')
  try {
    const running = await start(workerData as D)
    port.postMessage({ ready: running.ready } satisfies Report<T>)
    port.once('message', async () => {
      await running.stop()
      port.close()
    })
  } catch (error) {
    port.postMessage({ error: (error as Error).message } satisfies Report<T>)
    port.close()
  }
}
