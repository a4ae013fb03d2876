/**
 * Reads a zip file's entries (stored or deflated), enough for the function zips that
 * `osls package` writes: the test proves what is inside them without an unzip program.
 */
import { readFile } from 'node:fs/promises'
import { inflateRawSync } from 'node:zlib'

// Signatures and fixed sizes of the zip format (APPNOTE.TXT §4.3).
const END_OF_CENTRAL_DIRECTORY = 0x06054b50
const CENTRAL_HEADER = 0x02014b50
const LOCAL_HEADER_BYTES = 30
const STORED = 0
const DEFLATED = 8

/** Every file in the zip at `path`, by name. */
export async function readZip(path: string): Promise<Map<string, Buffer>> {
  const zip = await readFile(path)
  // The end record is the last 22 bytes unless the archive has a comment; osls writes none.
  let end = zip.length - 22
  while (end >= 0 && zip.readUInt32LE(end) !== END_OF_CENTRAL_DIRECTORY) end--
  if (end < 0) throw new Error(`${path} is not a zip file`)
  const count = zip.readUInt16LE(end + 10)
  let at = zip.readUInt32LE(end + 16)
  const files = new Map<string, Buffer>()
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== CENTRAL_HEADER) throw new Error(`${path}: bad central directory`)
    const method = zip.readUInt16LE(at + 10)
    const compressedSize = zip.readUInt32LE(at + 20)
    const nameLength = zip.readUInt16LE(at + 28)
    const extraLength = zip.readUInt16LE(at + 30)
    const commentLength = zip.readUInt16LE(at + 32)
    const localHeader = zip.readUInt32LE(at + 42)
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength)
    const dataStart =
      localHeader +
      LOCAL_HEADER_BYTES +
      zip.readUInt16LE(localHeader + 26) +
      zip.readUInt16LE(localHeader + 28)
    const data = zip.subarray(dataStart, dataStart + compressedSize)
    if (method !== STORED && method !== DEFLATED) {
      throw new Error(`${path}: ${name} uses compression method ${method}`)
    }
    if (!name.endsWith('/')) files.set(name, method === STORED ? data : inflateRawSync(data))
    at += 46 + nameLength + extraLength + commentLength
  }
  return files
}
