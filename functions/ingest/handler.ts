/** Lambda wiring for ingest: the root once per cold start, then the batch handler. */
import { compose } from '../../shared/compose.ts'
import { loadConfig } from '../../shared/config.ts'
import { createIngestHandler, ingestDeps } from './ingest.ts'

// In Lambda, serverless.yml passes the webhook queue's URL.
export const handler = createIngestHandler(ingestDeps(compose(loadConfig())))
