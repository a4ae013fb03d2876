/** Failures of the operations tooling (`mailbridge doctor`, `mailbridge postfix-config`). */
import { MailbridgeError } from '../shared/errors.ts'

/** A probe got no answer in time; `code` reads like a system error code for the verdicts. */
export class ProbeTimeoutError extends MailbridgeError {
  override name = 'ProbeTimeoutError'
  readonly code = 'timeout'
  constructor(
    what: string,
    readonly timeoutMs: number,
  ) {
    super(`${what}: no answer within ${timeoutMs / 1000} s`)
  }
}

/** The command line is wrong: the CLI prints usage and exits 2. */
export class UsageError extends MailbridgeError {
  override name = 'UsageError'
}
