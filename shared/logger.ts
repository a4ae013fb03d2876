/** Structured JSON logs (pino), one logger per component. */
import { type Logger, pino } from 'pino'

export type { Logger }

// One pino instance and its output stream, made on first use; each component's logger is
// a child of it, which costs far less at cold start than a pino instance of its own.
let root: Logger | undefined

// On Lambda the runtime freezes the process as soon as a handler returns, and may end it
// while frozen: a line still waiting in an asynchronous write would go out late or never.
// There each line is written before the call returns; elsewhere pino's asynchronous
// default keeps writes off the event loop's path.
const ON_LAMBDA = process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined

export function createLogger(component: string): Logger {
  root ??= ON_LAMBDA
    ? pino({ base: {} }, pino.destination({ dest: 1, sync: true }))
    : pino({ base: {} })
  return root.child({ component, name: component }, { level: process.env.LOG_LEVEL ?? 'info' })
}
