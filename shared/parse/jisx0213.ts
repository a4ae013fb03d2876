/**
 * EUC-JISX0213 and Shift_JISX0213 (JIS X 0213:2004, annexes 3 and 1), which iconv-lite and
 * TextDecoder lack: read as EUC-JP and Shift_JIS, their characters beyond JIS X 0208 (𠮟,
 * ㋐, か゚, ⅰ...) became U+FFFD. Both encodings index one table of (plane, row, cell), made
 * from CPython's codecs by scripts/gen-jisx0213.py; the Lambda bundles load it only when
 * such a charset is met (scripts/lazy-modules.ts). Single bytes below 0x80 are ASCII.
 * A sequence that is invalid or maps to nothing becomes one U+FFFD, and a byte that cannot
 * continue it is read again on its own, so that a stray lead byte does not eat an ASCII one.
 */
import { jisx0213Table } from './jisx0213-table.ts'

const REPLACEMENT = '\ufffd'
// Table cells a plane spans (94 rows × 94 cells), and how CELLS marks "see EXTRA" and "none".
const CELLS_PER_PLANE = 94 * 94
const EXTRA_CELL = 0xffff
const NO_CELL = 0xfffd
// Half-width katakana: U+FF61 onwards, one byte A1–DF (after 0x8E in EUC).
const HALF_WIDTH_KANA = 0xff61 - 0xa1
// Shift_JISX0213 plane 2: the two rows lead bytes F0–F4 cover; F5–FC cover rows 79–94.
const SJIS_PLANE2_ROWS: Record<number, [number, number]> = {
  240: [1, 8],
  241: [3, 4],
  242: [5, 12],
  243: [13, 14],
  244: [15, 78],
}

/** Reads cells into text, and bytes that are not a character into U+FFFD. */
class Output {
  private readonly table = jisx0213Table()
  private text = ''

  byte(char: number): void {
    this.text += String.fromCharCode(char)
  }

  /** The text of (plane, row, cell), each from 1; false, and nothing added, if it has none. */
  cell(plane: number, row: number, cell: number): boolean {
    const index = (plane - 1) * CELLS_PER_PLANE + (row - 1) * 94 + (cell - 1)
    const unit = this.table.cells.charCodeAt(index)
    if (unit === NO_CELL) return false
    this.text +=
      unit === EXTRA_CELL ? (this.table.extra.get(index) as string) : String.fromCharCode(unit)
    return true
  }

  invalid(): void {
    this.text += REPLACEMENT
  }

  toString(): string {
    return this.text
  }
}

const isEucByte = (byte: number | undefined): byte is number =>
  byte !== undefined && byte >= 0xa1 && byte <= 0xfe

/** EUC-JISX0213: A1–FE twice is plane 1, 8F then A1–FE twice plane 2, 8E then A1–DF kana. */
export function decodeEucJisx0213(bytes: Uint8Array): string {
  const out = new Output()
  let i = 0
  while (i < bytes.length) {
    const byte = bytes[i] as number
    const next = bytes[i + 1]
    if (byte < 0x80) {
      out.byte(byte)
      i += 1
    } else if (byte === 0x8e) {
      if (next !== undefined && next >= 0xa1 && next <= 0xdf) {
        out.byte(next + HALF_WIDTH_KANA)
        i += 2
      } else {
        out.invalid()
        i += 1
      }
    } else if (byte === 0x8f) {
      const last = bytes[i + 2]
      if (isEucByte(next) && isEucByte(last) && out.cell(2, next - 0xa0, last - 0xa0)) {
        i += 3
      } else if (isEucByte(next) && isEucByte(last)) {
        out.invalid()
        i += 1
      } else {
        out.invalid()
        i += isEucByte(next) ? 2 : 1
      }
    } else if (isEucByte(byte) && isEucByte(next) && out.cell(1, byte - 0xa0, next - 0xa0)) {
      i += 2
    } else {
      out.invalid()
      i += 1
    }
  }
  return out.toString()
}

/** The (plane, first row) of a Shift_JISX0213 lead byte, the second row being `rows[1]`. */
function sjisRows(lead: number): [plane: number, rows: [number, number]] | undefined {
  if ((lead >= 0x81 && lead <= 0x9f) || (lead >= 0xe0 && lead <= 0xef)) {
    const first = (lead <= 0x9f ? lead - 0x81 : lead - 0xc1) * 2 + 1
    return [1, [first, first + 1]]
  }
  if (lead >= 0xf0 && lead <= 0xfc) {
    const pair = lead - 0xf5
    return [2, SJIS_PLANE2_ROWS[lead] ?? [pair * 2 + 79, pair * 2 + 80]]
  }
  return undefined
}

/** Shift_JISX0213: a lead byte 81–9F, E0–FC and a trail byte 40–FC (not 7F) is one cell. */
export function decodeShiftJisx0213(bytes: Uint8Array): string {
  const out = new Output()
  let i = 0
  while (i < bytes.length) {
    const byte = bytes[i] as number
    const trail = bytes[i + 1]
    if (byte < 0x80) {
      out.byte(byte)
      i += 1
      continue
    }
    if (byte >= 0xa1 && byte <= 0xdf) {
      out.byte(byte + HALF_WIDTH_KANA)
      i += 1
      continue
    }
    const lead = sjisRows(byte)
    if (!lead || trail === undefined || trail < 0x40 || trail > 0xfc || trail === 0x7f) {
      out.invalid()
      i += 1
      continue
    }
    // Trail bytes below 9F are a cell of the first row (7F skipped), the rest of the second.
    // A pair that maps to nothing is one U+FFFD, and its trail byte is read again (it may be
    // ASCII or half-width katakana), as CPython and the WHATWG Shift_JIS decoder do.
    const [plane, [odd, even]] = lead
    const mapped =
      trail < 0x9f
        ? out.cell(plane, odd, trail - (trail < 0x80 ? 0x3f : 0x40))
        : out.cell(plane, even, trail - 0x9e)
    if (mapped) i += 2
    else {
      out.invalid()
      i += 1
    }
  }
  return out.toString()
}
