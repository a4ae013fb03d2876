/**
 * Libraries a Lambda function needs only on a rare path, kept out of its entry bundle so
 * that its cold start does not compile them: each is bundled on its own beside the entry
 * (`lazy/{name}.cjs`), and the entry gets a stand-in whose exports load that file with a
 * synchronous `require()` on first use. The source keeps its ordinary static imports (and
 * tsx, the tests and the edge the real modules); only the function bundles defer them.
 * A stand-in forwards property reads, calls and `new` to the real export, so it suits
 * exports used as namespaces, functions and classes, not ones compared by identity.
 */
import { basename, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type BuildOptions, build, type Plugin } from 'esbuild'

export interface LazyModule {
  /** The package, as the source imports it, or a file of ours, `./` and its path from the root. */
  module: string
  /**
   * The exports the source imports from it (`default` for a default import), or
   * `module.exports` for a CommonJS package that its importers `require()` whole.
   */
  exports: string[] | 'module.exports'
}

/** What each function defers, and why it is rare there. */
export const LAZY_MODULES = {
  // Legacy charsets (shared/parse/charset.ts): only text that is neither ASCII nor UTF-8
  // needs iconv-lite's tables and chardet's detector, 520 KiB between them, and only
  // EUC-JISX0213 and Shift_JISX0213 the JIS X 0213 table (shared/parse/jisx0213.ts).
  charsets: [
    { module: 'iconv-lite', exports: ['default'] },
    { module: 'chardet', exports: ['default'] },
    { module: './shared/parse/jisx0213-table.ts', exports: ['jisx0213Table'] },
  ],
  // postal-mime's table of HTML's named character references (45 KiB): only text derived
  // from an HTML part, for a message with no plain text, decodes them.
  htmlEntities: [
    { module: './node_modules/postal-mime/dist/esm/html-entities.js', exports: ['htmlEntities'] },
  ],
  // Regex routes (shared/routing/patterns.ts): compiled only when a route has a pattern.
  regex: [{ module: 're2js', exports: ['RE2JS'] }],
  // What pino requires as it loads for options mailbridge never sets (shared/logger.ts):
  // thread-stream runs `transport` targets in a worker thread (and loads worker_threads and
  // assert), @pinojs/redact serves `redact`; and safe-stable-stringify, which serves only
  // what JSON.stringify throws on (a circular reference, a BigInt), required then
  // (patches/pino+10.4.0.patch).
  logging: [
    { module: 'thread-stream', exports: 'module.exports' },
    { module: '@pinojs/redact', exports: 'module.exports' },
    { module: 'safe-stable-stringify', exports: 'module.exports' },
  ],
} satisfies Record<string, LazyModule[]>

/** What each Lambda function defers (scripts/build.ts bundles them so). */
export const FUNCTION_LAZY_MODULES: Record<'ingest' | 'deliver' | 'api', LazyModule[]> = {
  ingest: [
    ...LAZY_MODULES.charsets,
    ...LAZY_MODULES.htmlEntities,
    ...LAZY_MODULES.regex,
    ...LAZY_MODULES.logging,
  ],
  deliver: [...LAZY_MODULES.charsets, ...LAZY_MODULES.logging],
  api: [...LAZY_MODULES.charsets, ...LAZY_MODULES.regex, ...LAZY_MODULES.logging],
}

const REPO = fileURLToPath(new URL('../', import.meta.url))
const LAZY_DIR = 'lazy'
const STAND_IN = 'lazy-stand-in'

/** Where `module`'s bundle goes, from the function's entry: `./lazy/{name}.cjs`. */
export function lazyFileOf(module: string): string {
  const name = module.startsWith('./') ? basename(module).replace(/\.[cm]?[jt]s$/, '') : module
  return `./${LAZY_DIR}/${name.replace(/[^a-z0-9-]/gi, '_')}.cjs`
}

// A file of ours is named by its path from the root, however the importing file spells it.
function nameOf(path: string, resolveDir: string): string {
  return path.startsWith('.') ? `./${relative(REPO, resolve(resolveDir, path))}` : path
}

// One export's stand-in (the whole module's when no name is given): a function target, so
// that calls and `new` can be forwarded too.
const FORWARD = `
let loaded
const load = () => (loaded ??= require(FILE))
const forward = (name) => {
  const real = () => (name === undefined ? load() : load()[name])
  return new Proxy(function () {}, {
    get: (_, key) => Reflect.get(real(), key),
    has: (_, key) => Reflect.has(real(), key),
    apply: (_, self, args) => Reflect.apply(real(), self, args),
    construct: (_, args) => Reflect.construct(real(), args),
  })
}
`

/** The esbuild plugin that swaps each of `modules` for its stand-in. */
export function lazyModules(modules: LazyModule[]): Plugin {
  const byName = new Map(modules.map((lazy) => [lazy.module, lazy]))
  return {
    name: 'lazy-modules',
    setup(plugin) {
      plugin.onResolve({ filter: /.*/ }, ({ path, namespace, resolveDir }) => {
        if (namespace === STAND_IN) return { path, external: true }
        const name = nameOf(path, resolveDir)
        return byName.has(name) ? { path: name, namespace: STAND_IN } : undefined
      })
      plugin.onLoad({ filter: /.*/, namespace: STAND_IN }, ({ path }) => {
        const lazy = byName.get(path) as LazyModule
        const lines =
          lazy.exports === 'module.exports'
            ? ['module.exports = forward()']
            : lazy.exports.map((name) =>
                name === 'default'
                  ? `export default forward('default')`
                  : `export const ${name} = forward(${JSON.stringify(name)})`,
              )
        const contents =
          FORWARD.replace('FILE', JSON.stringify(lazyFileOf(path))) + lines.join('\n')
        return { contents, loader: 'js' }
      })
    },
  }
}

/** Bundles each of `modules` on its own, CommonJS, into `dir`/lazy/ beside the entry. */
export async function buildLazyModules(
  modules: LazyModule[],
  dir: string,
  options: BuildOptions,
): Promise<string[]> {
  const files: string[] = []
  for (const { module, exports } of modules) {
    const outfile = join(dir, lazyFileOf(module))
    await build({
      ...options,
      stdin: {
        contents:
          exports === 'module.exports'
            ? `module.exports = require(${JSON.stringify(module)})`
            : `export { ${exports.join(', ')} } from ${JSON.stringify(module)}`,
        resolveDir: REPO,
        loader: 'js',
      },
      outfile,
      format: 'cjs',
      banner: {},
    })
    files.push(outfile)
  }
  return files
}
