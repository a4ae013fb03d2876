/**
 * Parses raw mail with postal-mime (patched: exact part bytes, a charset decoder, part and
 * body limits, partial results; see patches/README.md) and lists the leaf parts, which the
 * report, calendar and charset readers need and postal-mime's result does not keep.
 */
import PostalMime, { type Email, setCharsetDecoder } from 'postal-mime'
import { type CharsetUse, decodeHeaderBytes, decodeText } from './charset.ts'
import { DEFAULT_PARSE_LIMITS, type ParseLimits } from './limits.ts'

/** One leaf part of the MIME tree (nested inline messages are parsed on their own). */
export interface MimePart {
  /** Lower-case type/subtype, e.g. `text/plain`. */
  contentType: string
  /** Content-Type parameters, names lower-case, values decoded. */
  params: Record<string, string>
  /** `attachment`, `inline` or `''`. */
  disposition: string
  /** The decoded bytes of the part (after the transfer encoding), exact. */
  content: Uint8Array
  /** For a text part postal-mime read as a body: how its bytes became text. */
  charset?: CharsetUse
}

export interface MailParse {
  email: Email
  /** Why the parse stopped early or failed; what was read before it is kept. */
  error?: string
  parts: MimePart[]
}

// postal-mime's parse tree, which its types keep internal: only what is read here.
interface MimeNode {
  contentType: {
    parsed: { value: string; params: Record<string, string> }
    multipart: string | false
  }
  contentDisposition: { parsed: { value: string } }
  childNodes: MimeNode[]
  content: ArrayBuffer | null
}

// How each text part's bytes became text, keyed by the part's buffer: the charset decoder
// is called from inside postal-mime, which has no place to keep it.
const decodedWith = new WeakMap<ArrayBufferLike, CharsetUse>()

setCharsetDecoder((bytes, label, kind) => {
  if (kind === 'header') return decodeHeaderBytes(bytes).text
  const { text, charset, guessed } = decodeText(bytes, label)
  decodedWith.set(bytes.buffer, { charset, guessed })
  return text
})

function leaves(node: MimeNode, out: MimePart[]): MimePart[] {
  if (!node.contentType.multipart) {
    const content = new Uint8Array(node.content ?? new ArrayBuffer(0))
    const part: MimePart = {
      contentType: node.contentType.parsed.value,
      params: node.contentType.parsed.params,
      disposition: node.contentDisposition.parsed.value,
      content,
    }
    const charset = node.content ? decodedWith.get(node.content) : undefined
    if (charset) part.charset = charset
    out.push(part)
  }
  for (const child of node.childNodes) leaves(child, out)
  return out
}

/** Parses raw bytes; never throws: a failure is kept in `error` beside what was read. */
export async function parseMail(
  raw: Uint8Array,
  limits: ParseLimits = DEFAULT_PARSE_LIMITS,
): Promise<MailParse> {
  const parser = new PostalMime({
    attachmentEncoding: 'arraybuffer',
    maxNestingDepth: limits.maxNestingDepth,
    maxHeadersSize: limits.maxHeaderBytes,
    maxParts: limits.maxParts,
    maxBodyBytes: limits.maxDecodedBytes,
    maxRfc822NestingDepth: limits.maxMessageNesting,
    partial: true,
  })
  try {
    const email = await parser.parse(raw)
    const parts = leaves((parser as unknown as { root: MimeNode }).root, [])
    const { partialError, ...rest } = email
    return partialError === undefined
      ? { email: rest, parts }
      : { email: rest, parts, error: partialError }
  } catch (error) {
    const empty: Email = { headers: [], headerLines: [], attachments: [] }
    return {
      email: empty,
      parts: [],
      error: error instanceof Error ? error.message : String(error),
    }
  }
}
