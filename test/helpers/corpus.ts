/**
 * The real-world mail corpus beside the repository (../shared/corpus). It is not part of
 * the repository: a user's clone has none, and tests that use it say so plainly.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

export const CORPUS_DIR = fileURLToPath(new URL('../../../shared/corpus', import.meta.url))

// Files that hold something other than one mail message: metadata, expected results,
// mbox files (many messages), TNEF/RTF streams, images.
const NOT_MAIL =
  /(^|\/)(SOURCE\.txt|LICENSE|COPYING|README\.md|\.gitattributes)$|\.(json|md|list|mbox\.txt|tnef|rtf|dat|png|jpe?g|gif|ntx|msg\.json)$/i
// A mail message starts with a header field (RFC 5322 §2.2: printable ASCII but ':'; the
// obsolete syntax allows blanks before the colon), or an mbox "From " line.
const HEADER_LINE = /^(From |[!-9;-~]+[ \t]*:)/

export function corpusPresent(): boolean {
  return existsSync(CORPUS_DIR)
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? walk(path) : [path]
  })
}

/** True when the bytes look like one message: they open with a header field. */
export function looksLikeMail(bytes: Buffer): boolean {
  const text = bytes
    .subarray(0, 1000)
    .toString('latin1')
    .replace(/^\xEF\xBB\xBF/, '')
  return HEADER_LINE.test(text.split(/\r?\n/, 1)[0] ?? '')
}

/**
 * Every file under the corpus that is a mail message,
 * named by its path below the corpus.
 */
export function corpusMessages(): Array<{ name: string; bytes: Buffer }> {
  return (
    walk(CORPUS_DIR)
      .filter((path) => !NOT_MAIL.test(path))
      .map((path) => ({ name: relative(CORPUS_DIR, path), bytes: readFileSync(path) }))
      // An .eml file is a message whatever it opens with (some open malformed on purpose).
      .filter(({ name, bytes }) => name.endsWith('.eml') || looksLikeMail(bytes))
      .sort((a, b) => a.name.localeCompare(b.name))
  )
}
