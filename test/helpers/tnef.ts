/**
 * TNEF streams made here (MS-OXTNEF), for tests that need a winmail.dat whatever the corpus
 * holds: attachments with an 8.3 title, a long name and a MIME type in their MAPI
 * properties, and an RTF body stored uncompressed (MS-OXRTFCP's "MELA" form).
 */

export interface TnefAttachmentSpec {
  title: string
  data: Buffer
  longName?: string
  mimeTag?: string
}

// One attribute: level, id | type << 16, length, data, checksum (the sum of the data bytes).
function attribute(level: number, id: number, type: number, data: Buffer): Buffer {
  const head = Buffer.alloc(9)
  head.writeUInt8(level, 0)
  head.writeUInt32LE(((type << 16) | id) >>> 0, 1)
  head.writeUInt32LE(data.byteLength, 5)
  const sum = Buffer.alloc(2)
  sum.writeUInt16LE(
    data.reduce((a, b) => (a + b) & 0xffff, 0),
    0,
  )
  return Buffer.concat([head, data, sum])
}

function padded(bytes: Buffer): Buffer {
  return Buffer.concat([bytes, Buffer.alloc((4 - (bytes.byteLength % 4)) % 4)])
}

// A MAPI property list of single-valued variable-length properties: [type, id, bytes].
function mapiProperties(props: Array<[number, number, Buffer]>): Buffer {
  const count = Buffer.alloc(4)
  count.writeUInt32LE(props.length, 0)
  const parts: Buffer[] = [count]
  for (const [type, id, value] of props) {
    const head = Buffer.alloc(12)
    head.writeUInt16LE(type, 0)
    head.writeUInt16LE(id, 2)
    head.writeUInt32LE(1, 4) // one value
    head.writeUInt32LE(value.byteLength, 8)
    parts.push(head, padded(value))
  }
  return Buffer.concat(parts)
}

function unicode(text: string): Buffer {
  return Buffer.from(`${text}\0`, 'utf16le')
}

/** An RTF body in MS-OXRTFCP's uncompressed form: a 16-byte header, then the RTF. */
export function uncompressedRtf(rtf: string): Buffer {
  const body = Buffer.from(rtf, 'latin1')
  const header = Buffer.alloc(16)
  header.writeUInt32LE(body.byteLength + 12, 0) // COMPSIZE: the bytes after this field
  header.writeUInt32LE(body.byteLength, 4) // RAWSIZE
  header.writeUInt32LE(0x414c454d, 8) // "MELA": not compressed
  return Buffer.concat([header, body])
}

/** A TNEF stream with these attachments and, when given, an RTF body. */
export function buildTnef(attachments: TnefAttachmentSpec[], rtf?: string): Buffer {
  const signature = Buffer.alloc(6)
  signature.writeUInt32LE(0x223e9f78, 0)
  signature.writeUInt16LE(0x0001, 4)
  const parts: Buffer[] = [signature]
  if (rtf !== undefined) {
    parts.push(
      attribute(1, 0x9003, 0x0006, mapiProperties([[0x0102, 0x1009, uncompressedRtf(rtf)]])),
    )
  }
  for (const a of attachments) {
    parts.push(attribute(2, 0x9002, 0x0006, Buffer.alloc(14)))
    parts.push(attribute(2, 0x8010, 0x0001, Buffer.from(`${a.title}\0`, 'latin1')))
    parts.push(attribute(2, 0x800f, 0x0006, a.data))
    const props: Array<[number, number, Buffer]> = []
    if (a.longName) props.push([0x001f, 0x3707, unicode(a.longName)])
    if (a.mimeTag) props.push([0x001e, 0x370e, Buffer.from(`${a.mimeTag}\0`, 'latin1')])
    if (props.length) parts.push(attribute(2, 0x9005, 0x0006, mapiProperties(props)))
  }
  return Buffer.concat(parts)
}

/** A message whose one attachment is `tnef`, as Outlook sends it: `winmail.dat`, base64. */
export function messageWithTnef(tnef: Buffer, text = 'See attached.'): Buffer {
  const b64 = tnef.toString('base64').replace(/.{1,76}/g, '$&\r\n')
  return Buffer.from(
    [
      'From: Ann <ann@example.org>',
      'To: bob@example.com',
      'Subject: Outlook sends TNEF',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      text,
      '--b1',
      'Content-Type: application/ms-tnef; name="winmail.dat"',
      'Content-Disposition: attachment; filename="winmail.dat"',
      'Content-Transfer-Encoding: base64',
      '',
      `${b64}--b1--`,
      '',
    ].join('\r\n'),
  )
}
