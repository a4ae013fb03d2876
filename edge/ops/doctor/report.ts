/**
 * The verdicts of `mailbridge doctor` and the report it prints: one line per check, each
 * failure with a concrete fix (the command to run or the setting to change). Pure: the
 * runner (run.ts) does the I/O, and the *-verdicts.ts files judge what it found.
 */
import { DEFAULT_QUEUE_DIRECTORY } from '../postfix/postconf.ts'

export type CheckStatus = 'ok' | 'fail' | 'skip'

export interface CheckResult {
  /** Short name of the check, e.g. `socket owner`. */
  name: string
  status: CheckStatus
  /** What was found, in one line. */
  detail: string
  /** For a failure: the command to run or the setting to change. */
  fix?: string
}

/** Where the edge's settings live on the mail host (the systemd unit's EnvironmentFile). */
export const DEFAULT_ENV_FILE = '/etc/mailbridge/edge.env'
/** The socket we recommend: in Postfix's private directory, which its chroot can see. */
export const DEFAULT_SOCKET = `${DEFAULT_QUEUE_DIRECTORY}/private/mailbridge-lmtp`
/** Starts or restarts the edge installed from deploy/mailbridge-edge.service. */
export const START_EDGE = 'systemctl start mailbridge-edge'
export const RESTART_EDGE = 'systemctl restart mailbridge-edge'

const LABELS: Record<CheckStatus, string> = { ok: 'ok', fail: 'FAIL', skip: 'skip' }

export const ok = (name: string, detail: string): CheckResult => ({ name, status: 'ok', detail })
export const skip = (name: string, detail: string): CheckResult => ({
  name,
  status: 'skip',
  detail,
})
export const fail = (name: string, detail: string, fix: string): CheckResult => ({
  name,
  status: 'fail',
  detail,
  fix,
})

/** The report: one line per check, each failure followed by its fix, then a tally. */
export function formatReport(results: readonly CheckResult[]): string {
  const width = Math.max(0, ...results.map((result) => result.name.length))
  const lines: string[] = []
  for (const result of results) {
    lines.push(`${LABELS[result.status].padEnd(4)}  ${result.name.padEnd(width)}  ${result.detail}`)
    if (result.fix) {
      const indent = ' '.repeat(4 + 2 + width + 2)
      const [first, ...rest] = result.fix.split('\n')
      lines.push(`${indent}fix: ${first}`)
      for (const line of rest) lines.push(`${indent}     ${line}`)
    }
  }
  const count = (status: CheckStatus) => results.filter((r) => r.status === status).length
  lines.push('', `${count('ok')} ok, ${count('fail')} failed, ${count('skip')} skipped`)
  return `${lines.join('\n')}\n`
}

/** 0 when nothing failed, else 1: what `mailbridge doctor` exits with. */
export function doctorExitCode(results: readonly CheckResult[]): number {
  return results.some((result) => result.status === 'fail') ? 1 : 0
}

// A good value for each setting a ConfigError can name, for the fix line.
const EXAMPLES: Record<string, string> = {
  MAILBRIDGE_LMTP_PORT: 'MAILBRIDGE_LMTP_PORT=2424 (or off, with MAILBRIDGE_LMTP_SOCKET set)',
  MAILBRIDGE_LMTP_SOCKET: `MAILBRIDGE_LMTP_SOCKET=${DEFAULT_SOCKET}`,
  MAILBRIDGE_LMTP_SOCKET_MODE: 'MAILBRIDGE_LMTP_SOCKET_MODE=0600',
  MAILBRIDGE_LMTP_SOCKET_OWNER: 'MAILBRIDGE_LMTP_SOCKET_OWNER=postfix',
  MAILBRIDGE_LMTP_SOCKET_GROUP: 'MAILBRIDGE_LMTP_SOCKET_GROUP=postfix',
  MAILBRIDGE_DOMAINS: 'MAILBRIDGE_DOMAINS=example.com,example.org',
  MAILBRIDGE_EDGE_HTTP_PORT: 'MAILBRIDGE_EDGE_HTTP_PORT=9425 (or off)',
  MAILBRIDGE_MAX_MESSAGE_BYTES: 'MAILBRIDGE_MAX_MESSAGE_BYTES=52428800',
  MAILBRIDGE_QUEUE_MESSAGE_MAX_BYTES: 'MAILBRIDGE_QUEUE_MESSAGE_MAX_BYTES=262144',
  MAILBRIDGE_MAX_RECIPIENTS: 'MAILBRIDGE_MAX_RECIPIENTS=1000',
  MAILBRIDGE_S3_FORCE_PATH_STYLE: 'MAILBRIDGE_S3_FORCE_PATH_STYLE=true',
}

/** The config check's failure for a ConfigError message, with the setting to change. */
export function configFailure(message: string, envFile = DEFAULT_ENV_FILE): CheckResult {
  const name = /\b((?:MAILBRIDGE|AWS)_[A-Z0-9_]+)/.exec(message)?.[1]
  let fix: string
  if (name === 'MAILBRIDGE_CONFIG') {
    fix = 'correct the JSON file that MAILBRIDGE_CONFIG names, or unset MAILBRIDGE_CONFIG'
  } else if (/is off and MAILBRIDGE_LMTP_SOCKET is not set/.test(message)) {
    fix = `in ${envFile}: ${EXAMPLES.MAILBRIDGE_LMTP_SOCKET}, or MAILBRIDGE_LMTP_PORT=2424`
  } else if (name !== undefined) {
    fix = `in ${envFile}: ${EXAMPLES[name] ?? `set ${name} to a valid value`}`
  } else {
    fix = `correct the setting in ${envFile}`
  }
  return fail('config', message, fix)
}
