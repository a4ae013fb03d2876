/**
 * `npm run build`: one minified, tree-shaken ESM bundle per Lambda function (esbuild), in
 * dist/{name}/index.mjs, as serverless.yml packages them (its source map beside it as
 * index.mjs.map, which the zip leaves out: decode a Lambda stack trace with it), and the edge's command line
 * (edge/ops/cli.ts) in dist/edge/cli.mjs (with its worker thread's dist/edge/queue-worker.mjs,
 * which it loads from beside itself), which bin/mailbridge runs when it is newer than the
 * sources (about 30 MB less memory than compiling the TypeScript at start with tsx). Prints
 * each size.
 */
import { rmSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { build } from 'esbuild'
import { BUNDLE_OPTIONS, splitInto } from './bundle-options.ts'
import {
  buildLazyModules,
  FUNCTION_LAZY_MODULES,
  type LazyModule,
  lazyModules,
} from './lazy-modules.ts'

// `--outdir DIR` builds elsewhere than dist/ (the tests do, leaving the checkout alone).
const { values } = parseArgs({ options: { outdir: { type: 'string', default: 'dist' } } })
const outdir = values.outdir as string

// What to bundle: Lambda runs Node 22, and so does the edge (bin/mailbridge runs the
// node@22 that npm installs).
interface Bundle {
  name: string
  entry: string
  outfile: string
  target: string
  minify?: boolean
  /**
   * A Lambda function's: libraries of a rare path, bundled beside the entry and loaded on
   * first use, and the source's `import()`s split into chunks beside it.
   */
  lazy?: LazyModule[]
}

const BUNDLES: Bundle[] = [
  {
    name: 'ingest',
    entry: 'functions/ingest/handler.ts',
    outfile: 'ingest/index.mjs',
    target: 'node22',
    lazy: FUNCTION_LAZY_MODULES.ingest,
  },
  {
    name: 'deliver',
    entry: 'functions/deliver/handler.ts',
    outfile: 'deliver/index.mjs',
    target: 'node22',
    lazy: FUNCTION_LAZY_MODULES.deliver,
  },
  {
    name: 'api',
    entry: 'functions/api/handler.ts',
    outfile: 'api/index.mjs',
    target: 'node22',
    lazy: FUNCTION_LAZY_MODULES.api,
  },
  // Not minified: its stack traces end up in the mail host's logs.
  {
    name: 'edge',
    entry: 'edge/ops/cli.ts',
    outfile: 'edge/cli.mjs',
    target: 'node22',
    minify: false,
  },
  // The edge's SQS sender thread (edge/queue-thread.ts), which loads it from beside cli.mjs.
  {
    name: 'edge-queue',
    entry: 'edge/queue-worker.ts',
    outfile: 'edge/queue-worker.mjs',
    target: 'node22',
    minify: false,
  },
]

for (const { name, entry, target, minify = true, ...bundle } of BUNDLES) {
  const outfile = join(outdir, bundle.outfile)
  const lazy = bundle.lazy ?? []
  // A function's directory holds its build alone: no chunk of an earlier build in its zip.
  if (bundle.lazy) rmSync(dirname(outfile), { recursive: true, force: true })
  await build({
    ...BUNDLE_OPTIONS,
    ...(bundle.lazy ? splitInto(outfile) : { outfile }),
    entryPoints: [entry],
    plugins: [lazyModules(lazy), ...(BUNDLE_OPTIONS.plugins ?? [])],
    target,
    minify,
    // A function's map stays out of its zip and out of its cold start (`external` writes it
    // without a sourceMappingURL); the edge's is linked, for its logs' stack traces.
    sourcemap: minify ? 'external' : 'linked',
  })
  const sideOptions = { ...BUNDLE_OPTIONS, target, minify, sourcemap: 'external' } as const
  const files = [outfile, ...(await buildLazyModules(lazy, dirname(outfile), sideOptions))]
  for (const file of files) {
    const kib = (statSync(file).size / 1024).toFixed(0)
    console.log(`${name.padEnd(8)} ${file.padEnd(34)} ${kib.padStart(6)} KiB`)
  }
}
