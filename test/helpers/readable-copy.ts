/**
 * What a test runs as another user (`nobody`), in a directory that user may read. The
 * checkout may sit in a home directory only its owner can enter (0700), and then neither
 * its sources, nor tsx, nor the Node of node_modules are reachable by anyone else. The copy
 * holds the edge's bundle as scripts/build.ts makes it, bin/mailbridge beside it as
 * installed, test scripts bundled the same way, and Node itself.
 */
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import type { TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { lookupGroup, lookupUser } from '../../edge/accounts.ts'
import { findCommand, inCi, runOk } from './system.ts'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
// esbuild takes seconds; a minute is a stuck build (ms).
const BUILD_TIMEOUT_MS = 60_000
// getent answers at once from /etc/passwd; more is a stuck NSS service (ms).
const LOOKUP_TIMEOUT_MS = 5_000
// As bin/mailbridge's freshness check needs them: empty, so the bundle is always newer.
const SOURCE_DIRS = ['edge', 'shared']

/** A user and group to run a program as, by name. */
export interface RunAs {
  user: string
  group: string
}

/** The unprivileged user the tests run programs as. */
export const NOBODY: RunAs = { user: 'nobody', group: 'nogroup' }

/** setpriv's arguments for running a program as `account`, with no other groups. */
export function setprivAs(account: RunAs): string[] {
  return [`--reuid=${account.user}`, `--regid=${account.group}`, '--clear-groups']
}

/**
 * True when this test can run programs as `account` (setpriv, the user and the group
 * exist). Otherwise as needCommands in system.ts: fails in CI, skips elsewhere.
 */
export async function needRunAs(t: TestContext, account: RunAs): Promise<boolean> {
  const absent: string[] = []
  if (findCommand('setpriv') === undefined) absent.push('setpriv (apt-get install util-linux)')
  if (!(await lookupUser(account.user, LOOKUP_TIMEOUT_MS))) absent.push(`user ${account.user}`)
  if (!(await lookupGroup(account.group, LOOKUP_TIMEOUT_MS))) absent.push(`group ${account.group}`)
  if (absent.length === 0) return true
  const message = `cannot run programs as ${account.user}: no ${absent.join(', no ')}`
  if (inCi()) throw new Error(`${message} (required in CI)`)
  t.skip(message)
  return false
}

export interface ReadableCopyOptions<Name extends string> {
  /** The edge's bundle in dist/edge (scripts/build.ts) and bin/mailbridge to run it. */
  edge?: boolean
  /**
   * Test scripts, name → TypeScript source that imports the repository's modules by
   * absolute path; each is bundled to `<dir>/<name>.mjs`.
   */
  scripts?: Record<Name, string>
}

export interface ReadableCopy<Name extends string = never> {
  /** The copy's directory: 0755, its files 0644 or 0755. */
  dir: string
  /** This process's Node, copied to `<dir>/node_modules/.bin/node` as npm installs it. */
  node: string
  /** `<dir>/bin/mailbridge`, which runs the bundle in `<dir>/dist/edge` with that Node. */
  mailbridge: string
  /** This process's PATH with that Node's directory first, for a `node` looked up there. */
  path: string
  /** Each bundled script's path, by name. */
  scripts: Record<Name, string>
  /** Deletes the copy. */
  remove(): Promise<void>
}

/** Builds a copy under the OS's temporary directory that any user may read and run. */
export async function readableCopy<Name extends string = never>(
  options: ReadableCopyOptions<Name> = {},
): Promise<ReadableCopy<Name>> {
  const dir = await mkdtemp(join(tmpdir(), 'mailbridge-readable-'))
  try {
    await mustBeOpenToOthers(dirname(dir))
    // Where npm puts node@22's binary, which bin/mailbridge looks for: when the npm
    // scripts run, this process's Node is that one, inside the checkout as well.
    const nodeBin = join(dir, 'node_modules/.bin')
    await mkdir(nodeBin, { recursive: true })
    const node = join(nodeBin, 'node')
    await copyFile(process.execPath, node)
    await mkdir(join(dir, 'bin'))
    const mailbridge = join(dir, 'bin/mailbridge')
    if (options.edge) {
      await runOk(
        process.execPath,
        ['--import', 'tsx', 'scripts/build.ts', '--outdir', join(dir, 'dist')],
        { cwd: REPO, timeoutMs: BUILD_TIMEOUT_MS },
      )
      await copyFile(join(REPO, 'bin/mailbridge'), mailbridge)
      for (const name of SOURCE_DIRS) await mkdir(join(dir, name))
    }
    const scripts = {} as Record<Name, string>
    for (const [name, source] of Object.entries<string>(options.scripts ?? {})) {
      const outfile = join(dir, `${name}.mjs`)
      await bundleScript(name, source, outfile)
      scripts[name as Name] = outfile
    }
    await openUp(dir)
    return {
      dir,
      node,
      mailbridge,
      path: [nodeBin, process.env.PATH].filter(Boolean).join(delimiter),
      scripts,
      remove: () => rm(dir, { recursive: true, force: true }),
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
}

/** One self-contained ESM file, as scripts/build.ts bundles the edge. */
async function bundleScript(name: string, source: string, outfile: string): Promise<void> {
  await build({
    stdin: { contents: source, loader: 'ts', resolveDir: REPO, sourcefile: `${name}.ts` },
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    // Some dependencies are CommonJS and call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'warning',
  })
}

/**
 * Throws unless every directory from `path` up to / lets others through: TMPDIR inside a
 * private home would make the copy as unreachable as the checkout.
 */
async function mustBeOpenToOthers(path: string): Promise<void> {
  for (let current = path; ; current = dirname(current)) {
    if (((await stat(current)).mode & 0o001) === 0) {
      throw new Error(
        `${current} is closed to other users: point TMPDIR at a directory they may enter`,
      )
    }
    if (dirname(current) === current) return
  }
}

/** Directories 0755, executables 0755, other files 0644, whatever the umask made them. */
async function openUp(dir: string): Promise<void> {
  await chmod(dir, 0o755)
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name)
    if (entry.isDirectory()) await chmod(path, 0o755)
    else await chmod(path, ((await stat(path)).mode & 0o100) !== 0 ? 0o755 : 0o644)
  }
}
