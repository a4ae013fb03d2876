/**
 * Address patterns, compiled once into matchers. Regular expressions run on RE2
 * (`re2js`), whose time is linear in the input whatever the pattern: no route, however
 * written, can make the edge backtrack for minutes on one RCPT. A pattern RE2 cannot run
 * (backreferences, lookaround) is refused when the route is saved. Pure.
 */
import { RE2JS } from 're2js'
import type { AddressPattern } from '../contracts/route.ts'
import { asciiDomain, domainOf, withAsciiDomain } from './address.ts'

/** The named captures of a match (empty for patterns without any), or null for no match. */
export type Captures = Record<string, string>
/** `lower` is `address` lower-cased, computed once per decision rather than per route. */
export type Matcher = (address: string, lower?: string) => Captures | null

const NO_CAPTURES: Captures = Object.freeze({}) as Captures

/** A regular expression for RE2, case-insensitive; throws with RE2's reason when invalid. */
export function compileRegex(source: string): RE2JS {
  return RE2JS.compile(source, RE2JS.CASE_INSENSITIVE)
}

/** The names of the capture groups of a valid regular expression. */
export function captureNames(source: string): string[] {
  return Object.keys(compileRegex(source).namedGroups())
}

/**
 * True when `text` matches `pattern`, whose `*` stands for any run of characters
 * (case-insensitive). The classic two-pointer walk: at most length × pattern steps.
 */
export function wildcardMatch(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase()
  const t = text.toLowerCase()
  let pi = 0
  let ti = 0
  let star = -1
  let mark = 0
  while (ti < t.length) {
    if (pi < p.length && p[pi] !== '*' && p[pi] === t[ti]) {
      pi++
      ti++
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++
      mark = ti
    } else if (star >= 0) {
      pi = star + 1
      ti = ++mark
    } else {
      return false
    }
  }
  while (p[pi] === '*') pi++
  return pi === p.length
}

/** An exact pattern's address as matched: lower-cased, its domain in ASCII (`xn--`). */
export function exactValue(value: string): string {
  return withAsciiDomain(value).toLowerCase()
}

/** A domain pattern's domain as matched: without a leading `@`, lower-cased, in ASCII. */
export function domainValue(value: string): string {
  return asciiDomain(value.replace(/^@/, ''))
}

/** The matcher of a pattern; throws (from RE2) for an invalid regular expression. */
export function compilePattern(pattern: AddressPattern): Matcher {
  switch (pattern.type) {
    case 'exact': {
      const value = exactValue(pattern.value)
      return (address, lower = address.toLowerCase()) => (lower === value ? NO_CAPTURES : null)
    }
    case 'domain': {
      const value = domainValue(pattern.value)
      return (address) => (domainOf(address) === value ? NO_CAPTURES : null)
    }
    case 'wildcard':
      return (address) => (wildcardMatch(pattern.value, address) ? NO_CAPTURES : null)
    case 'regex': {
      const regex = compileRegex(pattern.value)
      const names = Object.keys(regex.namedGroups())
      return (address) => {
        const matcher = regex.matcher(address)
        if (!matcher.matches()) return null
        if (names.length === 0) return NO_CAPTURES
        const captures: Captures = {}
        for (const name of names) captures[name] = matcher.group(name) ?? ''
        return captures
      }
    }
  }
}

/** `{name}` placeholders of a mailbox template. */
export function placeholders(template: string): string[] {
  return [...template.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((match) => match[1] as string)
}

/** A template with every `{name}` replaced from `values` (a missing one by `""`). */
export function expand(template: string, values: Captures): string {
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) =>
    Object.hasOwn(values, name) ? (values[name] as string) : '',
  )
}
