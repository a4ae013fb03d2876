/** Lambda entry for the API (API Gateway HTTP API, payload v2): wiring only. */
import { handle } from 'hono/aws-lambda'
import { compose } from '../../shared/compose.ts'
import { loadConfig } from '../../shared/config.ts'
import { loadApiKey } from './api-key.ts'
import { createApiApp } from './app.ts'

// Once per cold start, during the init phase (top-level await): the key from its secret,
// and a missing key fails the init, not every request.
const root = compose(loadConfig())
export const app = createApiApp(root, await loadApiKey(root.config))

// Every body but the API's own JSON goes to API Gateway as base64, which it turns back into
// bytes: raw sources and attachments are the sender's bytes whatever type they declare, and
// Hono's default would decode a text/csv in Latin-1 as UTF-8, breaking every accented byte.
const API_JSON = /^application\/(problem\+)?json\b/i

export const handler = handle(app, {
  isContentTypeBinary: (contentType) => !API_JSON.test(contentType),
})
