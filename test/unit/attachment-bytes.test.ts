/**
 * Attachments come out of the parser byte for byte as they were sent, under every transfer
 * encoding and with CRLF or bare-LF sources (postal-mime kept only base64 exact).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildParsedMessage, parseMail } from '../../shared/message.ts'
import { encodedCases } from '../helpers/encoded-parts.ts'
import { queuedMessage } from '../helpers/factories.ts'

for (const { name, raw, expected } of encodedCases()) {
  test(`${name}: the attachment is its decoded content, byte for byte`, async () => {
    const parse = await parseMail(raw)
    assert.equal(parse.error, undefined)
    const attachment = parse.email.attachments[0]
    assert.ok(attachment)
    assert.equal(
      Buffer.from(attachment.content as ArrayBuffer).toString('hex'),
      expected.toString('hex'),
    )
    const message = buildParsedMessage(queuedMessage(raw, ['b@y.test']), parse)
    assert.equal(message.attachments[0]?.size, expected.length)
    assert.equal(message.text, 'see attached')
  })
}

test('a single-part 8bit body keeps its last line break: no boundary owns it', async () => {
  const raw = Buffer.from(
    'Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: 8bit\r\n\r\na\r\nb\r\n',
  )
  const { email } = await parseMail(raw)
  assert.equal(Buffer.from(email.attachments[0]?.content as ArrayBuffer).toString(), 'a\r\nb\r\n')
})

test('a calendar part is kept as the bytes that were sent', async () => {
  const ics = 'BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n\r\n'
  const raw = Buffer.from(
    `Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n${ics}\r\n--b--\r\n`,
  )
  const { email } = await parseMail(raw)
  const calendar = email.attachments.find((a) => a.mimeType === 'text/calendar')
  assert.equal(Buffer.from(calendar?.content as ArrayBuffer).toString(), ics)
})
