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

export const handler = handle(app)
