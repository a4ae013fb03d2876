/**
 * Failures a route raises on purpose. `onError` turns each into a problem+json response
 * with its status; any other error is a bug and becomes an opaque 500.
 */
import { MailbridgeError } from '../../shared/errors.ts'

export class ApiError extends MailbridgeError {
  override name = 'ApiError'
  /** HTTP status of the response. */
  readonly status: number
  /** Extra response headers, e.g. `WWW-Authenticate`. */
  readonly headers: Record<string, string>

  constructor(status: number, detail: string, headers: Record<string, string> = {}) {
    super(detail)
    this.status = status
    this.headers = headers
  }
}

/** The request is malformed: a bad query value, cursor or body. */
export class BadRequestError extends ApiError {
  override name = 'BadRequestError'

  constructor(detail: string) {
    super(400, detail)
  }
}

/** No API key, or not the right one. */
export class UnauthorizedError extends ApiError {
  override name = 'UnauthorizedError'

  constructor(detail: string) {
    // RFC 6750 §3: a 401 for a bearer-protected resource names the scheme.
    super(401, detail, { 'WWW-Authenticate': 'Bearer' })
  }
}

/** The path names nothing that exists, including ids that could never exist. */
export class NotFoundError extends ApiError {
  override name = 'NotFoundError'

  constructor(detail: string) {
    super(404, detail)
  }
}

/** The request conflicts with the resource's state: a replay of a notification still on its way. */
export class ConflictError extends ApiError {
  override name = 'ConflictError'

  constructor(detail: string) {
    super(409, detail)
  }
}
