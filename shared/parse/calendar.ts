/**
 * Flags a calendar invite (text/calendar, RFC 5545) with its method and the first event's
 * summary, start and end: enough for an app to tell an invite, a reply or a cancellation.
 * The part itself stays an attachment with its exact bytes.
 */
import { decodeText } from './charset.ts'
import type { MimePart } from './mime.ts'

export interface CalendarInfo {
  /** REQUEST, REPLY, CANCEL, PUBLISH... from the part's `method` or the METHOD property. */
  method: string | null
  summary: string | null
  /** DTSTART as written (e.g. `20240105T090000Z`), with its TZID when it has one. */
  start: string | null
  end: string | null
  uid: string | null
  location: string | null
  organizer: string | null
}

// RFC 5545 §3.3.11 TEXT escapes.
function unescapeText(value: string): string {
  return value.replace(/\\([nN,;\\])/g, (_, c: string) => (c === 'n' || c === 'N' ? '\n' : c))
}

/** The calendar of the first text/calendar part, or null. */
export function readCalendar(parts: MimePart[]): CalendarInfo | null {
  const part = parts.find(
    (p) => p.contentType === 'text/calendar' || p.contentType === 'application/ics',
  )
  if (!part) return null
  // §3.1: a line break followed by a blank continues the line.
  const text = decodeText(part.content, part.params.charset).text.replace(/\r?\n[ \t]/g, '')
  const info: CalendarInfo = {
    method: part.params.method?.toUpperCase() ?? null,
    summary: null,
    start: null,
    end: null,
    uid: null,
    location: null,
    organizer: null,
  }
  let inEvent = false
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon < 0) continue
    const [name = '', ...params] = line.slice(0, colon).split(';')
    const key = name.toUpperCase()
    const value = line.slice(colon + 1)
    if (key === 'BEGIN' && value.toUpperCase() === 'VEVENT') inEvent = true
    else if (key === 'END' && value.toUpperCase() === 'VEVENT') break
    else if (key === 'METHOD' && !inEvent) info.method ??= value.toUpperCase()
    else if (inEvent) {
      const tzid = params.find((p) => p.toUpperCase().startsWith('TZID='))
      const withZone = tzid ? `${value} (${tzid.slice(5)})` : value
      if (key === 'SUMMARY') info.summary = unescapeText(value)
      else if (key === 'DTSTART') info.start = withZone
      else if (key === 'DTEND') info.end = withZone
      else if (key === 'UID') info.uid = value
      else if (key === 'LOCATION') info.location = unescapeText(value)
      else if (key === 'ORGANIZER') info.organizer = value.replace(/^mailto:/i, '')
    }
  }
  return info
}
