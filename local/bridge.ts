/**
 * The whole bridge in one process: the LMTP edge, the functions (pollers feeding the
 * ingest and deliver handlers exactly as Lambda's SQS event source would), and the API on
 * an HTTP port. The same handler code as in Lambda; only the wiring differs.
 *
 * With `threads`, as npm start runs it, the functions and the edge's SQS sends each run
 * in a worker thread of their own, so that the bridge uses every core; without, all of it
 * runs in this thread, where a test can reach it.
 */
import type { AddressInfo } from 'node:net'
import { type ServerType, serve } from '@hono/node-server'
import { Handoff, SEND_TIMEOUT_MS } from '../edge/handoff.ts'
import { QueueSender } from '../edge/queue-sender.ts'
import { QueueThread } from '../edge/queue-thread.ts'
import { startRecipientCheck } from '../edge/recipients.ts'
import { type RunningEdge, startEdge } from '../edge/start-edge.ts'
import { createApiApp } from '../functions/api/app.ts'
import type { Root } from '../shared/compose.ts'
import { createLogger } from '../shared/logger.ts'
import { readRoutesFile } from '../shared/routing/routes-file.ts'
import { startFunctions, startFunctionsThread } from './functions.ts'

export interface BridgeOptions {
  /** The root of local mode's config, whose queues are named by URL (ensureResources). */
  root: Root
  apiKey: string
  /** Functions and SQS sends in worker threads of their own (npm start). */
  threads?: boolean
}

export interface RunningBridge {
  edge: RunningEdge
  api: AddressInfo
  stop(): Promise<void>
}

function listenApi(app: ReturnType<typeof createApiApp>, host: string, port: number) {
  return new Promise<{ server: ServerType; address: AddressInfo }>((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (address) =>
      resolve({ server, address }),
    )
    server.once('error', reject)
  })
}

export async function startBridge(options: BridgeOptions): Promise<RunningBridge> {
  const { root } = options
  const { config, clients } = root
  const functions = options.threads
    ? await startFunctionsThread(config)
    : await startFunctions(root)

  const app = createApiApp(root, options.apiKey)
  const api = await listenApi(app, config.api.host, config.api.port)

  const logger = createLogger('edge')
  const sender = {
    queueUrl: config.ingestQueue,
    maxBatchBytes: config.edge.queueMessageMaxBytes,
    timeoutMs: SEND_TIMEOUT_MS,
  }
  // Routes from MAILBRIDGE_ROUTES_FILE, or the defaults of a store that has none.
  const file = config.routing.file
  await root.stores.routes.initialize(file === undefined ? undefined : readRoutesFile(file))
  const { check, routes } = await startRecipientCheck({
    config,
    s3: clients.s3,
    dynamodb: clients.dynamodb,
    logger,
  })
  // A change through the API reaches the edge at once, not at its next read.
  const unsubscribe = root.stores.routes.onPublish(() => routes.refresh())
  const edge = await startEdge({
    config: config.edge,
    logger,
    recipients: check,
    handoff: new Handoff({
      s3: clients.s3,
      queue: options.threads
        ? new QueueThread({ ...sender, aws: config.aws }, logger)
        : new QueueSender({ ...sender, sqs: clients.sqs }),
      bucket: config.bucket,
      queueMessageMaxBytes: config.edge.queueMessageMaxBytes,
      maxMessageBytes: config.edge.maxMessageBytes,
    }),
  })

  return {
    edge,
    api: api.address,
    async stop() {
      // In the direction of the data: nothing new comes in, the batches in hand finish,
      // and what is still queued waits in the queues (on disk) for the next start.
      await edge.close()
      unsubscribe()
      routes.stop()
      await functions.stop()
      await new Promise<void>((resolve) => api.server.close(() => resolve()))
    },
  }
}
