import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { DataDirInUseError, lockDataDir } from '../../local/emulator.ts'

function withDir(run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'mailbridge-lock-'))
  try {
    run(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

test('the lock holds this process id until it is released', () =>
  withDir((dir) => {
    const unlock = lockDataDir(dir)
    assert.equal(readFileSync(join(dir, 'mailbridge.pid'), 'utf8'), `${process.pid}\n`)
    unlock()
    assert.equal(existsSync(join(dir, 'mailbridge.pid')), false)
  }))

test('a directory locked by a running process is refused, naming it', () =>
  withDir((dir) => {
    // Our parent (the test runner) is running.
    writeFileSync(join(dir, 'mailbridge.pid'), `${process.ppid}\n`)
    assert.throws(
      () => lockDataDir(dir),
      (error: Error) =>
        error instanceof DataDirInUseError && error.message.includes(`process ${process.ppid}`),
    )
  }))

test('a lock left by a process that died (kill -9) is taken over', () =>
  withDir((dir) => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid
    writeFileSync(join(dir, 'mailbridge.pid'), `${dead}\n`)
    const unlock = lockDataDir(dir)
    assert.equal(readFileSync(join(dir, 'mailbridge.pid'), 'utf8'), `${process.pid}\n`)
    unlock()
  }))
