/**
 * The new text of a reply, without the quoted history and the signature: what Postmark
 * calls `StrippedTextReply` and Mailgun `stripped-text`. No maintained JavaScript library
 * covers the reply headers of several languages (email-reply-parser knows English only),
 * so this is a small set of patterns: the attribution lines of Gmail, Apple Mail and
 * Thunderbird, Outlook's separator and header block, `>` quoting and the `-- ` signature.
 */

// How many lines an attribution may be wrapped over (Gmail wraps long ones).
const ATTRIBUTION_LINES = 3

// The patterns that hold text other than ASCII are written as strings: esbuild escapes such
// characters in a string but leaves them in a regex literal, and one of them turns a
// bundle's whole source into two-byte text for V8, which ingest's entry then decoded and
// compiled at every cold start (about 8 M instructions more; BENCHMARKS.md, cold start).
const pattern = (source: string, flags?: string) => new RegExp(source, flags)

// "On <date>, <name> wrote:" and its translations (Gmail, Apple Mail, Thunderbird).
const ATTRIBUTION = [
  /^on\b.{1,300}\bwrote:\s*$/i, // en
  pattern('^le\\b.{1,300}\\ba écrit\\s*:\\s*$', 'i'), // fr
  /^am\b.{1,300}\bschrieb\b.{0,200}:\s*$/i, // de
  pattern('^el\\b.{1,300}\\bescribió\\s*:\\s*$', 'i'), // es
  /^il\b.{1,300}\bha scritto\s*:\s*$/i, // it
  /^em\b.{1,300}\bescreveu\s*:\s*$/i, // pt
  /^op\b.{1,300}\bschreef\b.{0,200}:\s*$/i, // nl
  /^w dniu\b.{1,300}\bpisze\s*:\s*$/i, // pl
  /^den\b.{1,300}\bskrev\b.{0,200}:\s*$/i, // sv, da, no
  pattern('^.{1,300}\\bнаписал[аи]?\\s*:\\s*$', 'i'), // ru
  pattern('^.{1,300}님이 작성:\\s*$'), // ko
  pattern('^.{1,300}(のメッセージ|が書きました)\\s*:\\s*$'), // ja
  pattern('^.{1,300}写道\\s*[:：]\\s*$'), // zh
]

// Outlook's separators: "-----Original Message-----" and its translations, or the line of
// underscores it puts above a "From:" block.
const SEPARATOR = pattern(
  "^\\s*(-{2,}\\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original|messaggio originale|mensagem original|oorspronkelijk bericht|oryginalna wiadomość|исходное сообщение)\\s*-{2,}|_{10,})\\s*$",
  'i',
)
// The first line of Outlook's quoted header block: "From:", "Von:", "De :", "Da:", "Van:", "От:"...
const FROM_LINE = pattern('^\\s*\\*?(from|von|de|da|van|od|от|från|fra)\\s*\\*?\\s*:\\s*\\S', 'i')
// The line after it names the date: "Sent:", "Gesendet:", "Envoyé :", "Enviado:", "Date:"...
const SENT_LINE = pattern(
  '^\\s*\\*?(sent|date|gesendet|datum|envoyé|enviado|inviato|verzonden|wysłano|отправлено|skickat|sendt)\\s*\\*?\\s*:',
  'i',
)
// RFC 3676 §4.3 signature separator, and the footers mobile clients add.
const SIGNATURE = /^-- ?$/
const MOBILE_FOOTER = pattern(
  '^(sent from my|envoyé de mon|von meinem .* gesendet|enviado desde mi)\\b',
  'i',
)
// A line ending in a colon, ASCII or full-width (CJK attributions).
const ENDS_IN_COLON = pattern('[:：]\\s*$')

function isAttribution(lines: string[], at: number): boolean {
  for (let n = 1; n <= ATTRIBUTION_LINES && at + n <= lines.length; n++) {
    const joined = lines
      .slice(at, at + n)
      .join(' ')
      .trim()
    if (ATTRIBUTION.some((pattern) => pattern.test(joined))) return true
  }
  return false
}

function quoteStart(lines: string[]): number {
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    if (SEPARATOR.test(line)) return i
    if (FROM_LINE.test(line) && SENT_LINE.test(lines[i + 1] ?? '')) return i
    if (/^(on|le|am|el|il|em|op|w|den)\b/i.test(line.trim()) || ENDS_IN_COLON.test(line)) {
      if (isAttribution(lines, i)) return i
    }
  }
  // No attribution: a trailing block of `>` lines (and blank ones) is the quote.
  let end = lines.length
  while (end > 0 && /^\s*(>|$)/.test(lines[end - 1] as string)) end--
  return lines.slice(end).some((line) => line.startsWith('>')) ? end : lines.length
}

/** The text before the quoted history and the signature; null when nothing is left. */
export function stripReply(text: string | null): string | null {
  if (text === null) return null
  let lines = text.split('\n')
  lines = lines.slice(0, quoteStart(lines))
  const signature = lines.findIndex((line) => SIGNATURE.test(line) || MOBILE_FOOTER.test(line))
  if (signature >= 0) lines = lines.slice(0, signature)
  const stripped = lines.join('\n').trim()
  return stripped === '' ? null : stripped
}
