/**
 * Settings, read once at start from the environment and an optional JSON file, typed,
 * and loud when wrong: a bad value throws a ConfigError naming the variable.
 *
 * The file (path in MAILBRIDGE_CONFIG) is a JSON object with the same names as the
 * variables, e.g. `{ "MAILBRIDGE_DOMAINS": ["example.com"], "MAILBRIDGE_LMTP_PORT": 2424 }`.
 * A variable set in the environment wins over the file.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { ConfigError } from './errors.ts'
import { asciiDomain } from './routing/address.ts'

export interface SocketListenerConfig {
  path: string
  /** File mode of the socket, e.g. 0o600 so only its owner (postfix) can connect. */
  mode: number
  /** User (name or uid) to own the socket, e.g. `postfix`; unset keeps the process's own. */
  owner?: string
  /** Group (name or gid) of the socket; unset keeps the process's own. */
  group?: string
}

export interface Config {
  aws: {
    region: string
    /** S3/SQS endpoint for LocalStack, MinIO or the embedded emulator; unset for AWS. */
    endpoint: string | undefined
    /** DynamoDB endpoint (AWS_ENDPOINT_URL_DYNAMODB), else `endpoint`; unset for AWS. */
    dynamodbEndpoint: string | undefined
    /** Path-style S3 URLs (`endpoint/bucket/key`), which most S3-compatible servers need. */
    forcePathStyle: boolean
    /**
     * Fixed credentials, set only for the embedded emulator; otherwise the SDK's own
     * chain (environment, profile, Lambda role) applies.
     */
    credentials?: { accessKeyId: string; secretAccessKey: string }
  }
  bucket: string
  /** The DynamoDB table of the mail store (shared/store/keys.ts has its layout). */
  table: string
  /** Queue URL, or a queue name to look up. */
  ingestQueue: string
  webhookQueue: string
  edge: {
    /** TCP listener, or undefined when MAILBRIDGE_LMTP_PORT is `off`. */
    tcp: { host: string; port: number } | undefined
    socket: SocketListenerConfig | undefined
    /** Accepted recipient domains, lower-case; empty accepts every domain. */
    domains: string[]
    /** Largest message accepted, in bytes; advertised as SIZE. */
    maxMessageBytes: number
    /** Largest SQS message body the edge sends, in bytes; a bigger message is staged in S3. */
    queueMessageMaxBytes: number
    /** Name in the LMTP greeting. */
    hostname: string
    /** Most RCPT TO accepted in one transaction; past it `452 4.5.3` (RFC 5321 §4.5.3.1.10). */
    maxRecipients: number
    /** Where /healthz and /metrics listen, or undefined when MAILBRIDGE_EDGE_HTTP_PORT is `off`. */
    http: { host: string; port: number } | undefined
    /** Most LMTP connections open at once, per listener; past it a new one gets 421. */
    maxConnections: number
    /**
     * Longest one transaction may take, from MAIL FROM to the replies after DATA, in
     * seconds; past it a client that still owes input gets `421 4.4.2` and is disconnected.
     */
    transactionTimeoutSeconds: number
  }
  api: {
    host: string
    port: number
    /** The key itself (MAILBRIDGE_API_KEY), for local mode; unset in Lambda. */
    key: string | undefined
    /**
     * ARN or name of the Secrets Manager secret holding the key (MAILBRIDGE_API_KEY_SECRET),
     * as serverless.yml sets it: the key is read from there once per cold start, and wins
     * over `key`.
     */
    keySecret: string | undefined
  }
  routing: {
    /**
     * Plus-address delimiters (MAILBRIDGE_RECIPIENT_DELIMITER): `bob+tag@x` is bob's mail,
     * tagged `tag`. Several characters split at whichever comes first, as Postfix's
     * recipient_delimiter does; `""` (set as `off`) turns plus-addressing off.
     */
    delimiters: string
    /** A JSON file of routes to seed the store with at start (local mode), or undefined. */
    file: string | undefined
    /** How often the edge reads the published routes again (ms). */
    refreshMs: number
  }
  /**
   * The authserv-id the mail host's MTA writes in Authentication-Results (MAILBRIDGE_AUTHSERV_ID):
   * only its verdicts are trusted. Unset: no verdicts are reported.
   */
  authservId: string | undefined
  /**
   * What webhook URLs may reach (the SSRF policy): https to public addresses unless these
   * say otherwise. Local mode allows http and loopback unless told not to.
   */
  webhooks: { allowHttp: boolean; allowLoopback: boolean; allowPrivate: boolean }
  local: {
    /** Port of the embedded S3/SQS emulator in local mode. */
    emulatorPort: number
    /** Port of the embedded DynamoDB emulator in local mode. */
    dynamodbPort: number
    /** False runs local mode against AWS itself (no AWS_ENDPOINT_URL, no emulator). */
    embedded: boolean
    /**
     * Where the embedded emulators keep queues, objects and the table (MAILBRIDGE_DATA_DIR, absolute);
     * undefined when it is `:memory:`, for tests and throwaway runs.
     */
    dataDir: string | undefined
    /**
     * Seconds a received queue message stays hidden in local mode's queues: the delay
     * before a failed record, or one in hand when the process died, is tried again.
     */
    retrySeconds: { ingest: number; webhook: number }
  }
}

/**
 * The largest message the bridge stores, and so the most the edge may advertise as SIZE:
 * tested end to end at 45 MB (test/e2e/local-big-messages.test.ts). Ingest holds a
 * message and its parse in memory, and a 1536 MB Lambda has room for this much, not for
 * any size; the edge must never answer 250 to what cannot be stored.
 */
export const MAX_MESSAGE_BYTES = 50 * 1024 * 1024

type Source = Record<string, unknown>

function read(source: Source, name: string): string | undefined {
  const value = source[name]
  if (value === undefined || value === null || value === '') return undefined
  if (Array.isArray(value)) return value.join(',')
  return String(value)
}

function integer(source: Source, name: string, fallback: number, min: number, max: number) {
  const text = read(source, name)
  if (text === undefined) return fallback
  const value = Number(text)
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${text}"`)
  }
  return value
}

function boolean(source: Source, name: string, fallback: boolean): boolean {
  const text = read(source, name)?.toLowerCase()
  if (text === undefined) return fallback
  if (['1', 'true', 'yes'].includes(text)) return true
  if (['0', 'false', 'no'].includes(text)) return false
  throw new ConfigError(`${name} must be true or false, got "${text}"`)
}

function fileMode(source: Source, name: string, fallback: number): number {
  const text = read(source, name)
  if (text === undefined) return fallback
  if (!/^0?[0-7]{3}$/.test(text)) {
    throw new ConfigError(`${name} must be an octal file mode such as 0600, got "${text}"`)
  }
  return Number.parseInt(text, 8)
}

/** A TCP listener: host and port, or undefined when the port is `off`. */
function listener(
  source: Source,
  names: { host: string; port: string },
  fallback: { host: string; port: number },
): { host: string; port: number } | undefined {
  if (read(source, names.port)?.toLowerCase() === 'off') return undefined
  return {
    host: read(source, names.host) ?? fallback.host,
    port: integer(source, names.port, fallback.port, 0, 65535),
  }
}

/** A user or group as a name (`postfix`) or a numeric id. */
function account(source: Source, name: string): string | undefined {
  const text = read(source, name)?.trim()
  if (text === undefined) return undefined
  if (!/^[a-z_][a-z0-9_.-]*\$?$|^\d+$/i.test(text)) {
    throw new ConfigError(`${name} must be a user or group name or a numeric id, got "${text}"`)
  }
  return text
}

function domains(source: Source, name: string): string[] {
  const text = read(source, name)
  if (text === undefined || text.trim() === '*') return []
  // An internationalised domain may be given either way; it is kept in ASCII (`xn--`), the
  // form Postfix hands over and the edge compares with (withAsciiDomain).
  const list = text
    .split(/[\s,]+/)
    .map((domain) => asciiDomain(domain.trim()))
    .filter(Boolean)
  for (const domain of list) {
    if (!/^[a-z0-9.-]+$/.test(domain) || domain.startsWith('.') || domain.endsWith('.')) {
      throw new ConfigError(`${name} has an invalid domain "${domain}"`)
    }
  }
  return list
}

/** Recipient delimiter characters: a few, neither `@` nor space; `off` for none. */
function delimiters(source: Source, name: string): string {
  const text = read(source, name) ?? '+'
  if (text.toLowerCase() === 'off') return ''
  if (!/^[^@\s"]{1,8}$/.test(text)) {
    throw new ConfigError(
      `${name} must be up to 8 characters other than "@" and spaces, or off; got "${text}"`,
    )
  }
  return text
}

/** A DynamoDB table name: 3 to 255 of `a-z A-Z 0-9 _ . -`, as DynamoDB requires. */
function tableName(source: Source, name: string, fallback: string): string {
  const text = read(source, name) ?? fallback
  if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(text)) {
    throw new ConfigError(
      `${name} must be 3 to 255 letters, digits, "_", "." or "-" (a DynamoDB table name), got "${text}"`,
    )
  }
  return text
}

/** A directory, absolute; `:memory:` for none. Relative paths are from the working directory. */
function dataDir(source: Source, name: string): string | undefined {
  const text = read(source, name) ?? 'data'
  return text === ':memory:' ? undefined : resolve(text)
}

function loadFile(env: Source): Source {
  const path = read(env, 'MAILBRIDGE_CONFIG')
  if (path === undefined) return {}
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new ConfigError(`MAILBRIDGE_CONFIG: cannot read ${path}: ${(error as Error).message}`)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new ConfigError(`MAILBRIDGE_CONFIG: ${path} is not JSON: ${(error as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`MAILBRIDGE_CONFIG: ${path} must hold a JSON object`)
  }
  return value as Source
}

/**
 * Reads every setting; throws a ConfigError for the first bad one. `local` (local mode,
 * tests) lets webhooks reach http URLs and this machine unless the variables say no.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  mode: 'cloud' | 'local' = 'cloud',
): Config {
  const source: Source = { ...loadFile(env), ...env }
  const endpoint = read(source, 'AWS_ENDPOINT_URL')
  const socketPath = read(source, 'MAILBRIDGE_LMTP_SOCKET')
  // With a socket, the edge listens on TCP as well only when MAILBRIDGE_LMTP_PORT says so:
  // a socket of mode 0600 owned by postfix is there so that only Postfix hands mail in,
  // which a loopback port open to every local user would undo.
  const tcp =
    socketPath !== undefined && read(source, 'MAILBRIDGE_LMTP_PORT') === undefined
      ? undefined
      : listener(
          source,
          { host: 'MAILBRIDGE_LMTP_HOST', port: 'MAILBRIDGE_LMTP_PORT' },
          { host: '127.0.0.1', port: 2424 },
        )
  if (tcp === undefined && socketPath === undefined) {
    throw new ConfigError('MAILBRIDGE_LMTP_PORT is off and MAILBRIDGE_LMTP_SOCKET is not set')
  }
  return {
    aws: {
      region: read(source, 'AWS_REGION') ?? read(source, 'AWS_DEFAULT_REGION') ?? 'us-east-1',
      endpoint,
      dynamodbEndpoint: read(source, 'AWS_ENDPOINT_URL_DYNAMODB') ?? endpoint,
      forcePathStyle: boolean(source, 'MAILBRIDGE_S3_FORCE_PATH_STYLE', endpoint !== undefined),
    },
    bucket: read(source, 'MAILBRIDGE_BUCKET') ?? 'mailbridge',
    table: tableName(source, 'MAILBRIDGE_TABLE', 'mailbridge'),
    ingestQueue: read(source, 'MAILBRIDGE_INGEST_QUEUE') ?? 'mailbridge-ingest',
    webhookQueue: read(source, 'MAILBRIDGE_WEBHOOK_QUEUE') ?? 'mailbridge-webhooks',
    edge: {
      tcp,
      socket:
        socketPath === undefined
          ? undefined
          : {
              path: socketPath,
              mode: fileMode(source, 'MAILBRIDGE_LMTP_SOCKET_MODE', 0o600),
              owner: account(source, 'MAILBRIDGE_LMTP_SOCKET_OWNER'),
              group: account(source, 'MAILBRIDGE_LMTP_SOCKET_GROUP'),
            },
      domains: domains(source, 'MAILBRIDGE_DOMAINS'),
      maxMessageBytes: integer(
        source,
        'MAILBRIDGE_MAX_MESSAGE_BYTES',
        MAX_MESSAGE_BYTES,
        1024,
        MAX_MESSAGE_BYTES,
      ),
      // 256 KiB: the limit of queues created before 2025 and of most emulators.
      queueMessageMaxBytes: integer(
        source,
        'MAILBRIDGE_QUEUE_MESSAGE_MAX_BYTES',
        262_144,
        4096,
        1_048_576,
      ),
      hostname: read(source, 'MAILBRIDGE_HOSTNAME') ?? 'mailbridge',
      // Postfix sends at most lmtp_destination_recipient_limit (50) per transaction; 1000
      // is smtpd_recipient_limit, the most any Postfix client would try.
      maxRecipients: integer(source, 'MAILBRIDGE_MAX_RECIPIENTS', 1000, 1, 100_000),
      http: listener(
        source,
        { host: 'MAILBRIDGE_EDGE_HTTP_HOST', port: 'MAILBRIDGE_EDGE_HTTP_PORT' },
        { host: '127.0.0.1', port: 9425 },
      ),
      // Above Postfix's default LMTP concurrency (default_destination_concurrency_limit =
      // 20), with room for a second Postfix instance or a manual client.
      maxConnections: integer(source, 'MAILBRIDGE_MAX_CONNECTIONS', 100, 1, 100_000),
      // 15 minutes: Postfix itself gives up on the replies after DATA at 600 s
      // (lmtp_data_done_timeout), and its other steps take milliseconds on a local socket,
      // so a transaction of Postfix's ends long before. What runs past it is a client
      // dribbling bytes to keep a connection slot.
      transactionTimeoutSeconds: integer(
        source,
        'MAILBRIDGE_TRANSACTION_TIMEOUT_SECONDS',
        900,
        1,
        86_400,
      ),
    },
    authservId: read(source, 'MAILBRIDGE_AUTHSERV_ID')?.toLowerCase(),
    api: {
      host: read(source, 'MAILBRIDGE_API_HOST') ?? '127.0.0.1',
      port: integer(source, 'MAILBRIDGE_API_PORT', 8787, 0, 65535),
      key: read(source, 'MAILBRIDGE_API_KEY'),
      keySecret: read(source, 'MAILBRIDGE_API_KEY_SECRET'),
    },
    routing: {
      delimiters: delimiters(source, 'MAILBRIDGE_RECIPIENT_DELIMITER'),
      file: read(source, 'MAILBRIDGE_ROUTES_FILE'),
      // Within a minute of a change, as the edge promises; a route just added is honoured
      // at once anyway (RouteSnapshot.decide reads again before refusing).
      refreshMs: integer(source, 'MAILBRIDGE_ROUTES_REFRESH_SECONDS', 30, 1, 60) * 1000,
    },
    webhooks: {
      allowHttp: boolean(source, 'MAILBRIDGE_WEBHOOK_ALLOW_HTTP', mode === 'local'),
      allowLoopback: boolean(source, 'MAILBRIDGE_WEBHOOK_ALLOW_LOOPBACK', mode === 'local'),
      allowPrivate: boolean(source, 'MAILBRIDGE_WEBHOOK_ALLOW_PRIVATE', false),
    },
    local: {
      emulatorPort: integer(source, 'MAILBRIDGE_EMULATOR_PORT', 4566, 0, 65535),
      dynamodbPort: integer(source, 'MAILBRIDGE_DYNAMODB_PORT', 4567, 0, 65535),
      embedded: endpoint === undefined && boolean(source, 'MAILBRIDGE_EMBEDDED', true),
      dataDir: dataDir(source, 'MAILBRIDGE_DATA_DIR'),
      retrySeconds: {
        ingest: integer(source, 'MAILBRIDGE_LOCAL_INGEST_RETRY_SECONDS', 30, 1, 43_200),
        webhook: integer(source, 'MAILBRIDGE_LOCAL_WEBHOOK_RETRY_SECONDS', 30, 1, 43_200),
      },
    },
  }
}
