/**
 * Headers for serving an attachment taken from untrusted mail: the filename and the
 * content type come from the sender, so both are made safe before they reach a header.
 */

// RFC 2045 §5.1 type/subtype tokens, without parameters.
const MIME_TYPE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/i
const FALLBACK_TYPE = 'application/octet-stream'
// C0 controls and DEL, which no header value may carry.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL_CHARS = /[\x00-\x1f\x7f]/g

/** The content type to send: the declared one when well-formed, else octet-stream. */
export function safeContentType(declared: string | null | undefined): string {
  const type = declared?.trim() ?? ''
  return MIME_TYPE.test(type) ? type.toLowerCase() : FALLBACK_TYPE
}

/**
 * RFC 5987 §3.2.1 ext-value: UTF-8, percent-encoding every byte that is not an attr-char.
 * encodeURIComponent leaves `'()*` alone, which attr-char does not allow.
 */
function extValue(value: string): string {
  const encoded = encodeURIComponent(value).replace(
    /['()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  )
  return `UTF-8''${encoded}`
}

/**
 * An ASCII stand-in for clients that ignore `filename*` (RFC 6266 §4.3): anything outside
 * printable ASCII, quotes, backslashes and path separators become `_`, so the quoted
 * string can neither end early nor point outside the download folder.
 */
function asciiFallback(filename: string): string {
  return filename.replace(/[^\x20-\x7e]|["\\/]/g, '_')
}

/** Strips control characters (CR/LF would split the header) and path components. */
function cleanFilename(filename: string): string {
  const cleaned = filename
    .replace(CONTROL_CHARS, '')
    .replace(/^.*[\\/]/, '')
    .trim()
  return cleaned === '.' || cleaned === '..' ? '' : cleaned
}

/**
 * `Content-Disposition: attachment` with both `filename` (ASCII) and `filename*` (UTF-8),
 * per RFC 6266 §4.3; `fallbackName` is used when the mail gave no usable name.
 */
export function attachmentDisposition(filename: string | null, fallbackName: string): string {
  const name = cleanFilename(filename ?? '') || fallbackName
  return `attachment; filename="${asciiFallback(name)}"; filename*=${extValue(name)}`
}
