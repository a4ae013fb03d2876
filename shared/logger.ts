/** Structured JSON logs (pino), one logger per component. */
import { type Logger, pino } from 'pino'

export type { Logger }

// One pino instance and its output stream, made on first use; each component's logger is
// a child of it, which costs far less at cold start than a pino instance of its own.
let root: Logger | undefined

export function createLogger(component: string): Logger {
  root ??= pino({ base: {} })
  return root.child({ component, name: component }, { level: process.env.LOG_LEVEL ?? 'info' })
}
