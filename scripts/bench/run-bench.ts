/**
 * What every entry point of the bench shares (`npm run bench`, and each section run on its
 * own): the `--scale` option, and a main() run with the cleanup list stopping whatever
 * was started, on success, on failure and on Ctrl-C or SIGTERM (exit code 130).
 */
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { cleanup } from './processes.ts'

/** `--scale S`: multiplies the amount of work of every section (0 < S ≤ 100). */
export function parseScale(): number {
  const { values } = parseArgs({ options: { scale: { type: 'string', default: '1' } } })
  const scale = Number(values.scale)
  if (!(scale > 0 && scale <= 100)) {
    throw new Error(`--scale must be > 0 and ≤ 100, got ${values.scale}`)
  }
  return scale
}

/** Logs to stderr, so that stdout holds the report alone. */
export const log = (line: string) => console.error(`bench: ${line}`)

/**
 * Runs `main`, then the cleanup list. Exit code 1 when `main` threw, 130 when interrupted;
 * `main` sets no exit code of its own.
 */
export async function runBench(main: () => Promise<void>): Promise<void> {
  let interrupted = false
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) return
      interrupted = true
      log(`${signal}: stopping everything the bench started`)
      void cleanup().finally(() => process.exit(130))
    })
  }
  try {
    await main()
  } catch (error) {
    if (!interrupted) {
      console.error(`bench failed: ${(error as Error).stack ?? error}`)
      process.exitCode = 1
    }
  } finally {
    await cleanup()
  }
}

/** True when the module at `moduleUrl` is the script node was started with. */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1]
  return script !== undefined && moduleUrl === pathToFileURL(script).href
}
