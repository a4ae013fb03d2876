/**
 * Malformed or hostile structure loses nothing that can be kept: past a limit the parse
 * stops, keeps the headers, the text and the parts read so far, and says why.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildParsedMessage, parseMail } from '../../shared/message.ts'
import { DEFAULT_PARSE_LIMITS } from '../../shared/parse/limits.ts'
import { queuedMessage } from '../helpers/factories.ts'
import { deepNesting, manyParts } from '../helpers/hostile-mail.ts'

async function parsed(raw: Buffer, limits = DEFAULT_PARSE_LIMITS) {
  return buildParsedMessage(queuedMessage(raw, ['a@x.test']), await parseMail(raw, limits))
}

test('300 levels of nesting: subject and text kept, parseError says which limit', async () => {
  const message = await parsed(deepNesting(300))
  assert.equal(message.subject, 'deep')
  assert.match(message.text ?? '', /top text/)
  assert.match(message.parseError ?? '', /nesting depth of 64/)
})

test('2,000 parts parse whole under the default limits', async () => {
  const message = await parsed(manyParts(2000))
  assert.equal(message.parseError, undefined)
  assert.equal(message.attachments.length, 2000)
})

test('past maxParts the parts read so far are kept', async () => {
  const message = await parsed(manyParts(50), { ...DEFAULT_PARSE_LIMITS, maxParts: 20 })
  assert.match(message.parseError ?? '', /20 MIME parts/)
  assert.equal(message.subject, '50 parts')
  assert.equal(message.text, 'first text')
  assert.ok(message.attachments.length >= 17, `${message.attachments.length} kept`)
})

test('past the header limit the message keeps its subject', async () => {
  const raw = Buffer.from(
    `Subject: kept\r\nX-Big: ${'a'.repeat(5000)}\r\nContent-Type: text/plain\r\n\r\nbody\r\n`,
  )
  const message = await parsed(raw, { ...DEFAULT_PARSE_LIMITS, maxHeaderBytes: 1000 })
  assert.equal(message.subject, 'kept')
  assert.match(message.parseError ?? '', /header size of 1000/)
})

test('past the decoded-bytes limit the text read so far is kept', async () => {
  const raw = Buffer.from(`Subject: long\r\n\r\n${'line of text\r\n'.repeat(1000)}`)
  const message = await parsed(raw, { ...DEFAULT_PARSE_LIMITS, maxDecodedBytes: 1400 })
  assert.match(message.parseError ?? '', /body size of 1400/)
  assert.match(message.text ?? '', /^line of text\n/)
})

test('a boundary folded without a semicolon still splits the parts', async () => {
  const raw = Buffer.from(
    'Subject: folded\r\nContent-Type: multipart/mixed\r\n boundary="zz"\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\nthe only part\r\n--zz--\r\n',
  )
  const message = await parsed(raw)
  assert.equal(message.text, 'the only part')
})
