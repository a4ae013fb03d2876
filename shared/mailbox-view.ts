/**
 * A stored message as one mailbox holds it, which the API returns. Apart from
 * shared/message.ts so that the API's routes need not load the MIME parser, which that file
 * brings (only the attachment route parses: functions/api/routes-mailboxes.ts).
 */
import type { ParsedMessage, StoredMessage } from './contracts/message.ts'
import { mailboxName } from './store/keys.ts'

/** The recipients of an envelope that lead to `mailbox`. */
function recipientsOf(rcptTo: string[], mailbox: string): string[] {
  return rcptTo.filter((rcpt) => mailboxName(rcpt) === mailbox)
}

/**
 * The message as a mailbox holds it: its envelope narrowed to the mailbox's recipients
 * (as its entry recorded them; an entry from before routing has none, and they are
 * found by address).
 */
export function inMailbox(
  parsed: ParsedMessage,
  entry: { mailbox: string; seen: boolean; rcptTo?: string[]; mailboxHash?: string | null },
): StoredMessage {
  const { mailbox, seen } = entry
  const rcptTo = entry.rcptTo ?? recipientsOf(parsed.envelope.rcptTo, mailbox)
  const mailboxHash = entry.mailboxHash ?? null
  return { ...parsed, envelope: { ...parsed.envelope, rcptTo }, mailbox, seen, mailboxHash }
}
