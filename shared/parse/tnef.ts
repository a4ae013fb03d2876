/**
 * TNEF (`application/ms-tnef`, `winmail.dat`, MS-OXTNEF): the attachments and the body that
 * Outlook packs into one opaque part. A TNEF stream is a signature, then attributes, each a
 * small type-length-value record; the attachments' long names and MIME types and the
 * message's RTF body sit in MAPI property lists inside two of them. The RTF body is
 * compressed (MS-OXRTFCP) and is expanded with @kenjiuno/decompressrtf.
 *
 * Written here, not taken from npm: node-tnef, the one TNEF reader there, loads bunyan and
 * yargs, copies the rest of the stream once per attribute (quadratic in a part's size),
 * holds the bytes as an array of numbers, and reads neither long file names nor the RTF
 * body. Everything here is bounded by the part's own bytes: a record that claims more than
 * is left ends the read, keeping what came before it.
 */
import { decompressRTF } from '@kenjiuno/decompressrtf'

/** One file unpacked from a TNEF stream. */
export interface TnefFile {
  /** The long file name when the stream has one, else the 8.3 title; null when neither. */
  filename: string | null
  /** The MIME type Outlook recorded (PR_ATTACH_MIME_TAG), or null. */
  mimeType: string | null
  content: Uint8Array
}

export interface TnefContent {
  attachments: TnefFile[]
  /** The message body as RTF (PR_RTF_COMPRESSED, expanded), or null. */
  rtf: Uint8Array | null
  /** The HTML body (PR_BODY_HTML), as bytes in the stream's code page, or null. */
  html: Uint8Array | null
}

// MS-OXTNEF §2.1.3.1: the stream's first four bytes, little-endian.
const TNEF_SIGNATURE = 0x223e9f78
// Attribute levels (§2.1.3.3).
const LEVEL_MESSAGE = 0x01
const LEVEL_ATTACHMENT = 0x02
// Attribute ids (the low 16 bits of attrId; the high 16 are its type).
const ATT_ATTACH_DATA = 0x800f
const ATT_ATTACH_TITLE = 0x8010
const ATT_ATTACH_REND_DATA = 0x9002 // starts each attachment
const ATT_MSG_PROPS = 0x9003
const ATT_ATTACHMENT = 0x9005 // the attachment's MAPI properties
// MAPI property ids (MS-OXPROPS).
const PR_RTF_COMPRESSED = 0x1009
const PR_BODY_HTML = 0x1013
const PR_ATTACH_DATA_OBJ = 0x3701
const PR_ATTACH_LONG_FILENAME = 0x3707
const PR_ATTACH_MIME_TAG = 0x370e
const PR_DISPLAY_NAME = 0x3001
// The interface id before an embedded message's bytes (IID_IMessage, MS-OXTNEF §2.1.3.4),
// as it is written: its first three fields little-endian.
const IID_IMESSAGE = Buffer.from('0703020000000000c000000000000046', 'hex')
// MAPI property types (MS-OXCDATA §2.11.1) and the size of each fixed-length one.
const PT_STRING8 = 0x001e
const PT_UNICODE = 0x001f
const PT_BINARY = 0x0102
const PT_OBJECT = 0x000d
const MV_FLAG = 0x1000
const FIXED_SIZES: Record<number, number> = {
  1: 0, // null
  2: 2, // short (padded to 4)
  3: 4, // long
  4: 4, // float
  5: 8, // double
  6: 8, // currency
  7: 8, // apptime
  10: 4, // error
  11: 2, // boolean (padded to 4)
  20: 8, // int64
  64: 8, // systime
  72: 16, // CLSID
}
// An RTF body expands at most 17 bytes per 2 of input (a 16+2-byte reference per two bytes
// of the compressed stream); a header claiming more than this is not honoured (bytes).
const MAX_RTF_BYTES = 64 * 1024 * 1024

/** True when an attachment is a TNEF stream, by its type or its traditional name. */
export function isTnef(mimeType: string | null | undefined, filename: string | null | undefined) {
  return (
    mimeType?.toLowerCase() === 'application/ms-tnef' ||
    mimeType?.toLowerCase() === 'application/vnd.ms-tnef' ||
    filename?.toLowerCase() === 'winmail.dat'
  )
}

interface MapiProperty {
  id: number
  type: number
  /** Each value's bytes (one for a single-valued property). */
  values: Uint8Array[]
}

// A reader over one buffer that throws RangeError past its end.
class Reader {
  offset = 0
  private readonly view: DataView
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }
  get left() {
    return this.bytes.byteLength - this.offset
  }
  u8() {
    return this.view.getUint8(this.offset++)
  }
  u16() {
    const value = this.view.getUint16(this.offset, true)
    this.offset += 2
    return value
  }
  u32() {
    const value = this.view.getUint32(this.offset, true)
    this.offset += 4
    return value
  }
  take(length: number) {
    if (length > this.left) throw new RangeError(`${length} bytes claimed, ${this.left} left`)
    const out = this.bytes.subarray(this.offset, this.offset + length)
    this.offset += length
    return out
  }
  // MAPI values are padded to a multiple of four bytes.
  pad(length: number) {
    this.take((4 - (length % 4)) % 4)
  }
}

// MS-OXTNEF §2.1.3.4: a count, then each property: type, id, a name for a named property
// (id ≥ 0x8000), then its value(s). Variable-length values carry a count even when single.
function readMapiProperties(bytes: Uint8Array): MapiProperty[] {
  const r = new Reader(bytes)
  const out: MapiProperty[] = []
  try {
    const count = r.u32()
    for (let i = 0; i < count && r.left > 0; i++) {
      const type = r.u16()
      const id = r.u16()
      if (id >= 0x8000) {
        r.take(16) // the property set's GUID
        if (r.u32() === 1) {
          const length = r.u32()
          r.take(length)
          r.pad(length)
        } else r.u32()
      }
      const base = type & ~MV_FLAG
      const variable = base === PT_STRING8 || base === PT_UNICODE || base === PT_BINARY
      const object = base === PT_OBJECT
      const values: Uint8Array[] = []
      const valueCount = type & MV_FLAG || variable || object ? r.u32() : 1
      for (let v = 0; v < valueCount; v++) {
        if (variable || object) {
          const length = r.u32()
          values.push(r.take(length))
          r.pad(length)
        } else {
          const size = FIXED_SIZES[base]
          if (size === undefined) return out // an unknown type: its length cannot be known
          values.push(r.take(size))
          r.pad(size)
        }
      }
      out.push({ id, type: base, values })
    }
  } catch (error) {
    if (!(error instanceof RangeError)) throw error
  }
  return out
}

// Text of a string property: UTF-16LE for PT_UNICODE, else 8-bit (the code page is not
// known here; Outlook writes ASCII names in practice). Without its terminating NULs.
function text(property: MapiProperty | undefined): string | null {
  const value = property?.values[0]
  if (!value) return null
  const decoded =
    property.type === PT_UNICODE
      ? Buffer.from(value).toString('utf16le')
      : Buffer.from(value).toString('latin1')
  return decoded.replace(/\0+$/, '') || null
}

function expandRtf(compressed: Uint8Array): Uint8Array | null {
  // MS-OXRTFCP §2.1.3.1.1: COMPSIZE counts the bytes after itself; a stream that claims
  // more than it has would be read past its end.
  if (compressed.byteLength < 16) return null
  const view = new DataView(compressed.buffer, compressed.byteOffset, 16)
  if (view.getUint32(0, true) + 4 > compressed.byteLength) return null
  if (view.getUint32(4, true) > MAX_RTF_BYTES) return null
  try {
    return Uint8Array.from(decompressRTF(Array.from(compressed)))
  } catch {
    return null
  }
}

/**
 * The attachments and bodies of a TNEF stream; null when the bytes are not one (no
 * signature). A stream cut short or with a bad record keeps what was read before it.
 */
export function readTnef(bytes: Uint8Array): TnefContent | null {
  const r = new Reader(bytes)
  if (bytes.byteLength < 6 || r.u32() !== TNEF_SIGNATURE) return null
  r.u16() // legacy key
  const content: TnefContent = { attachments: [], rtf: null, html: null }
  let current: (TnefFile & { title: string | null }) | null = null
  // Objects found beside an attachment's own data, added after it.
  let objects: TnefFile[] = []
  const finish = () => {
    if (current) {
      const { title, ...file } = current
      content.attachments.push({ ...file, filename: file.filename ?? title }, ...objects)
    }
    objects = []
  }
  try {
    while (r.left >= 9) {
      const level = r.u8()
      const id = r.u32() & 0xffff
      const data = r.take(r.u32())
      r.u16() // checksum: a wrong one is common in the wild and changes nothing here
      if (level === LEVEL_ATTACHMENT && id === ATT_ATTACH_REND_DATA) {
        finish()
        current = { filename: null, title: null, mimeType: null, content: new Uint8Array() }
      } else if (level === LEVEL_ATTACHMENT && current && id === ATT_ATTACH_TITLE) {
        current.title = Buffer.from(data).toString('latin1').replace(/\0+$/, '') || null
      } else if (level === LEVEL_ATTACHMENT && current && id === ATT_ATTACH_DATA) {
        current.content = data
      } else if (level === LEVEL_ATTACHMENT && current && id === ATT_ATTACHMENT) {
        const props = new Map(readMapiProperties(data).map((p) => [p.id, p]))
        current.filename =
          text(props.get(PR_ATTACH_LONG_FILENAME)) ?? text(props.get(PR_DISPLAY_NAME)) ?? null
        current.mimeType = text(props.get(PR_ATTACH_MIME_TAG))
        // An attachment held as an object (an embedded message, an OLE file): its bytes
        // follow the 16-byte interface id. Beside a rendering in attAttachData (Outlook
        // writes an embedded message's icon there), it is a file of its own.
        const object = props.get(PR_ATTACH_DATA_OBJ)
        const value = object?.values[0]
        if (value) {
          const embedded = object?.type === PT_OBJECT
          const body = embedded ? value.subarray(16) : value
          const isMessage = embedded && Buffer.from(value.subarray(0, 16)).equals(IID_IMESSAGE)
          if (current.content.byteLength === 0) current.content = body
          else if (!Buffer.from(current.content).equals(body)) {
            objects.push({
              filename: current.filename ?? current.title,
              mimeType: isMessage ? 'application/ms-tnef' : current.mimeType,
              content: body,
            })
          }
        }
      } else if (level === LEVEL_MESSAGE && id === ATT_MSG_PROPS) {
        for (const property of readMapiProperties(data)) {
          const value = property.values[0]
          if (!value) continue
          if (property.id === PR_RTF_COMPRESSED) content.rtf = expandRtf(value)
          else if (property.id === PR_BODY_HTML) content.html = value
        }
      }
    }
  } catch (error) {
    if (!(error instanceof RangeError)) throw error
  }
  finish()
  return content
}

/** An attachment of the message, or a file unpacked from one of its TNEF attachments. */
export interface MessageFile {
  filename: string | null
  mimeType: string
  content: ArrayBuffer | Uint8Array | string
  contentId?: string | undefined
  disposition: string | null
  /** For an unpacked file: the index of the TNEF attachment it came from. */
  parent?: number
}

function bytesOf(content: ArrayBuffer | Uint8Array | string): Uint8Array {
  if (typeof content === 'string') return Buffer.from(content, 'latin1')
  return content instanceof Uint8Array ? content : new Uint8Array(content)
}

/**
 * The message's attachments, then the files unpacked from each TNEF attachment (its
 * attachments, its RTF body as `body.rtf`, its HTML body as `body.html`), each with the
 * index of the TNEF part it came from. The TNEF part itself stays where it was: its
 * original bytes remain downloadable. The API's attachment download counts by this list.
 */
export function withTnefContents<A extends MessageFile>(attachments: A[]): MessageFile[] {
  const out: MessageFile[] = [...attachments]
  for (const [parent, attachment] of attachments.entries()) {
    if (!isTnef(attachment.mimeType, attachment.filename)) continue
    const tnef = readTnef(bytesOf(attachment.content))
    if (!tnef) continue
    const unpacked = (
      filename: string | null,
      mimeType: string | null,
      content: Uint8Array,
    ): MessageFile => ({
      filename,
      mimeType: mimeType ?? 'application/octet-stream',
      content,
      disposition: 'attachment',
      parent,
    })
    for (const file of tnef.attachments)
      out.push(unpacked(file.filename, file.mimeType, file.content))
    if (tnef.rtf) out.push(unpacked('body.rtf', 'application/rtf', tnef.rtf))
    if (tnef.html) out.push(unpacked('body.html', 'text/html', tnef.html))
  }
  return out
}
