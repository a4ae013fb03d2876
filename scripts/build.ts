/**
 * `npm run build`: one minified ESM bundle per Lambda function (esbuild), in
 * dist/{name}/index.mjs, as serverless.yml packages them. Prints each bundle's size.
 */
import { statSync } from 'node:fs'
import { build } from 'esbuild'

const FUNCTIONS = ['ingest', 'deliver', 'api'] as const

for (const name of FUNCTIONS) {
  const outfile = `dist/${name}/index.mjs`
  await build({
    entryPoints: [`functions/${name}/handler.ts`],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    sourcemap: 'linked',
    // The AWS SDK is bundled too: the runtime's copy is not pinned to our version.
    // Some dependencies are CommonJS and call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'warning',
  })
  const kib = (statSync(outfile).size / 1024).toFixed(0)
  console.log(`${name.padEnd(8)} ${outfile.padEnd(26)} ${kib.padStart(6)} KiB`)
}
