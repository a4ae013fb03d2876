/**
 * TNEF (winmail.dat) unpacked into its attachments and bodies (shared/parse/tnef.ts):
 * against MimeKit's TNEF test streams and the files MimeKit extracts from them, node-tnef's
 * streams, streams made here, and damaged ones, which keep what came before the damage.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { buildParsedMessage, parseMail } from '../../shared/message.ts'
import { readTnef } from '../../shared/parse/tnef.ts'
import { CORPUS_DIR } from '../helpers/corpus.ts'
import { queuedMessage } from '../helpers/factories.ts'
import { inCi } from '../helpers/system.ts'
import { buildTnef, messageWithTnef } from '../helpers/tnef.ts'

const MIMEKIT_TNEF = join(CORPUS_DIR, 'mimekit/UnitTests/TestData/tnef')
const NODE_TNEF = join(CORPUS_DIR, 'node-tnef/package/testFiles')

function corpusThere(t: { skip(message: string): void }): boolean {
  if (existsSync(MIMEKIT_TNEF) && existsSync(NODE_TNEF)) return true
  const message = `the mail corpus is not at ${CORPUS_DIR} (it sits beside the repository)`
  if (inCi()) throw new Error(message)
  t.skip(message)
  return false
}

// MimeKit's extracted files went through git with text normalization (CRLF stored as LF),
// and it keeps the 16-byte interface id in front of an OLE object; either way, the same file.
function sameFile(ours: Uint8Array, expected: Buffer): boolean {
  const mine = Buffer.from(ours)
  return (
    mine.equals(expected) ||
    mine.equals(expected.subarray(16)) ||
    Buffer.from(mine.toString('latin1').replace(/\r\n/g, '\n'), 'latin1').equals(expected)
  )
}

test('MimeKit’s TNEF streams: every file MimeKit extracts, byte for byte, and the RTF and HTML bodies', (t) => {
  if (!corpusThere(t)) return
  const streams = readdirSync(MIMEKIT_TNEF).filter((name) => name.endsWith('.tnef'))
  assert.ok(streams.length >= 18, `${streams.length} streams`)
  let files = 0
  for (const stream of streams) {
    const name = stream.slice(0, -'.tnef'.length)
    const tnef = readTnef(readFileSync(join(MIMEKIT_TNEF, stream)))
    assert.ok(tnef, `${name}: a TNEF stream`)
    const dir = join(MIMEKIT_TNEF, name)
    for (const file of existsSync(dir) ? readdirSync(dir) : []) {
      const expected = readFileSync(join(dir, file))
      files++
      if (file === 'message.rtf') {
        assert.ok(tnef.rtf && sameFile(tnef.rtf, expected), `${name}: RTF body`)
      } else if (file === 'message.html') {
        // MimeKit writes the HTML body without the NUL that ends the property.
        const html = Buffer.from(tnef.html ?? [])
          .toString('latin1')
          .replace(/\0+$/, '')
        assert.ok(sameFile(Buffer.from(html, 'latin1'), expected), `${name}: HTML body`)
      } else if (file === 'message.txt') {
      } else {
        assert.ok(
          tnef.attachments.some((a) => sameFile(a.content, expected)),
          `${name}: ${file} (${expected.byteLength} bytes) is among ${tnef.attachments.map((a) => `${a.filename}:${a.content.byteLength}`)}`,
        )
      }
    }
  }
  assert.ok(files >= 40, `${files} files compared`)
})

test('names: the long file name, else the display name, else the 8.3 title; MIME type when recorded', (t) => {
  if (!corpusThere(t)) return
  const names = (stream: string) =>
    readTnef(readFileSync(join(MIMEKIT_TNEF, stream)))?.attachments.map((a) => [
      a.filename,
      a.mimeType,
    ])
  assert.deepEqual(names('long-filename.tnef'), [['allproductsmar2000.dat', null]])
  assert.deepEqual(names('panic.tnef'), [
    ['image001.jpg', 'image/jpeg'],
    ['image002.jpg', 'image/jpeg'],
    ['image003.png', 'image/png'],
  ])
  assert.deepEqual(names('unicode-mapi-attr-name.tnef')?.[0], ['spaconsole2.cfg', null])
})

test('node-tnef’s streams: attachments and bodies; a stream with a broken signature is not TNEF', (t) => {
  if (!corpusThere(t)) return
  const attachments = readTnef(readFileSync(join(NODE_TNEF, 'attachments.dat')))
  assert.deepEqual(
    attachments?.attachments.map((a) => [a.filename, a.content.byteLength]),
    [
      ['zappa_av1.jpg', 2937],
      ['bookmark.htm', 85805],
    ],
  )
  assert.match(Buffer.from(attachments?.rtf ?? []).toString('latin1'), /^\{\\rtf1/)
  const panic = readTnef(readFileSync(join(NODE_TNEF, 'panic.dat')))
  assert.equal(panic?.attachments.length, 3)
  assert.equal(readTnef(readFileSync(join(NODE_TNEF, 'badchecksum.dat'))), null)
})

test('a stream made here; cut short or with a record claiming too much, it keeps what came before', () => {
  const stream = buildTnef(
    [
      {
        title: 'REPORT~1.CSV',
        longName: 'quarterly report.csv',
        mimeTag: 'text/csv',
        data: Buffer.from('a,b\r\n1,2\r\n'),
      },
      { title: 'LOGO.PNG', data: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
    ],
    '{\\rtf1\\ansi Hello {\\b world}.}',
  )
  const whole = readTnef(stream)
  assert.deepEqual(
    whole?.attachments.map((a) => [a.filename, a.mimeType, Buffer.from(a.content).toString('hex')]),
    [
      ['quarterly report.csv', 'text/csv', Buffer.from('a,b\r\n1,2\r\n').toString('hex')],
      ['LOGO.PNG', null, '89504e470d0a1a0a'],
    ],
  )
  assert.equal(
    Buffer.from(whole?.rtf ?? []).toString('latin1'),
    '{\\rtf1\\ansi Hello {\\b world}.}',
  )

  // Cut in the second attachment's data: the first is whole, the second has no data.
  const cut = readTnef(stream.subarray(0, stream.byteLength - 10))
  assert.equal(cut?.attachments[0]?.filename, 'quarterly report.csv')
  assert.ok((cut?.attachments.length ?? 0) <= 2)

  // A length field claiming 4 GB: nothing read past the end, no throw.
  const lying = Buffer.from(stream)
  lying.writeUInt32LE(0xffffffff, 6 + 5)
  assert.deepEqual(readTnef(lying)?.attachments, [])
  assert.equal(readTnef(Buffer.from('not tnef at all')), null)
  assert.equal(readTnef(Buffer.alloc(0)), null)
})

test('in a message: unpacked files follow the attachments, each naming its winmail.dat; the original stays', async () => {
  const tnef = buildTnef(
    [
      {
        title: 'NOTES.TXT',
        longName: 'notes.txt',
        mimeTag: 'text/plain',
        data: Buffer.from('hi\r\n'),
      },
    ],
    '{\\rtf1 Hi}',
  )
  const raw = messageWithTnef(tnef)
  const message = buildParsedMessage(queuedMessage(raw, ['bob@example.com']), await parseMail(raw))
  assert.deepEqual(
    message.attachments.map((a) => [a.index, a.filename, a.contentType, a.size, a.parent]),
    [
      [0, 'winmail.dat', 'application/ms-tnef', tnef.byteLength, undefined],
      [1, 'notes.txt', 'text/plain', 4, 0],
      [2, 'body.rtf', 'application/rtf', 10, 0],
    ],
  )
})

test('the corpus’s Outlook messages: winmail.dat unpacked beside itself', async (t) => {
  if (!corpusThere(t)) return
  const raw = readFileSync(join(MIMEKIT_TNEF, 'rich-text.eml'))
  const message = buildParsedMessage(queuedMessage(raw, ['bob@example.com']), await parseMail(raw))
  const [original, ...unpacked] = message.attachments
  assert.deepEqual([original?.filename, original?.parent], ['winmail.dat', undefined])
  assert.ok(unpacked.every((a) => a.parent === 0))
  assert.ok(
    unpacked.some(
      (a) => a.filename === 'kitten-playing-with-a-christmas-tree.jpg' && a.size === 375081,
    ),
  )
  assert.ok(unpacked.some((a) => a.filename === 'body.rtf'))
})
