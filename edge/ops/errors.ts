/** Failures of the operations tooling (`mailbridge doctor`, `mailbridge postfix-config`). */
import { MailbridgeError } from '../../shared/errors.ts'

/** A doctor check got no answer in time: its FAIL line says which. */
export class ProbeTimeoutError extends MailbridgeError {
  override name = 'ProbeTimeoutError'
  constructor(what: string, timeoutMs: number) {
    super(`${what}: no answer within ${timeoutMs / 1000} s`)
  }
}

/** The command line is wrong: the CLI prints usage and exits 2. */
export class UsageError extends MailbridgeError {
  override name = 'UsageError'
}
