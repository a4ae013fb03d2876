/**
 * Reads the header-like fields of a report part (message/delivery-status,
 * message/feedback-report): groups separated by blank lines, folded lines unfolded.
 */

/** One group of fields, names lower-case; a repeated field keeps every value. */
export type FieldGroup = Map<string, string[]>

export function fieldGroups(text: string): FieldGroup[] {
  const groups: FieldGroup[] = []
  let group: FieldGroup = new Map()
  let last: string[] | undefined
  for (const line of text.replace(/\r\n/g, '\n').split('\n')) {
    if (line.trim() === '') {
      if (group.size) groups.push(group)
      group = new Map()
      last = undefined
    } else if (/^[ \t]/.test(line) && last) {
      last[last.length - 1] += ` ${line.trim()}`
    } else {
      const colon = line.indexOf(':')
      if (colon <= 0) continue
      const name = line.slice(0, colon).trim().toLowerCase()
      const values = group.get(name) ?? []
      values.push(line.slice(colon + 1).trim())
      group.set(name, values)
      last = values
    }
  }
  if (group.size) groups.push(group)
  return groups
}

/** The first value of a field, or null. */
export function field(group: FieldGroup | undefined, name: string): string | null {
  return group?.get(name)?.[0] ?? null
}

/** A typed field's value without its type: `rfc822; bob@x.test` → `bob@x.test`. */
export function typed(value: string | null): string | null {
  if (value === null) return null
  const semicolon = value.indexOf(';')
  return (semicolon >= 0 ? value.slice(semicolon + 1) : value).trim() || null
}
