import assert from 'node:assert/strict'
import { test } from 'node:test'
import { nodeTooOld } from '../../shared/node-version.ts'

test('the tests run on Node 22.5 or newer: npm put node@22 first on the PATH', () => {
  // On a machine whose own node is 20, this fails unless npm's node@22 is what runs.
  assert.equal(nodeTooOld(), undefined, `running ${process.execPath}`)
})

test('Node 20 and 22.4 are refused with a message saying what to do; 22.5 and 24 pass', () => {
  assert.match(nodeTooOld('20.19.0') ?? '', /Node 20\.19\.0 is too old: mailbridge needs 22\.5/)
  assert.match(nodeTooOld('22.4.1') ?? '', /too old/)
  assert.equal(nodeTooOld('22.5.0'), undefined)
  assert.equal(nodeTooOld('24.1.0'), undefined)
})
