import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath, pathToFileURL } from 'node:url'

// A child that has not closed its streams by then hangs (ms).
const CHILD_TIMEOUT_MS = 30_000

const LOGGER = fileURLToPath(new URL('../../shared/logger.ts', import.meta.url))

// A process that logs one line and is killed at once, as Lambda may end a frozen one.
const LAST_WORDS = `
const { createLogger } = await import(${JSON.stringify(LOGGER)})
createLogger('handler').error('last words')
process.kill(process.pid, 'SIGKILL')
`

test('on Lambda a line is written before the log call returns: none is lost when the process is ended', () => {
  for (let run = 0; run < 5; run++) {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', LAST_WORDS],
      { env: { ...process.env, AWS_LAMBDA_FUNCTION_NAME: 'mailbridge-ingest', LOG_LEVEL: 'info' } },
    )
    assert.equal(child.signal, 'SIGKILL')
    const line = JSON.parse(child.stdout.toString().trim())
    assert.equal(line.msg, 'last words', `run ${run}`)
    assert.equal(line.component, 'handler')
  }
})

// pino requires safe-stable-stringify only when JSON.stringify throws (patches/pino+10.4.0.patch).
const CIRCULAR = `
const { createLogger } = await import(${JSON.stringify(LOGGER)})
const job = { id: 'j1', size: 10n }
job.self = job
createLogger('handler').warn({ job }, 'circular')
`

test('an object with a circular reference or a BigInt is still logged', () => {
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', CIRCULAR],
    { env: { ...process.env, AWS_LAMBDA_FUNCTION_NAME: 'mailbridge-ingest', LOG_LEVEL: 'info' } },
  )
  const line = JSON.parse(child.stdout.toString().trim())
  assert.equal(line.msg, 'circular')
  assert.deepEqual(line.job, { id: 'j1', size: 10, self: '[Circular]' })
})

// pino's stream requires assert only as it closes, and pino worker_threads only for an
// asynchronous destination (patches/sonic-boom+4.2.1.patch, patches/pino+10.4.0.patch): a
// synchronous destination, as on Lambda, loads neither. Run from a file: `node -e` defines a
// global for each built-in module, `assert` among them.
const CLOSED = `
import { readFileSync } from 'node:fs'
const { pino } = await import(process.argv[2])
const file = process.argv[3]
const loaded = () =>
  process.moduleLoadList.filter((name) => /^NativeModule (assert|worker_threads)$/.test(name))
pino({ base: {} }, pino.destination({ dest: file, sync: true, append: true }))
console.log(JSON.stringify(loaded()))
for (const sync of [true, false]) {
  const destination = pino.destination({ dest: file, sync, append: true })
  pino({ base: {} }, destination).info({ sync }, 'before close')
  await new Promise((resolve, reject) => {
    destination.on('close', resolve)
    destination.on('error', reject)
    destination.end()
  })
}
process.stdout.write(readFileSync(file, 'utf8'))
`

test('a synchronous log stream loads neither assert nor worker_threads; both kinds close with every line written', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mailbridge-log-'))
  try {
    const script = join(dir, 'close.mjs')
    await writeFile(script, CLOSED)
    const pino = pathToFileURL(createRequire(import.meta.url).resolve('pino')).href
    const child = spawnSync(process.execPath, [script, pino, join(dir, 'out.log')], {
      timeout: CHILD_TIMEOUT_MS,
    })
    assert.equal(child.status, 0, child.stderr.toString())
    const [modules, ...lines] = child.stdout.toString().trim().split('\n')
    assert.deepEqual(JSON.parse(modules ?? ''), [], 'assert or worker_threads loaded')
    assert.deepEqual(
      lines.map((line) => JSON.parse(line)).map((line) => [line.msg, line.sync]),
      [
        ['before close', true],
        ['before close', false],
      ],
    )
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
