/**
 * Runs a Lambda bundle as Lambda does: in a fresh Node process of its own, from a directory
 * with no node_modules, the module imported once (the init), then its `handler` called with
 * each event in turn and a context.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { runOk } from '../../shared/commands.ts'

// Init and a few events against the local emulators; a minute is a hung handler (ms).
const INVOKE_TIMEOUT_MS = 60_000

// The child: events on stdin, results to the file named in argv (stdout is the logs'). Run
// from a file, as Lambda's runtime imports a handler: `node -e` would give the bundle
// globals Lambda does not (each built-in module by name: `assert`, `http`...).
const RUNNER = `
const [module, out] = process.argv.slice(2)
let input = ''
for await (const chunk of process.stdin) input += chunk
const { handler } = await import(module)
const results = []
for (const [index, event] of JSON.parse(input).entries()) {
  const context = {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    awsRequestId: 'request-' + index,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 30000,
  }
  results.push(await handler(event, context))
}
const { writeFileSync } = await import('node:fs')
writeFileSync(out, JSON.stringify(results))
process.exit(0)
`

/** What `handler` returned for each event, in order. */
export async function invokeArtifact(
  file: string,
  events: unknown[],
  env: NodeJS.ProcessEnv,
): Promise<unknown[]> {
  const dir = await mkdtemp(join(tmpdir(), 'mailbridge-invoke-'))
  try {
    const out = join(dir, 'results.json')
    const runner = join(dir, 'runner.mjs')
    await writeFile(runner, RUNNER)
    await runOk(process.execPath, [runner, pathToFileURL(file).href, out], {
      env,
      input: JSON.stringify(events),
      timeoutMs: INVOKE_TIMEOUT_MS,
    })
    return JSON.parse(await readFile(out, 'utf8')) as unknown[]
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
