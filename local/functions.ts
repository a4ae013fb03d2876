/**
 * The functions of local mode: pollers feeding the ingest and deliver handlers exactly as
 * Lambda's SQS event source would. The same handler code as in Lambda; only the wiring
 * differs. Runs in the caller's thread (the tests), or in a worker thread of its own
 * (npm start), where MIME parsing, the SDK's signing and the JSON of ingest run on the
 * other core, beside the LMTP sessions and the API.
 */
import { createDeliverHandler, deliverDeps } from '../functions/deliver/deliver.ts'
import { createIngestHandler, ingestDeps } from '../functions/ingest/ingest.ts'
import type { Root } from '../shared/compose.ts'
import type { Config } from '../shared/config.ts'
import { createLogger } from '../shared/logger.ts'
import type { SqsBatchHandler } from '../shared/sqs-batch.ts'
import { SqsPoller } from './sqs-poller.ts'
import { startThread } from './threads.ts'

// Ingest batches in hand at once, as Lambda runs several instances for one queue: while
// one batch waits on the emulators' disk writes (each one synced), others parse and send.
const INGEST_BATCHES = 4

export interface RunningFunctions {
  /** Stops receiving and waits for the batches in hand; what is still queued stays queued. */
  stop(): Promise<void>
}

/** The pollers over `root`, whose config names the queues by URL. */
export async function startFunctions(root: Root): Promise<RunningFunctions> {
  const { config, clients } = root
  const poller = (queueUrl: string, name: string, handler: SqsBatchHandler, concurrency: number) =>
    new SqsPoller({
      sqs: clients.sqs,
      queueUrl,
      region: config.aws.region,
      logger: createLogger(`${name}-poller`),
      handler,
      concurrency,
    })
  const pollers = [
    poller(config.ingestQueue, 'ingest', createIngestHandler(ingestDeps(root)), INGEST_BATCHES),
    poller(config.webhookQueue, 'deliver', createDeliverHandler(deliverDeps(root)), 2),
  ]
  await Promise.all(pollers.map((each) => each.start()))
  return {
    async stop() {
      await Promise.all(pollers.map((each) => each.stop()))
    },
  }
}

/** The functions in a worker thread, which composes its own root (and clients) from `config`. */
export async function startFunctionsThread(config: Config): Promise<RunningFunctions> {
  const thread = await startThread<true>(import.meta.url, 'functions-worker', config)
  return { stop: thread.stop }
}
