/**
 * The esbuild options every bundle shares: `npm run build` (build.ts) and the bench's
 * baseline bundles (bench/cold-start.ts), so that both are built alike.
 */
import { createRequire } from 'node:module'
import { basename, dirname } from 'node:path'
import type { BuildOptions, Plugin } from 'esbuild'

// zod's `locales` namespace (zod/v4/locales/index.js) holds every language's error
// messages, 258 KB of each bundle, and nothing here calls z.config(z.locales.xx()): this
// plugin leaves English alone in it, the default zod registers itself.
const ZOD_LOCALES_IMPORT = /^\.\.\/locales\/index\.js$/
const ZOD_ENGLISH = createRequire(import.meta.url).resolve('zod/v4/locales/en.js')

export const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(plugin) {
    plugin.onResolve({ filter: ZOD_LOCALES_IMPORT }, ({ importer }) =>
      importer.includes('/node_modules/zod/')
        ? { path: 'locales', namespace: 'zod-en' }
        : undefined,
    )
    plugin.onLoad({ filter: /.*/, namespace: 'zod-en' }, () => ({
      contents: `export { default as en } from ${JSON.stringify(ZOD_ENGLISH)}`,
      resolveDir: dirname(ZOD_ENGLISH),
    }))
  },
}

// Classic zod's namespace (the API's, through @hono/zod-openapi) re-exports features nothing
// here calls: z.compile and its code generator (zod/v4/core/compile.js, 29 KiB) and
// z.fromJSONSchema (zod/v4/classic/from-json-schema.js, 12 KiB). A namespace is bundled
// whole, so the API compiled them at every cold start: this plugin puts in their place a
// module with the same exports that throws when called.
const ZOD_UNUSED = /\/node_modules\/zod\/v4\/(core\/compile|classic\/from-json-schema)\.js$/
const ZOD_UNUSED_STUB = `
const unbundled = (name) => () => {
  throw new Error(name + ' is left out of this bundle (scripts/bundle-options.ts zodUnusedLeftOut)')
}
export const INVALID = Symbol.for('zod.compile.invalid')
export class ZodCompileAsyncError extends Error {}
export class ZodCompileUnsupportedError extends Error {}
export const compile = unbundled('z.compile')
export const compileFn = unbundled('z.compile')
export const withParser = unbundled('z.withParser')
export const fromJSONSchema = unbundled('z.fromJSONSchema')
`

export const zodUnusedLeftOut: Plugin = {
  name: 'zod-unused-left-out',
  setup(plugin) {
    plugin.onLoad({ filter: ZOD_UNUSED }, () => ({ contents: ZOD_UNUSED_STUB, loader: 'js' }))
  },
}

// @hono/zod-openapi imports classic zod for one call as it loads, extendZodWithOpenApi(z),
// which puts `.openapi()` on classic schemas, and re-exports that `z`. The API's schemas are
// zod/mini (functions/api/schemas.ts), so classic zod (its core shared with mini aside, about
// 110 KiB) was compiled and run at every cold start for nothing. Its import from there gets
// a `z` whose ZodType already has `.openapi`, so that the call returns at once; anything else
// read from it throws, naming this plugin.
const CLASSIC_ZOD_IMPORTER = /\/node_modules\/@hono\/zod-openapi\//
const CLASSIC_ZOD_STUB = `
const leftOut = () => {
  throw new Error('classic zod is left out of this bundle (scripts/bundle-options.ts classicZodLeftOut): build schemas with zod/mini')
}
const present = { ZodType: { prototype: { openapi: leftOut } } }
export const z = new Proxy(present, { get: (target, key) => (key in target ? target[key] : leftOut()) })
`

export const classicZodLeftOut: Plugin = {
  name: 'classic-zod-left-out',
  setup(plugin) {
    plugin.onResolve({ filter: /^zod$/ }, ({ importer }) =>
      CLASSIC_ZOD_IMPORTER.test(importer) ? { path: 'zod', namespace: 'classic-zod' } : undefined,
    )
    plugin.onLoad({ filter: /.*/, namespace: 'classic-zod' }, () => ({
      contents: CLASSIC_ZOD_STUB,
      loader: 'js',
    }))
  },
}

export const BUNDLE_OPTIONS: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  // The AWS SDK ships ES modules under `module`: tree-shaken, its bundle is a third smaller
  // than from the CommonJS `main` that esbuild picks first for Node.
  mainFields: ['module', 'main'],
  plugins: [zodEnglishOnly, zodUnusedLeftOut, classicZodLeftOut],
  // The AWS SDK is bundled too: the runtime's copy is not pinned to our version.
  // Some dependencies are CommonJS and call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: 'warning',
}

/**
 * A Lambda function's entry written to `outfile`, and beside it a chunk for each
 * module the code loads with `import()` (lib-storage for big bodies, the SDK's credential
 * providers), compiled when that code first runs rather than at cold start. The chunks go
 * in the function's zip (serverless.yml).
 */
export function splitInto(outfile: string): BuildOptions {
  return {
    outdir: dirname(outfile),
    entryNames: basename(outfile, '.mjs'),
    splitting: true,
    chunkNames: '[name]-[hash]',
    outExtension: { '.js': '.mjs' },
  }
}
