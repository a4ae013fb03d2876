/**
 * Agreement with the Stalwart mail-parser oracle: its 53 messages (RFC examples, Dovecot's
 * malformed and third-party sets) through the parse ingest runs, compared field by field
 * with mail-parser's expected result. The table is printed; each field keeps at least its
 * measured agreement, and every disagreement must be one explained below (BENCHMARKS.md,
 * "Agreement with the Stalwart oracle"): a new one fails until it is understood.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { test } from 'node:test'
import {
  agreementTable,
  compareWithOracle,
  type Field,
  STALWART_DIR,
} from '../helpers/stalwart-oracle.ts'
import { inCi } from '../helpers/system.ts'

// Agreeing messages per field, as measured (of 53): a floor, not a target.
const FLOORS: Record<Field, number> = {
  subject: 53,
  from: 53,
  to: 53,
  text: 31,
  html: 44,
  'attachment names': 30,
  'attachment sizes': 31,
}

type Category = 'convention' | 'malformed' | 'our bug'

// Why each message disagrees, by kind. The fields each one differs in are listed beside.
const EXPLAINED: Record<string, { category: Category; fields: Field[]; why: string }> = {}
function explain(category: Category, why: string, messages: Record<string, Field[]>) {
  for (const [message, fields] of Object.entries(messages)) {
    EXPLAINED[message] = { category, fields, why }
  }
}
const BODY_AND_FILES: Field[] = ['text', 'attachment names', 'attachment sizes']
const FILES: Field[] = ['attachment names', 'attachment sizes']

explain(
  'convention',
  'a message/rfc822 part without Content-Disposition: postal-mime appends its text and HTML, under a header block, to the body and lifts its attachments; mail-parser (as JMAP, RFC 8621 §4.1.4) lists it as one attachment',
  {
    'rfc/000.eml': BODY_AND_FILES, // also its placeholder base64, below
    'rfc/002.eml': BODY_AND_FILES,
    'rfc/004.eml': BODY_AND_FILES,
    'rfc/007.eml': ['text', 'html', ...FILES],
    'rfc/009.eml': ['text', 'html', ...FILES],
    'thirdparty/007.eml': BODY_AND_FILES,
    'thirdparty/008.eml': ['text', 'html', ...FILES],
    'thirdparty/012.eml': ['text', 'html', ...FILES],
    'malformed/012.eml': BODY_AND_FILES,
  },
)
explain(
  'convention',
  'text and HTML parts mixed in multipart/mixed: postal-mime also makes an HTML body of the text parts; mail-parser lists only HTML parts as HTML',
  { 'malformed/000.eml': ['html'], 'malformed/008.eml': ['text', 'html', ...FILES] },
)
explain(
  'malformed',
  'boundaries that never appear, are reused by an inner multipart, are longer than RFC 2046’s 70 characters or differ in case: mail-parser keeps the unparsed bytes as a nameless attachment, postal-mime as text; both keep the bytes, neither reading is the right one',
  {
    'malformed/001.eml': BODY_AND_FILES,
    'malformed/002.eml': FILES,
    'malformed/003.eml': BODY_AND_FILES,
    'malformed/004.eml': FILES,
    'malformed/006.eml': BODY_AND_FILES,
    'malformed/007.eml': FILES,
    'malformed/009.eml': BODY_AND_FILES,
    'malformed/010.eml': BODY_AND_FILES,
    'malformed/011.eml': BODY_AND_FILES,
    'malformed/016.eml': BODY_AND_FILES,
    'malformed/019.eml': ['text', 'html'],
    'malformed/020.eml': ['text', 'html'],
    'malformed/021.eml': ['text', 'html'],
    // A close delimiter at the end of a line, not at its start (RFC 2046 §5.1.1).
    'thirdparty/005.eml': ['text'],
    // Embedded messages whose inner multipart never closes: mail-parser lets the first
    // swallow the rest (one attachment), postal-mime ends each at the outer boundary (three).
    'thirdparty/015.eml': FILES,
    // `Content-Disposition: ;` with the filename on a folded line: postal-mime reads it.
    'malformed/017.eml': ['attachment names'],
  },
)
explain(
  'malformed',
  'a base64 part that holds `?garbage`, no base64 at all: postal-mime decodes its letters (RFC 2045 says to ignore what is outside the alphabet) into bytes that are not UTF-8, the oracle into U+FFFD and an 8-byte attachment. The part before it, with text after its padding (`Cg== ignored`), reads as the oracle reads it since the padding ends its line (message.test.ts)',
  { 'thirdparty/002.eml': BODY_AND_FILES },
)

test('agreement with the Stalwart oracle, per field; every disagreement explained', async (t) => {
  if (!existsSync(STALWART_DIR)) {
    const message = `the Stalwart oracle is not at ${STALWART_DIR} (the corpus sits beside the repository)`
    if (inCi()) throw new Error(message)
    t.skip(message)
    return
  }
  const comparisons = await compareWithOracle()
  const messages = new Set(comparisons.map((c) => c.message))
  assert.ok(messages.size >= 50, `${messages.size} oracle messages`)

  const table = agreementTable(comparisons)
  const byCategory = new Map<Category, number>()
  for (const { category } of Object.values(EXPLAINED)) {
    byCategory.set(category, (byCategory.get(category) ?? 0) + 1)
  }
  t.diagnostic(`Agreement with the Stalwart oracle (${messages.size} messages):`)
  for (const line of table.split('\n')) t.diagnostic(line)
  t.diagnostic(
    `Messages that disagree somewhere, by kind: ${[...byCategory].map(([k, n]) => `${k} ${n}`).join(', ')}`,
  )

  for (const [field, floor] of Object.entries(FLOORS)) {
    const agree = comparisons.filter((c) => c.field === field && c.agree).length
    assert.ok(agree >= floor, `${field}: ${agree} agree, fewer than the ${floor} measured`)
  }
  const unexplained = comparisons
    .filter((c) => !c.agree && !EXPLAINED[c.message]?.fields.includes(c.field))
    .map(
      (c) =>
        `${c.message} ${c.field}: ours ${JSON.stringify(c.ours)}, oracle ${JSON.stringify(c.oracle)}`,
    )
  assert.deepEqual(unexplained, [], 'every disagreement is explained')
})
