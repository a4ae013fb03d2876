/**
 * Agreement with the Stalwart mail-parser oracle (../shared/corpus/stalwart-mail-parser):
 * each .eml there has mail-parser's expected parse beside it as .json. This runs each
 * message through the parse that ingest runs (parseMail, then buildParsedMessage) and
 * compares, field by field, what both say: subject, From, To, text, HTML and the
 * attachments' names and sizes.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ParsedMessage } from '../../shared/contracts/message.ts'
import { buildParsedMessage, parseMail, withTnefContents } from '../../shared/message.ts'
import { CORPUS_DIR } from './corpus.ts'
import { queuedMessage } from './factories.ts'

export const STALWART_DIR = join(CORPUS_DIR, 'stalwart-mail-parser/resources/eml')

// The oracle's JSON, as far as it is read here.
type HeaderValue = string | Record<string, unknown>
interface OracleHeader {
  name: string
  value: HeaderValue
}
interface OraclePart {
  headers: OracleHeader[]
  body: Record<string, unknown> | string
  offset_body: number
  offset_end: number
}
interface OracleMessage {
  text_body: number[]
  html_body: number[]
  attachments: number[]
  parts: OraclePart[]
}

export const FIELDS = [
  'subject',
  'from',
  'to',
  'text',
  'html',
  'attachment names',
  'attachment sizes',
] as const
export type Field = (typeof FIELDS)[number]

/** One field of one message: both sides' values, normalized, and whether they agree. */
export interface Comparison {
  message: string
  field: Field
  agree: boolean
  ours: unknown
  oracle: unknown
}

function header(part: OraclePart | undefined, name: string): HeaderValue | undefined {
  return part?.headers.find((h) => h.name === name)?.value
}

function textOf(value: HeaderValue | undefined): string | null {
  if (value && typeof value === 'object' && typeof value.Text === 'string') return value.Text
  return null
}

interface OracleAddress {
  name: string | null
  address: string | null
}

function addressesOf(value: HeaderValue | undefined): OracleAddress[] {
  if (!value || typeof value !== 'object') return []
  const address = value.Address as {
    List?: OracleAddress[]
    Group?: Array<{ addresses: OracleAddress[] }>
  }
  if (!address) return []
  if (address.List) return address.List
  return (address.Group ?? []).flatMap((group) => group.addresses)
}

function parameter(value: HeaderValue | undefined, name: string): string | null {
  if (!value || typeof value !== 'object') return null
  const type = value.ContentType as
    | { attributes?: Array<{ name: string; value: string }> }
    | undefined
  return type?.attributes?.find((a) => a.name.toLowerCase() === name)?.value ?? null
}

// Bodies compare by their words: line ends, wrapping and trailing blanks are conventions.
function words(text: string | null | undefined): string | null {
  const out = (text ?? '').replace(/\s+/g, ' ').trim()
  return out === '' ? null : out
}

function bodyOf(part: OraclePart | undefined, kind: 'Text' | 'Html'): string | null {
  if (!part || typeof part.body !== 'object') return null
  const value = part.body[kind]
  return typeof value === 'string' ? value : null
}

function sizeOf(part: OraclePart, raw: Buffer): number | null {
  if (typeof part.body !== 'object') return null
  const [kind, value] = Object.entries(part.body)[0] ?? []
  if (kind === 'Binary' || kind === 'InlineBinary') return (value as number[]).length
  if (kind === 'Text' || kind === 'Html') return Buffer.byteLength(value as string)
  // A message/rfc822 part: its bytes in the raw message, decoded when they are base64.
  if (kind === 'Message') {
    const bytes = raw.subarray(part.offset_body, part.offset_end)
    const encoding = textOf(header(part, 'content_transfer_encoding'))?.toLowerCase()
    return encoding === 'base64'
      ? Buffer.from(bytes.toString('latin1'), 'base64').byteLength
      : bytes.byteLength
  }
  return null
}

/** The oracle's fields of one message, normalized as the comparison reads them. */
function oracleFields(oracle: OracleMessage, raw: Buffer): Record<Field, unknown> {
  const top = oracle.parts[0]
  const from = addressesOf(header(top, 'from'))[0]
  const attachments = oracle.attachments.map((i) => oracle.parts[i] as OraclePart)
  return {
    subject: textOf(header(top, 'subject')),
    from: from?.address?.toLowerCase() ?? null,
    to: addressesOf(header(top, 'to')).map((a) => a.address?.toLowerCase() ?? null),
    text: words(oracle.text_body.map((i) => bodyOf(oracle.parts[i], 'Text') ?? '').join('\n')),
    html: words(oracle.html_body.map((i) => bodyOf(oracle.parts[i], 'Html') ?? '').join('\n')),
    'attachment names': attachments.map(
      (part) =>
        parameter(header(part, 'content_disposition'), 'filename') ??
        parameter(header(part, 'content_type'), 'name'),
    ),
    'attachment sizes': attachments.map((part) => sizeOf(part, raw)),
  }
}

function ourFields(message: ParsedMessage, sizes: number[]): Record<Field, unknown> {
  const own = message.attachments.filter((a) => a.parent === undefined)
  return {
    subject: message.subject,
    from: message.from?.address.toLowerCase() || null,
    to: message.to.map((a) => a.address.toLowerCase() || null),
    text: words(message.text),
    html: words(message.html),
    'attachment names': own.map((a) => a.filename),
    'attachment sizes': sizes,
  }
}

/** Every message of the oracle that has an expected parse, named by its path below it. */
export function oracleMessages(): Array<{ name: string; raw: Buffer; oracle: OracleMessage }> {
  return readdirSync(STALWART_DIR).flatMap((dir) =>
    readdirSync(join(STALWART_DIR, dir))
      .filter((file) => file.endsWith('.eml'))
      .sort()
      .flatMap((file) => {
        const json = join(STALWART_DIR, dir, file.replace(/\.eml$/, '.json'))
        try {
          const oracle = JSON.parse(readFileSync(json, 'utf8')) as OracleMessage
          return [
            { name: `${dir}/${file}`, raw: readFileSync(join(STALWART_DIR, dir, file)), oracle },
          ]
        } catch {
          return []
        }
      }),
  )
}

/** Each field of each oracle message, ours beside the oracle's. */
export async function compareWithOracle(): Promise<Comparison[]> {
  const out: Comparison[] = []
  for (const { name, raw, oracle } of oracleMessages()) {
    const parse = await parseMail(raw)
    const message = buildParsedMessage(queuedMessage(raw, ['oracle@example.com']), parse)
    const sizes = parse.email.attachments.map((a) =>
      typeof a.content === 'string' ? Buffer.byteLength(a.content) : a.content.byteLength,
    )
    const theirs = oracleFields(oracle, raw)
    const ours = ourFields(message, sizes)
    for (const field of FIELDS) {
      const agree = JSON.stringify(ours[field]) === JSON.stringify(theirs[field])
      out.push({ message: name, field, agree, ours: ours[field], oracle: theirs[field] })
    }
  }
  return out
}

/** Agreement per field: agreeing messages of all, as a Markdown table. */
export function agreementTable(comparisons: Comparison[]): string {
  const rows = FIELDS.map((field) => {
    const of = comparisons.filter((c) => c.field === field)
    const agree = of.filter((c) => c.agree).length
    return `| ${field} | ${agree} / ${of.length} | ${((100 * agree) / of.length).toFixed(0)} % |`
  })
  return ['| field | agree | rate |', '|---|---|---|', ...rows].join('\n')
}

// withTnefContents is re-exported so that a test reading sizes sees what the API serves.
export { withTnefContents }
