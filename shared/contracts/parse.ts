/** Reading a record that crossed a boundary: JSON, then its schema, or a MalformedRecordError. */
import * as z from 'zod/mini'
import { MalformedRecordError } from '../errors.ts'
// For the English messages prettifyError prints.
import './zod-mini.ts'

/** `body` parsed as JSON and checked against `schema`; `what` names it in the error. */
export function parseJson<T>(schema: z.ZodMiniType<T>, body: string, what: string): T {
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch {
    throw new MalformedRecordError(`${what} is not JSON`)
  }
  return parseValue(schema, value, what)
}

/** `value` checked against `schema`; `what` names it in the error. */
export function parseValue<T>(schema: z.ZodMiniType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value)
  if (!result.success) {
    throw new MalformedRecordError(`${what} is malformed: ${z.prettifyError(result.error)}`)
  }
  return result.data
}
