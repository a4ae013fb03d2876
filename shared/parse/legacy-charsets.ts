/**
 * Decoders for the stateful and algorithmic East Asian charsets that neither iconv-lite
 * nor TextDecoder knows: ISO-2022-KR (RFC 1557), HZ-GB-2312 (RFC 1843) and Johab
 * (KS C 5601-1992 annex 3). Each maps its bytes onto a table iconv-lite has (EUC-KR,
 * GB2312), so the tables themselves stay in the library.
 */
import iconv from 'iconv-lite'

const ESC = 0x1b
const SO = 0x0e
const SI = 0x0f
const TILDE = 0x7e

/** ISO-2022-KR: SO shifts to KS X 1001 in 7-bit form, SI back to ASCII (RFC 1557). */
export function decodeIso2022Kr(bytes: Uint8Array): string {
  const out: number[] = []
  let shifted = false
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number
    // The designator ESC $ ) C appears once, at the start of a line; it carries no text.
    if (byte === ESC && bytes[i + 1] === 0x24 && bytes[i + 2] === 0x29 && bytes[i + 3] === 0x43) {
      i += 3
    } else if (byte === SO) shifted = true
    else if (byte === SI) shifted = false
    else if (byte === 0x0a || byte === 0x0d) {
      // RFC 1557: every line starts in ASCII
      shifted = false
      out.push(byte)
    } else out.push(shifted && byte > 0x20 && byte < 0x7f ? byte | 0x80 : byte)
  }
  return iconv.decode(Buffer.from(out), 'euc-kr')
}

/** HZ-GB-2312: `~{` enters GB2312 in 7-bit form, `~}` leaves it, `~~` is a tilde (RFC 1843). */
export function decodeHz(bytes: Uint8Array): string {
  const out: number[] = []
  let gb = false
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number
    if (byte === TILDE) {
      const next = bytes[i + 1]
      i++
      if (next === 0x7b) gb = true
      else if (next === 0x7d) gb = false
      else if (next === TILDE) out.push(TILDE)
      // `~` before a line break is a line continuation: both vanish
      else if (next !== 0x0a) i--
    } else if (gb && byte > 0x20 && byte < 0x7f) {
      out.push(byte | 0x80, ((bytes[i + 1] ?? 0x21) as number) | 0x80)
      i++
    } else out.push(byte)
  }
  return iconv.decode(Buffer.from(out), 'gb2312')
}

// Johab's 5-bit jamo indexes → Unicode's initial, medial and final positions (−1: none).
const JOHAB_INITIAL = [-1, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]
const JOHAB_MEDIAL = [
  -1, -1, -1, 0, 1, 2, 3, 4, -1, -1, 5, 6, 7, 8, 9, 10, -1, -1, 11, 12, 13, 14, 15, 16, -1, -1, 17,
  18, 19, 20,
]
const JOHAB_FINAL = [
  -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, -1, 17, 18, 19, 20, 21, 22, 23, 24,
  25, 26, 27,
]
// Compatibility jamo for a lone initial (fill medial and final), by initial index.
const COMPAT_INITIAL = [
  0x3131, 0x3132, 0x3134, 0x3137, 0x3138, 0x3139, 0x3141, 0x3142, 0x3143, 0x3145, 0x3146, 0x3147,
  0x3148, 0x3149, 0x314a, 0x314b, 0x314c, 0x314d, 0x314e,
]

/**
 * Johab: Hangul syllables are three 5-bit jamo indexes in one 16-bit code, computed into
 * Unicode; symbols and Hanja (lead bytes 0xD9–0xF9) are KS X 1001 rows moved by a fixed
 * formula, decoded through EUC-KR.
 */
export function decodeJohab(bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.length; i++) {
    const lead = bytes[i] as number
    if (lead < 0x80) {
      out += String.fromCharCode(lead)
      continue
    }
    const trail = bytes[i + 1]
    if (trail === undefined) {
      out += '\uFFFD'
      break
    }
    i++
    if (lead >= 0x84 && lead <= 0xd3) {
      const code = (lead << 8) | trail
      const initial = JOHAB_INITIAL[(code >> 10) & 0x1f] ?? -1
      const medial = JOHAB_MEDIAL[(code >> 5) & 0x1f] ?? -1
      const final = JOHAB_FINAL[code & 0x1f] ?? -1
      if (initial >= 0 && medial >= 0 && final >= 0) {
        out += String.fromCharCode(0xac00 + (initial * 21 + medial) * 28 + final)
      } else if (initial >= 0 && medial < 0 && final === 0) {
        out += String.fromCharCode(COMPAT_INITIAL[initial] as number)
      } else if (initial < 0 && medial >= 0 && final === 0) {
        out += String.fromCharCode(0x314f + medial)
      } else out += '\uFFFD'
    } else if (lead >= 0xd9 && lead <= 0xf9 && lead !== 0xdf) {
      // KS X 1001 row pairs: rows 0x21–0x2C from 0xD9–0xDE, Hanja rows 0x4A–0x7D from 0xE0–0xF9
      const row = lead < 0xe0 ? (lead - 0xd9) * 2 + 0x21 : (lead - 0xe0) * 2 + 0x4a
      const second = trail > 0xa0
      const cell = second ? trail - 0x80 : trail >= 0x91 ? trail - 0x22 : trail - 0x10
      const euc = Buffer.from([(row + (second ? 1 : 0)) | 0x80, cell | 0x80])
      out += iconv.decode(euc, 'euc-kr')
    } else out += '\uFFFD'
  }
  return out
}

// Compatibility jamo of the 27 finals, in Unicode's final order (KS X 1001's 8-byte form
// names a final by its compatibility jamo).
const COMPAT_FINAL = [
  0x3131, 0x3132, 0x3133, 0x3134, 0x3135, 0x3136, 0x3137, 0x3139, 0x313a, 0x313b, 0x313c, 0x313d,
  0x313e, 0x313f, 0x3140, 0x3141, 0x3142, 0x3144, 0x3145, 0x3146, 0x3147, 0x3148, 0x314a, 0x314b,
  0x314c, 0x314d, 0x314e,
]
const HANGUL_FILLER = 0x3164
const EIGHT_BYTE_SYLLABLE = /\u3164([\u3131-\u314e])([\u314f-\u3163])([\u3131-\u314e\u3164])/g

/**
 * KS X 1001 (EUC-KR, CP949) writes a syllable outside its 2,350 precomposed ones as eight
 * bytes: a filler and three jamo. Decoded pair by pair that is four jamo; this joins them.
 */
export function composeEightByteHangul(text: string): string {
  if (!text.includes('\u3164')) return text
  return text.replace(
    EIGHT_BYTE_SYLLABLE,
    (whole, initial: string, medial: string, final: string) => {
      const i = COMPAT_INITIAL.indexOf(initial.charCodeAt(0))
      const m = medial.charCodeAt(0) - 0x314f
      const f =
        final.charCodeAt(0) === HANGUL_FILLER ? 0 : COMPAT_FINAL.indexOf(final.charCodeAt(0)) + 1
      if (i < 0 || f < 0) return whole
      return String.fromCharCode(0xac00 + (i * 21 + m) * 28 + f)
    },
  )
}
