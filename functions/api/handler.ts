/** Lambda entry for the API (API Gateway HTTP API, payload v2): wiring only. */
import { handle } from 'hono/aws-lambda'
import { compose } from '../../shared/compose.ts'
import { loadConfig } from '../../shared/config.ts'
import { createApiApp } from './app.ts'

// Read once per cold start; a missing key fails the init, not every request.
export const app = createApiApp(compose(loadConfig()))

export const handler = handle(app)
