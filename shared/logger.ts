/** Structured JSON logs (pino), one logger per component. */
import { type Logger, pino } from 'pino'

export type { Logger }

export function createLogger(component: string): Logger {
  return pino({
    name: component,
    level: process.env.LOG_LEVEL ?? 'info',
    base: { component },
  })
}
