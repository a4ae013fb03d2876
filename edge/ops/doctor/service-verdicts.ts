/**
 * Judging the cloud side and the health endpoint: a failed S3 or SQS call becomes the
 * setting or policy to fix, an HTTP answer from /healthz a verdict. Pure.
 */
import { type CheckResult, DEFAULT_ENV_FILE, fail, ok, RESTART_EDGE, START_EDGE } from './report.ts'

/** A failed AWS call, reduced to what the fix depends on. */
export interface AwsFailure {
  /** The SDK error's name (`AccessDenied`, `QueueDoesNotExist`…) or a system code (`ECONNREFUSED`). */
  name: string
  message: string
  httpStatus?: number
}

/** Turns a thrown SDK or network error into an AwsFailure. */
export function describeAwsError(error: unknown): AwsFailure {
  const err = error as {
    name?: string
    code?: string
    Code?: string
    message?: string
    $metadata?: { httpStatusCode?: number }
    errors?: { code?: string }[]
  }
  // Network errors carry a system code; with several addresses they come as an AggregateError.
  const code = err.code ?? err.errors?.find((e) => e.code)?.code
  const name = code && /^E[A-Z]+$/.test(code) ? code : (err.Code ?? err.name ?? 'Error')
  return {
    name,
    message: err.message || code || String(error),
    httpStatus: err.$metadata?.httpStatusCode,
  }
}

export interface AwsContext {
  bucket: string
  queue: string
  /** AWS_ENDPOINT_URL, or undefined for AWS itself. */
  endpoint?: string
  region: string
  envFile?: string
}

const NETWORK =
  /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH|TimeoutError|AbortError)$/
const BAD_KEYS =
  /^(InvalidClientTokenId|SignatureDoesNotMatch|UnrecognizedClientException|InvalidAccessKeyId|ExpiredToken)$/
const NO_QUEUE = /QueueDoesNotExist|NonExistentQueue/
const DENIED = /^(AccessDenied|AccessDeniedException|Forbidden)$/

/** The fix for a failed S3 or SQS call, by what failed. */
export function awsFix(service: 's3' | 'sqs', failure: AwsFailure, context: AwsContext): string {
  const envFile = context.envFile ?? DEFAULT_ENV_FILE
  const { name } = failure
  if (NETWORK.test(name)) {
    return context.endpoint
      ? `check AWS_ENDPOINT_URL=${context.endpoint} in ${envFile}: is that server running and reachable from here?`
      : `check the network from this host to AWS (${service} in ${context.region}): firewall, proxy, DNS`
  }
  if (/CredentialsProviderError/.test(name) || /credentials/i.test(failure.message)) {
    return `give the edge credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in ${envFile} (a user with the stack's EdgePolicy), or an instance role`
  }
  if (BAD_KEYS.test(name)) {
    return `AWS rejects these credentials: correct AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in ${envFile}`
  }
  if (service === 'sqs' && NO_QUEUE.test(name)) {
    return `MAILBRIDGE_INGEST_QUEUE=<the stack's IngestQueueUrl output> in ${envFile} (now ${context.queue}); AWS_REGION must be the stack's region (now ${context.region})`
  }
  if (
    service === 's3' &&
    (name === 'NoSuchBucket' || name === 'NotFound' || failure.httpStatus === 404)
  ) {
    return `MAILBRIDGE_BUCKET=<the stack's BucketName output> in ${envFile} (now ${context.bucket})`
  }
  if (
    name === 'PermanentRedirect' ||
    name === 'AuthorizationHeaderMalformed' ||
    failure.httpStatus === 301
  ) {
    return `the bucket is in another region: set AWS_REGION in ${envFile} to the stack's region (now ${context.region})`
  }
  if (DENIED.test(name) || failure.httpStatus === 403) {
    return `attach the stack's EdgePolicy (output EdgePolicyArn) to the user or role whose keys are in ${envFile}`
  }
  return `check AWS_REGION, AWS_ENDPOINT_URL and the credentials in ${envFile}`
}

/** Verdict on GET /healthz. */
export function healthCheck(
  where: string,
  outcome: { status: number; body: string } | { error: string },
): CheckResult {
  const name = 'health endpoint'
  if ('status' in outcome) {
    if (outcome.status === 200) return ok(name, `${where} answered 200`)
    const body = outcome.body.trim().slice(0, 200)
    return fail(
      name,
      `${where} answered ${outcome.status}${body ? `: ${body}` : ''}`,
      `the edge reports itself unhealthy: journalctl -u mailbridge-edge, then ${RESTART_EDGE}`,
    )
  }
  if (outcome.error === 'ECONNREFUSED') {
    return fail(name, `nothing answers at ${where}: edge not running`, `start it: ${START_EDGE}`)
  }
  return fail(
    name,
    `${where}: ${outcome.error}`,
    `check MAILBRIDGE_EDGE_HTTP_HOST / MAILBRIDGE_EDGE_HTTP_PORT, then ${RESTART_EDGE}`,
  )
}
