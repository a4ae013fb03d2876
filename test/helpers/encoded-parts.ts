/**
 * Messages whose one attachment is known byte for byte, under every transfer encoding,
 * with CRLF or bare-LF line ends: for the attachment-bytes suites.
 */

export interface EncodedCase {
  name: string
  raw: Buffer
  /** The attachment's decoded content, exactly. */
  expected: Buffer
}

// Binary content with the bytes line-based parsers mangle: NUL, CR LF, CR CR LF, a bare
// CR, 0xFF, and no final line break.
const BINARY = Buffer.concat([
  Buffer.from([0x00, 0x0d, 0x0a, 0x0d, 0x0d, 0x0a, 0x41, 0xff, 0x0d, 0x42]),
  Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
  Buffer.from('\r\nlast line, no break'),
])

function csv(eol: string): Buffer {
  // A CSV with an empty line, an '=' and trailing blanks, ending in a line break.
  return Buffer.from(['id,name,amount', '1,Zoë,3.50', '', '2,"a=b",=4', 'trailing  ', ''].join(eol))
}

// Quoted-printable, line by line: '=' and 8-bit bytes escaped, a trailing blank as =20,
// hard line breaks kept as the source's line ends (RFC 2045 6.7).
function quotedPrintable(content: Buffer, eol: string): string {
  return content
    .toString('latin1')
    .split(/\r?\n/)
    .map((line) =>
      [...Buffer.from(line, 'latin1')]
        .map((b) =>
          b === 0x3d || b > 0x7e || (b < 0x20 && b !== 0x09)
            ? `=${b.toString(16).toUpperCase().padStart(2, '0')}`
            : String.fromCharCode(b),
        )
        .join('')
        .replace(/ $/, '=20'),
    )
    .join(eol)
}

export function encodedCases(): EncodedCase[] {
  const out: EncodedCase[] = []
  for (const [ends, eol] of [
    ['CRLF', '\r\n'],
    ['LF', '\n'],
  ] as const) {
    const text = csv(eol)
    const ascii = Buffer.from(text.toString('utf8').replace('ë', 'e'))
    const encodings: Array<[string, Buffer, Buffer]> = [
      ['base64', BINARY, Buffer.from(BINARY.toString('base64').replace(/.{76}/g, `$&${eol}`))],
      ['quoted-printable', text, Buffer.from(quotedPrintable(text, eol), 'latin1')],
      ['7bit', ascii, ascii],
      ['8bit', text, text],
      ['binary', BINARY, BINARY],
    ]
    for (const [encoding, expected, body] of encodings) {
      const head = [
        'From: a@x.test',
        'To: b@y.test',
        `Subject: ${encoding} ${ends}`,
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="BB"',
        '',
        '--BB',
        'Content-Type: text/plain',
        '',
        'see attached',
        '--BB',
        'Content-Type: application/octet-stream',
        'Content-Disposition: attachment; filename="data.bin"',
        `Content-Transfer-Encoding: ${encoding}`,
        '',
        '',
      ].join(eol)
      const raw = Buffer.concat([Buffer.from(head), body, Buffer.from(`${eol}--BB--${eol}`)])
      out.push({ name: `${encoding}, ${ends}`, raw, expected })
    }
  }
  return out
}
