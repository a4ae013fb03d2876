/**
 * Real text in every charset users send, declared on the part and in encoded words, and
 * undeclared 8-bit text and raw 8-bit headers, which are detected rather than garbled.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { buildParsedMessage, parseMail } from '../../shared/message.ts'
import { decodeEucJisx0213, decodeShiftJisx0213 } from '../../shared/parse/jisx0213.ts'
import { queuedMessage } from '../helpers/factories.ts'

const dir = new URL('../fixtures/charsets/', import.meta.url)
const samples = JSON.parse(readFileSync(new URL('index.json', dir), 'utf8')) as Record<
  string,
  { file: string; text: string }
>

function mail(headers: string[], body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${headers.join('\r\n')}\r\n\r\n`, 'latin1'), body])
}

async function parsed(raw: Buffer) {
  return buildParsedMessage(queuedMessage(raw, ['a@x.test']), await parseMail(raw))
}

for (const [label, { file, text }] of Object.entries(samples)) {
  test(`${label}: body and encoded-word subject decode to the text that was written`, async () => {
    const bytes = readFileSync(new URL(file, dir))
    const raw = mail(
      [
        'From: a@x.test',
        `Subject: =?${label}?B?${bytes.toString('base64')}?=`,
        `Content-Type: text/plain; charset="${label}"`,
        'Content-Transfer-Encoding: 8bit',
      ],
      Buffer.concat([bytes, Buffer.from('\r\n')]),
    )
    const message = await parsed(raw)
    assert.equal(message.subject, text)
    assert.equal(message.text?.trimEnd(), text)
    assert.deepEqual(message.charsets?.text, { charset: label, guessed: false })
  })
}

test('undeclared windows-1252 text is detected, not a row of U+FFFD', async () => {
  const { file, text } = samples['windows-1252'] as { file: string; text: string }
  const body = Buffer.concat(Array(4).fill(readFileSync(new URL(file, dir))))
  const message = await parsed(mail(['From: a@x.test', 'Subject: hi'], body))
  assert.equal(message.text, text.repeat(4))
  assert.deepEqual(message.charsets?.text, { charset: 'windows-1252', guessed: true })
})

test('text mislabelled as UTF-8 or US-ASCII is detected and said to be guessed', async () => {
  const body = Buffer.from('Grüße aus Köln, déjà vu, naïve café, Ærøskøbing. '.repeat(3), 'latin1')
  for (const charset of ['utf-8', 'us-ascii']) {
    const message = await parsed(
      mail(['Subject: x', `Content-Type: text/plain; charset=${charset}`], body),
    )
    assert.equal(message.text, body.toString('latin1'))
    assert.equal(message.charsets?.text?.guessed, true)
  }
})

test('undeclared UTF-8 is read as UTF-8, and said to be guessed', async () => {
  const message = await parsed(mail(['Subject: x'], Buffer.from('Grüße, 日本語, 한국어')))
  assert.equal(message.text, 'Grüße, 日本語, 한국어')
  assert.deepEqual(message.charsets?.text, { charset: 'utf-8', guessed: true })
})

test('a raw Latin-1 header and a raw UTF-8 header both read right', async () => {
  const raw = Buffer.concat([
    Buffer.from('From: =?utf-8?Q?Ren=C3=A9?= <rene@x.test>\r\nSubject: ', 'latin1'),
    Buffer.from('Réunion à Zürich, déjà prévue', 'latin1'),
    Buffer.from('\r\nX-Note: ', 'latin1'),
    Buffer.from('Grüße 日本語', 'utf8'),
    Buffer.from('\r\n\r\nbody\r\n', 'latin1'),
  ])
  const message = await parsed(raw)
  assert.equal(message.subject, 'Réunion à Zürich, déjà prévue')
  assert.equal(message.headers.find((h) => h.name === 'X-Note')?.value, 'Grüße 日本語')
  assert.equal(message.from?.name, 'René')
})

test('an unknown charset label falls back to detection instead of failing', async () => {
  const message = await parsed(
    mail(
      ['Subject: x', 'Content-Type: text/plain; charset=x-unknown-42'],
      Buffer.from('héllo wörld', 'utf8'),
    ),
  )
  assert.equal(message.text, 'héllo wörld')
  assert.deepEqual(message.charsets?.text, { charset: 'utf-8', guessed: true })
})

test('JIS X 0213: a bad sequence is one U+FFFD, and the ASCII after it is kept', () => {
  const euc = (hex: string) => decodeEucJisx0213(Buffer.from(hex, 'hex'))
  const sjis = (hex: string) => decodeShiftJisx0213(Buffer.from(hex, 'hex'))
  // 0x5C and 0x7E stay ASCII; a lead byte before ASCII, or cut off at the end, is U+FFFD
  assert.equal(sjis('5c7e82a0'), '\\~あ')
  assert.equal(euc('5c7ea4a2'), '\\~あ')
  assert.equal(sjis('8220a481'), '\ufffd ､\ufffd')
  assert.equal(euc('a4418e418f41a4'), '\ufffdA\ufffdA\ufffdA\ufffd')
  // a pair that maps to nothing: one U+FFFD, and its trail byte is read again
  assert.equal(sjis('8777'), '\ufffdw')
  assert.equal(euc('8fa2a1'), '\ufffd◆')
  // plane 2, three bytes in EUC: 丂 (2-1-2), and a pair of code points: か゚
  assert.equal(euc('8fa1a2a4f7'), '丂か\u309a')
  assert.equal(sjis('f04182f5'), '丂か\u309a')
})
