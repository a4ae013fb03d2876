/**
 * `npm run edge` (or `mailbridge edge`): the LMTP edge alone, as it runs on the mail host,
 * handing off to the SQS queue and S3 bucket of a deployed mailbridge (or any
 * S3/SQS-compatible endpoint), with /healthz and /metrics on a local port.
 */
import {
  createDynamoDbClient,
  createS3Client,
  createSqsClient,
  resolveQueueUrl,
} from '../shared/aws-clients.ts'
import { loadConfig } from '../shared/config.ts'
import { MailbridgeError } from '../shared/errors.ts'
import { createLogger } from '../shared/logger.ts'
import { Handoff, SEND_TIMEOUT_MS } from './handoff.ts'
import { startHealthServer } from './health-server.ts'
import { EdgeMetrics } from './metrics.ts'
import { QueueThread } from './queue-thread.ts'
import { startRecipientCheck } from './recipients.ts'
import { startEdge } from './start-edge.ts'

// SDK socket timeouts (ms): a dead endpoint fails the hand-off (451) in seconds rather
// than holding Postfix's session, and a stalled request is abandoned and retried.
const TIMEOUTS = { connectionTimeout: 5_000, requestTimeout: 20_000 }
// sysexits.h EX_CONFIG: a setting or the socket path is wrong, and restarting will not
// help (the systemd unit has RestartPreventExitStatus=78).
const EX_CONFIG = 78

const logger = createLogger('edge')

async function main(): Promise<void> {
  const config = loadConfig()
  const s3 = createS3Client(config.aws, TIMEOUTS)
  const sqs = createSqsClient(config.aws, TIMEOUTS)
  const metrics = new EdgeMetrics({ processMetrics: true })
  const dynamodb = createDynamoDbClient(config.aws, TIMEOUTS)
  const { check } = await startRecipientCheck({ config, s3, dynamodb, logger })

  const edge = await startEdge({
    config: config.edge,
    logger,
    metrics,
    recipients: check,
    handoff: new Handoff({
      s3,
      queue: new QueueThread(
        {
          aws: config.aws,
          timeouts: TIMEOUTS,
          queueUrl: await resolveQueueUrl(sqs, config.ingestQueue),
          maxBatchBytes: config.edge.queueMessageMaxBytes,
          timeoutMs: SEND_TIMEOUT_MS,
        },
        logger,
      ),
      bucket: config.bucket,
      queueMessageMaxBytes: config.edge.queueMessageMaxBytes,
      maxMessageBytes: config.edge.maxMessageBytes,
    }),
  })
  const health = config.edge.http && (await startHealthServer(config.edge.http, metrics, edge))
  logger.info(
    {
      tcp: edge.tcp,
      socket: edge.socketPath,
      http: health ? health.address : undefined,
      domains: config.edge.domains,
    },
    'edge listening',
  )

  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'stopping: no new transactions, pending hand-offs finish')
    await edge.close()
    await health?.close()
    logger.info('stopped')
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
}

main().catch((error: unknown) => {
  const known = error instanceof MailbridgeError
  logger.fatal({ err: error }, 'edge did not start')
  console.error(`mailbridge edge: ${(error as Error).message}`)
  process.exit(known ? EX_CONFIG : 1)
})
