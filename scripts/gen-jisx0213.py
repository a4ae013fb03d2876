#!/usr/bin/env python3
"""
Writes shared/parse/jisx0213-table.ts, the JIS X 0213 table that shared/parse/jisx0213.ts
decodes EUC-JISX0213 and Shift_JISX0213 with (iconv-lite and TextDecoder have none).

Where the data comes from: CPython's own codecs (Modules/cjkcodecs/_codecs_jp.c, built from
the JIS X 0213:2004 mapping), not a hand-kept list. Every 2-byte sequence of
`shift_jis_2004` and `euc_jis_2004`, and every 3-byte 0x8F sequence of `euc_jis_2004`, is
decoded and the results put into one table of (plane, row, cell), which both encodings index.

Why the 2004 codecs: they decode everything the 2000 ones (`euc_jisx0213`,
`shift_jisx0213`) do, plus the ten characters JIS X 0213:2004 added (𠮟 U+20B9F among them);
the one cell they differ on, 2-93-27, is the 2004 correction (U+9B1C, where shift_jisx0213
read U+9B1D and euc_jisx0213 nothing). The
script checks both claims. Like CPython, the EUC table's 0x8F rows that JIS X 0213 plane 2
leaves unused hold JIS X 0212, for EUC-JP mail labelled as EUC-JISX0213.

Not in the table: single bytes, which the decoder does itself (ASCII, and half-width
katakana). CPython's shift_jis_2004 reads 0x5C and 0x7E as JIS-Roman ¥ and ‾; the decoder
keeps them ASCII, as iconv-lite, TextDecoder and the Shift_JIS mail in the wild do, and so
reads the two cells CPython gives ASCII instead (1-1-32 as ＼ U+FF3C, 1-2-18 as ～ U+FF5E)
as the EUC codec does: one table, and no second way to write a backslash or a tilde.

To regenerate (Python 3.8 or newer; the output depends only on the codecs):
    python3 scripts/gen-jisx0213.py && npm run format
"""

import unicodedata
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "shared" / "parse" / "jisx0213-table.ts"
CELLS_PER_PLANE = 94 * 94
NONE = "\ufffd"  # a cell no character is mapped to
EXTRA = "\uffff"  # a cell whose text is two UTF-16 units, kept in order in EXTRA
# Shift_JISX0213 plane 2: each lead byte F0-FC covers two rows (JIS X 0213 annex 1).
SJIS_PLANE2_ROWS = {0xF0: (1, 8), 0xF1: (3, 4), 0xF2: (5, 12), 0xF3: (13, 14), 0xF4: (15, 78)}


def decode(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def sjis_cell(lead: int, trail: int) -> tuple[int, int, int] | None:
    """(plane, row, cell) of a Shift_JISX0213 pair, as shared/parse/jisx0213.ts computes it."""
    if not (0x40 <= trail <= 0xFC and trail != 0x7F):
        return None
    if 0x81 <= lead <= 0x9F or 0xE0 <= lead <= 0xEF:
        plane = 1
        first = (lead - 0x81 if lead <= 0x9F else lead - 0xC1) * 2 + 1
        rows = (first, first + 1)
    elif 0xF0 <= lead <= 0xFC:
        plane = 2
        rows = SJIS_PLANE2_ROWS.get(lead) or ((lead - 0xF5) * 2 + 79, (lead - 0xF5) * 2 + 80)
    else:
        return None
    if trail < 0x9F:
        return plane, rows[0], trail - 0x40 + (0 if trail < 0x80 else -1) + 1
    return plane, rows[1], trail - 0x9F + 1


def index(plane: int, row: int, cell: int) -> int:
    return (plane - 1) * CELLS_PER_PLANE + (row - 1) * 94 + (cell - 1)


def read_euc(codec: str) -> dict[int, str]:
    table = {}
    for row in range(1, 95):
        for cell in range(1, 95):
            pair = bytes([row + 0xA0, cell + 0xA0])
            for plane, data in ((1, pair), (2, b"\x8f" + pair)):
                text = decode(data, codec)
                if text is not None:
                    table[index(plane, row, cell)] = text
    return table


def read_sjis(codec: str) -> dict[int, str]:
    table = {}
    for lead in range(0x80, 0x100):
        for trail in range(0x40, 0x100):
            text = decode(bytes([lead, trail]), codec)
            # a pair that is two single bytes (half-width katakana, ASCII) is not a cell
            if text is None or decode(bytes([lead]), codec) is not None:
                continue
            where = sjis_cell(lead, trail)
            assert where is not None, f"{codec} {lead:02X}{trail:02X} decodes but has no cell"
            table[index(*where)] = text
    return table


def check_same(
    name: str, wide: dict[int, str], narrow: dict[int, str], unless: tuple[int, ...] = ()
) -> None:
    for i, text in narrow.items():
        if i in unless:
            continue
        assert wide.get(i) == text, f"{name}: cell {i} is {wide.get(i)!r}, not {text!r}"


def literal(text: str) -> str:
    """A single-quoted TS string; marks, controls and spaces escaped so it stays readable."""
    out = []
    for char in text:
        if char in "'\\" or unicodedata.category(char)[0] in "MCZ" or char in (NONE, EXTRA):
            out.append(f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else char)
        else:
            out.append(char)
    return "'" + "".join(out) + "'"


def main() -> None:
    euc, sjis = read_euc("euc_jis_2004"), read_sjis("shift_jis_2004")
    # One table serves both encodings: Shift_JIS reaches a subset of EUC's cells.
    # Only the cells shift_jis_2004 reads as ASCII differ (see above).
    ascii_cells = {index(1, 1, 32): "\\", index(1, 2, 18): "~"}
    assert {i: sjis[i] for i in ascii_cells} == ascii_cells
    check_same("shift_jis_2004 within euc_jis_2004", euc, sjis, tuple(ascii_cells))
    # The 2004 codecs extend the 2000 ones, apart from the corrected cell 2-93-27.
    corrected = index(2, 93, 27)
    for codec, new in (("euc_jisx0213", euc), ("shift_jisx0213", sjis)):
        old = read_euc(codec) if codec.startswith("euc") else read_sjis(codec)
        assert old.pop(corrected, "\u9b1d") == "\u9b1d" and new[corrected] == "\u9b1c"
        check_same(f"{codec} within its 2004 form", new, old)

    cells, extra = [], []
    for i in range(2 * CELLS_PER_PLANE):
        text = euc.get(i, NONE)
        if len(text) == 1 and ord(text) <= 0xFFFF:
            cells.append(text)
        else:
            # an astral character or a pair (e.g. か゚, U+304B U+309A): two UTF-16 units
            assert len(text.encode("utf-16-le")) == 4, (i, text)
            cells.append(EXTRA)
            extra.append(text)

    OUT.write_text(
        f"""// Generated by scripts/gen-jisx0213.py from CPython's euc_jis_2004 and shift_jis_2004
// codecs: do not edit, regenerate. {len(euc)} cells, {len(extra)} of them beyond one BMP character.

/**
 * One UTF-16 unit per cell of JIS X 0213 (plane 1, then plane 2, whose unused rows hold
 * JIS X 0212 as CPython's EUC codec reads them), cell (plane, row, cell) at
 * (plane - 1) * 8836 + (row - 1) * 94 + (cell - 1). U+FFFD: no character there. U+FFFF:
 * the cell's text is the next two units of EXTRA (an astral character or a pair).
 */
const CELLS =
  {literal("".join(cells))}
const EXTRA =
  {literal("".join(extra))}

/** The cells, and the text of each cell CELLS marks U+FFFF, by index. */
export interface Jisx0213Table {{
  cells: string
  extra: Map<number, string>
}}

let table: Jisx0213Table | undefined

/** The table, its EXTRA cells indexed on first use. */
export function jisx0213Table(): Jisx0213Table {{
  if (table) return table
  const extra = new Map<number, string>()
  for (let i = 0, next = 0; i < CELLS.length; i++) {{
    if (CELLS.charCodeAt(i) === 0xffff) {{
      extra.set(i, EXTRA.slice(next, next + 2))
      next += 2
    }}
  }}
  table = {{ cells: CELLS, extra }}
  return table
}}
""",
        encoding="utf-8",
    )
    print(f"{OUT}: {len(euc)} cells, {len(extra)} extra, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
