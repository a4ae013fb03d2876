/**
 * One parse measurement in a process of its own, so that its peak memory is its own:
 * builds the named message, parses and builds the stored JSON as ingest does, and prints
 * `{ bytes, ms, peakRssMiB, baseRssMiB, parseError }` as JSON.
 */
import { buildParsedMessage, parseMail } from '../../shared/message.ts'
import { queuedMessage } from '../../test/helpers/factories.ts'
import { bigMessage, deepNesting, manyParts } from '../../test/helpers/hostile-mail.ts'

const SHAPES: Record<string, () => Buffer> = {
  '10 KB': () => bigMessage(10_000),
  '1 MB': () => bigMessage(1_000_000),
  '50 MB': () => bigMessage(50_000_000),
  '2,000 parts': () => manyParts(2000),
  '300-level nesting': () => deepNesting(300),
}

const shape = process.argv[2] ?? ''
const build = SHAPES[shape]
if (!build) throw new Error(`unknown shape ${shape}`)
const raw = build()
const baseRss = process.resourceUsage().maxRSS
const started = performance.now()
const parsed = buildParsedMessage(queuedMessage(raw, ['a@x.test']), await parseMail(raw))
JSON.stringify(parsed)
const ms = performance.now() - started
process.stdout.write(
  JSON.stringify({
    bytes: raw.length,
    ms,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    baseRssMiB: baseRss / 1024,
    parseError: parsed.parseError ?? null,
  }),
)
