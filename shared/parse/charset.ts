/**
 * Bytes to text for any charset mail declares, or none: iconv-lite first (the East Asian
 * families TextDecoder lacks: CP949, Big5-HKSCS, UTF-7...), TextDecoder for the rest
 * (ISO-2022-JP), small decoders for ISO-2022-KR, HZ, Johab, EUC-JISX0213 and Shift_JISX0213.
 * Undeclared or mislabelled 8-bit text is detected: UTF-8 when it is valid UTF-8, else
 * chardet's best guess, else windows-1252, never a row of U+FFFD. What was used is recorded, and whether it was guessed.
 */
import chardet from 'chardet'
import iconv from 'iconv-lite'
import { decodeEucJisx0213, decodeShiftJisx0213 } from './jisx0213.ts'
import {
  composeEightByteHangul,
  decodeHz,
  decodeIso2022Kr,
  decodeJohab,
} from './legacy-charsets.ts'

/** The charset a text was decoded with, and whether it was guessed rather than declared. */
export interface CharsetUse {
  charset: string
  guessed: boolean
}

export interface Decoded extends CharsetUse {
  text: string
}

// Detection reads at most this much: enough for chardet's statistics, bounded on big bodies.
const DETECT_SAMPLE_BYTES = 64 * 1024
// chardet's confidence (0–100) below which its guess is not trusted over windows-1252.
const MIN_CONFIDENCE = 10
// Single-byte charsets chardet may name, and how close (a fraction of the top guess's
// confidence) windows-1252 must come to be preferred among them.
const SINGLE_BYTE = /^(windows-125\d|iso-8859-\d+)$/i
const WESTERN_MARGIN = 0.6
// The last resort for 8-bit text that is not UTF-8: every byte maps to a character.
const LAST_RESORT = 'windows-1252'

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true })

const OWN_DECODERS: Record<string, (bytes: Uint8Array) => string> = {
  'iso-2022-kr': decodeIso2022Kr,
  csiso2022kr: decodeIso2022Kr,
  'hz-gb-2312': decodeHz,
  hz: decodeHz,
  johab: decodeJohab,
  // JIS X 0213 extends EUC-JP and Shift_JIS; read as those, its extra characters were lost.
  'euc-jisx0213': decodeEucJisx0213,
  'x-euc-jisx0213': decodeEucJisx0213,
  'euc-jis-2004': decodeEucJisx0213,
  shift_jisx0213: decodeShiftJisx0213,
  'x-shift_jisx0213': decodeShiftJisx0213,
  'shift_jis-2004': decodeShiftJisx0213,
}
// Labels of KS X 1001 charsets, which may carry 8-byte Hangul syllables.
const KOREAN = /^(euc-?kr|cp949|ks_c_5601|ksc5601|windows-949|uhc)/
const ASCII_LABELS = new Set(['us-ascii', 'ascii', 'ansi_x3.4-1968', 'iso646-us', '646', 'us'])
const UTF8_LABELS = new Set(['utf-8', 'utf8', 'unicode-1-1-utf-8'])

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] as number) >= 0x80) return false
  return true
}

function normalize(label: string | undefined): string | undefined {
  const cleaned = label
    ?.trim()
    .replace(/^["']|["']$/g, '')
    .toLowerCase()
  return cleaned ? cleaned : undefined
}

/** Text in a charset named by `label`, or undefined when no decoder knows the label. */
function decodeAs(bytes: Uint8Array, label: string): string | undefined {
  const own = OWN_DECODERS[label]
  if (own) return own(bytes)
  if (iconv.encodingExists(label)) {
    const text = iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), label)
    return KOREAN.test(label) ? composeEightByteHangul(text) : text
  }
  try {
    return new TextDecoder(label).decode(bytes)
  } catch {
    return undefined
  }
}

/** Detects the charset of text that declares none, or declares one its bytes are not in. */
export function detect(bytes: Uint8Array): Decoded {
  const ascii = isAscii(bytes)
  // 7-bit text with escape sequences may be ISO-2022-*; plain 7-bit text is ASCII.
  if (ascii && !bytes.includes(0x1b)) {
    return { text: utf8.decode(bytes), charset: 'us-ascii', guessed: false }
  }
  if (!ascii) {
    try {
      return { text: fatalUtf8.decode(bytes), charset: 'utf-8', guessed: true }
    } catch {
      // not UTF-8: ask the detector
    }
  }
  const sample = bytes.subarray(0, DETECT_SAMPLE_BYTES)
  const matches = chardet.analyse(sample)
  // chardet tells the Latin single-byte charsets apart poorly on short text (Western text
  // came out as windows-1250); windows-1252, by far the most common in mail, wins when it
  // scores close to the top single-byte guess.
  const top = matches[0]
  const western = matches.find((m) => m.name === LAST_RESORT)
  if (
    top &&
    western &&
    SINGLE_BYTE.test(top.name) &&
    western.confidence >= top.confidence * WESTERN_MARGIN
  ) {
    return {
      text: iconv.decode(Buffer.from(bytes), LAST_RESORT),
      charset: LAST_RESORT,
      guessed: true,
    }
  }
  for (const match of matches) {
    if (match.confidence < MIN_CONFIDENCE) break
    const name = match.name.toLowerCase()
    if (name === 'utf-8' || name.startsWith('utf-16') || name.startsWith('utf-32')) continue
    const text = decodeAs(bytes, name)
    if (text !== undefined) return { text, charset: name, guessed: true }
  }
  return {
    text: iconv.decode(Buffer.from(bytes), LAST_RESORT),
    charset: LAST_RESORT,
    guessed: true,
  }
}

/** Decodes text whose part or encoded word declared `label` (undefined: none declared). */
export function decodeText(bytes: Uint8Array, label: string | undefined): Decoded {
  const charset = normalize(label)
  if (charset === undefined || ASCII_LABELS.has(charset)) return detect(bytes)
  if (UTF8_LABELS.has(charset)) {
    try {
      return { text: fatalUtf8.decode(bytes), charset: 'utf-8', guessed: false }
    } catch {
      // labelled UTF-8 but is not: a mislabel, detected like undeclared text
      return detect(bytes)
    }
  }
  const text = decodeAs(bytes, charset)
  return text === undefined ? detect(bytes) : { text, charset, guessed: false }
}

/** A raw header line: ASCII or UTF-8 (RFC 6532) as it is, else detected. */
export function decodeHeaderBytes(bytes: Uint8Array): Decoded {
  if (isAscii(bytes)) return { text: utf8.decode(bytes), charset: 'us-ascii', guessed: false }
  return detect(bytes)
}
