import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

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
