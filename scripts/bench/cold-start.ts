/**
 * Cold start of each Lambda function: the size of its zip as `npm run package` makes it,
 * and the time a fresh Node process takes to import its bundle (the init Lambda runs
 * before the first event: module compile and evaluation, the composition root, its SDK
 * clients), the median of ROUNDS processes. Beside each, a baseline bundle built alike
 * that holds only the same AWS SDK clients, constructed; the target is within 1.3× of it.
 * The rounds interleave the bundles, so that the machine's other load falls on all alike.
 * Run alone: `npm exec -- tsx scripts/bench/cold-start.ts`.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { BUNDLE_OPTIONS, splitInto } from '../bundle-options.ts'
import { cleanEnv, runOk } from './processes.ts'
import { fixed, markdownTable, percentile } from './report.ts'
import { isEntryPoint, log, runBench } from './run-bench.ts'

const REPO = fileURLToPath(new URL('../../', import.meta.url))
// Fresh processes per bundle; the issue asks for the median of 20.
const ROUNDS = 20
// Each function's import time within this many times its baseline's.
const TARGET_RATIO = 1.3
// esbuild and osls take seconds each; minutes are a stuck run (ms).
const PACKAGE_TIMEOUT_MS = 180_000

// The clients each function's composition root builds (shared/compose.ts), and the API's
// key (functions/api/api-key.ts): constructed as the functions construct them.
const SDK_CLIENTS = `
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { S3Client } from '@aws-sdk/client-s3'
import { SQSClient } from '@aws-sdk/client-sqs'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
const region = process.env.AWS_REGION
export const clients = [
  new S3Client({ region }),
  new SQSClient({ region }),
  DynamoDBDocumentClient.from(new DynamoDBClient({ region })),
]
`
const SECRETS_CLIENT = `
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
export const secrets = new SecretsManagerClient({ region: process.env.AWS_REGION })
`
const FUNCTIONS = [
  { name: 'ingest', baseline: SDK_CLIENTS },
  { name: 'deliver', baseline: SDK_CLIENTS },
  { name: 'api', baseline: SDK_CLIENTS + SECRETS_CLIENT },
]

// The child: the import alone is timed, as Lambda's init runs it. It runs from a file, as
// Lambda's runtime does (`node -e` defines a global for each built-in module).
const IMPORT_TIMER = `
const started = performance.now()
await import(process.argv[2])
console.error('import-ms ' + (performance.now() - started))
process.exit(0)
`

export interface ColdStartResult {
  name: string
  zipBytes: number
  bundleBytes: number
  importMs: number
  baselineBytes: number
  baselineImportMs: number
  /** The round by round ratios (function ÷ its baseline, in the same round): p25 and p75. */
  ratioSpread: [number, number]
}

/** Milliseconds one fresh process took to import `file`, timed by the script at `timer`. */
async function importMs(file: string, timer: string): Promise<number> {
  const env = {
    ...cleanEnv(),
    AWS_REGION: 'us-east-1',
    // As Lambda sets it: the functions take their Lambda paths (shared/logger.ts writes
    // each line synchronously there).
    AWS_LAMBDA_FUNCTION_NAME: 'mailbridge-bench',
    // The API's key as a variable: the bench times the import, not a Secrets Manager call.
    MAILBRIDGE_API_KEY: 'bench-cold-start',
    LOG_LEVEL: 'warn',
  }
  const { stderr } = await runOk(process.execPath, [timer, pathToFileURL(file).href], { env })
  const match = /import-ms (\S+)/.exec(stderr)
  if (!match) throw new Error(`no import time from ${file}: ${stderr}`)
  return Number(match[1])
}

// A chunk an ES module imports statically: `from"./chunk-X.mjs"` (not `import("./…")`).
const STATIC_IMPORT = /\bfrom\s*"(\.\/[\w-]+\.mjs)"/g

/** Bytes a fresh import of `file` compiles: it and the chunks it imports, not its lazy ones. */
async function bytesAtStart(file: string, seen = new Set<string>()): Promise<number> {
  if (seen.has(file)) return 0
  seen.add(file)
  const code = await readFile(file, 'utf8')
  let bytes = Buffer.byteLength(code)
  for (const [, chunk] of code.matchAll(STATIC_IMPORT)) {
    bytes += await bytesAtStart(join(dirname(file), chunk as string), seen)
  }
  return bytes
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

export async function measureColdStart(rounds = ROUNDS): Promise<ColdStartResult[]> {
  log('npm run package (bundles and the zips osls makes)')
  await runOk('npm', ['run', '--silent', 'package'], { cwd: REPO, timeoutMs: PACKAGE_TIMEOUT_MS })
  const dir = await mkdtemp(join(tmpdir(), 'mailbridge-bench-cold-'))
  try {
    const files = new Map<string, string>()
    for (const { name, baseline } of FUNCTIONS) {
      files.set(name, join(REPO, 'dist', name, 'index.mjs'))
      const outfile = join(dir, `baseline-${name}`, 'index.mjs')
      await build({
        ...BUNDLE_OPTIONS,
        ...splitInto(outfile),
        stdin: { contents: baseline, resolveDir: REPO, loader: 'js' },
        target: 'node22',
        minify: true,
      })
      files.set(`baseline-${name}`, outfile)
    }
    const timer = join(dir, 'import-timer.mjs')
    await writeFile(timer, IMPORT_TIMER)
    const times = new Map<string, number[]>([...files.keys()].map((key) => [key, []]))
    for (let round = 0; round < rounds; round++) {
      for (const [key, file] of files) times.get(key)?.push(await importMs(file, timer))
    }
    const zips = join(REPO, '.serverless')
    const zipNames = new Set(await readdir(zips))
    const results: ColdStartResult[] = []
    for (const { name } of FUNCTIONS) {
      if (!zipNames.has(`${name}.zip`)) throw new Error(`osls made no ${name}.zip`)
      const own = times.get(name) ?? []
      const baseline = times.get(`baseline-${name}`) ?? []
      const ratios = own.map((ms, round) => ms / (baseline[round] as number)).sort((a, b) => a - b)
      results.push({
        name,
        zipBytes: (await stat(join(zips, `${name}.zip`))).size,
        bundleBytes: await bytesAtStart(files.get(name) as string),
        importMs: median(own),
        baselineBytes: await bytesAtStart(files.get(`baseline-${name}`) as string),
        baselineImportMs: median(baseline),
        ratioSpread: [percentile(ratios, 25), percentile(ratios, 75)],
      })
    }
    return results
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const HEADER = [
  'function',
  'zip KiB',
  'bundle KiB',
  'import ms',
  'baseline KiB',
  'baseline import ms',
  'ratio',
  'rounds p25–p75',
  `target ≤${TARGET_RATIO}×`,
]
const RIGHT_ALIGNED = new Set([1, 2, 3, 4, 5, 6, 7])

export function formatColdStart(results: ColdStartResult[]): string {
  const kib = (bytes: number) => fixed(bytes / 1024, 0)
  const lines = results.map((result) => {
    const ratio = result.importMs / result.baselineImportMs
    return [
      result.name,
      kib(result.zipBytes),
      kib(result.bundleBytes),
      fixed(result.importMs, 1),
      kib(result.baselineBytes),
      fixed(result.baselineImportMs, 1),
      `${fixed(ratio, 2)}×`,
      `${fixed(result.ratioSpread[0], 2)}–${fixed(result.ratioSpread[1], 2)}×`,
      ratio <= TARGET_RATIO ? 'PASS' : 'MISS',
    ]
  })
  return [
    `cold start per function: zip from npm run package; bundle KiB: the entry and the chunks it imports (not those loaded on first use); import ms: the median of ${ROUNDS} fresh Node ${process.versions.node} processes importing the bundle (the init before the first event); baseline: a bundle built alike holding only the same AWS SDK clients, constructed; ratio: of the two medians, the verdict; rounds p25–p75: the spread of the function ÷ baseline ratios of single rounds (the two import one after the other), which says how far the machine's noise moves the verdict:`,
    '',
    markdownTable(HEADER, lines, RIGHT_ALIGNED),
  ].join('\n')
}

if (isEntryPoint(import.meta.url)) {
  await runBench(async () => {
    const started = performance.now()
    log('cold start of each function')
    const results = await measureColdStart()
    const seconds = (performance.now() - started) / 1000
    console.log(`\n${formatColdStart(results)}\n(${seconds.toFixed(0)} s)`)
  })
}
