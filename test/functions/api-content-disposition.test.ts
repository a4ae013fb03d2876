import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { attachmentDisposition, safeContentType } from '../../functions/api/content-disposition.ts'

describe('api: attachment headers', () => {
  it('sends an ASCII name as is, in both forms', () => {
    assert.equal(
      attachmentDisposition('report-2025.pdf', 'attachment-0'),
      `attachment; filename="report-2025.pdf"; filename*=UTF-8''report-2025.pdf`,
    )
  })

  it('encodes non-ASCII per RFC 5987 and replaces it in the fallback', () => {
    assert.equal(
      attachmentDisposition('Übersicht 日本.txt', 'attachment-0'),
      `attachment; filename="_bersicht __.txt"; filename*=UTF-8''%C3%9Cbersicht%20%E6%97%A5%E6%9C%AC.txt`,
    )
  })

  it("escapes quotes and the characters attr-char forbids: ' ( ) *", () => {
    assert.equal(
      attachmentDisposition(`a"b'(c)*.txt`, 'attachment-0'),
      `attachment; filename="a_b'(c)*.txt"; filename*=UTF-8''a%22b%27%28c%29%2A.txt`,
    )
  })

  it('cannot be used to split the header or escape the download folder', () => {
    const header = attachmentDisposition('../../etc/evil\r\nSet-Cookie: x=1.sh', 'attachment-0')
    assert.doesNotMatch(header, /[\r\n]/)
    assert.equal(
      header,
      `attachment; filename="evilSet-Cookie: x=1.sh"; filename*=UTF-8''evilSet-Cookie%3A%20x%3D1.sh`,
    )
    assert.doesNotThrow(() => new Headers({ 'Content-Disposition': header }))
    assert.equal(
      attachmentDisposition('C:\\Users\\x\\notes.txt', 'attachment-0'),
      `attachment; filename="notes.txt"; filename*=UTF-8''notes.txt`,
    )
  })

  it('falls back to a generated name when the mail gives none', () => {
    for (const filename of [null, '', '  ', '..', 'dir/']) {
      assert.equal(
        attachmentDisposition(filename, 'attachment-3'),
        `attachment; filename="attachment-3"; filename*=UTF-8''attachment-3`,
        String(filename),
      )
    }
  })

  it('keeps well-formed content types and replaces anything else with octet-stream', () => {
    assert.equal(safeContentType('image/PNG'), 'image/png')
    assert.equal(safeContentType('application/vnd.ms-excel'), 'application/vnd.ms-excel')
    for (const bad of [null, undefined, '', 'text', 'text/html\r\nX-Evil: 1', 'a/b; c=d', '/']) {
      assert.equal(safeContentType(bad), 'application/octet-stream', String(bad))
    }
  })
})
