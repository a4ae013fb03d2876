/** API key check: `Authorization: Bearer <key>`. */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { ConfigError } from '../../shared/errors.ts'
import { UnauthorizedError } from './errors.ts'

// RFC 6750 §2.1: the scheme is case-insensitive and the token (b64token) has no spaces.
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}

/**
 * Middleware that lets a request through only with the right key. Both sides are hashed
 * first so the comparison takes the same time whatever the length or content of the
 * guess: neither the key's length nor its prefix leaks through response timing.
 */
export function bearerAuth(apiKey: string): MiddlewareHandler {
  if (apiKey === '') throw new ConfigError('the API key must not be empty')
  const expected = digest(apiKey)
  return async (c, next) => {
    const header = c.req.header('Authorization')
    if (header === undefined) {
      throw new UnauthorizedError('An Authorization: Bearer header is required')
    }
    const token = BEARER.exec(header)?.[1]
    if (token === undefined || !timingSafeEqual(digest(token), expected)) {
      throw new UnauthorizedError('The API key is not valid')
    }
    await next()
  }
}
