/**
 * Ingest's parse alone (postal-mime, charsets, reports, the stored JSON), per message shape:
 * time and the process's peak memory, each shape in a child process of its own.
 */
import { fileURLToPath } from 'node:url'
import { runOk } from './processes.ts'
import { markdownTable } from './report.ts'

export const PARSE_SHAPES = ['10 KB', '1 MB', '50 MB', '2,000 parts', '300-level nesting']
// Runs per shape; the median time is reported.
const RUNS = 3

export interface ParseResult {
  shape: string
  bytes: number
  ms: number
  peakRssMiB: number
  baseRssMiB: number
  parseError: string | null
}

const CHILD = fileURLToPath(new URL('./parse-child.ts', import.meta.url))

export async function measureParse(): Promise<ParseResult[]> {
  const results: ParseResult[] = []
  for (const shape of PARSE_SHAPES) {
    const runs: ParseResult[] = []
    for (let i = 0; i < RUNS; i++) {
      const { stdout } = await runOk(process.execPath, ['--import', 'tsx', CHILD, shape], {
        timeoutMs: 120_000,
      })
      runs.push({ shape, ...(JSON.parse(stdout) as Omit<ParseResult, 'shape'>) })
    }
    runs.sort((a, b) => a.ms - b.ms)
    results.push(runs[Math.floor(RUNS / 2)] as ParseResult)
  }
  return results
}

export function formatParse(results: ParseResult[]): string {
  return [
    'Ingest parse alone (median of 3, each in its own process; peak RSS includes the message itself):',
    markdownTable(
      ['message', 'bytes', 'parse + JSON ms', 'peak RSS MiB', 'RSS before MiB', 'parseError'],
      results.map((r) => [
        r.shape,
        String(r.bytes),
        r.ms.toFixed(1),
        r.peakRssMiB.toFixed(0),
        r.baseRssMiB.toFixed(0),
        r.parseError ?? '',
      ]),
      new Set([1, 2, 3, 4]),
    ),
  ].join('\n')
}

// `tsx scripts/bench/parse.ts` runs this section alone.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(formatParse(await measureParse()))
}
