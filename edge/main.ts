/**
 * `npm run edge`: the LMTP edge alone, as it runs on the mail host, handing off to the
 * SQS queue and S3 bucket of a deployed mailbridge (or any S3/SQS-compatible endpoint).
 */
import { createS3Client, createSqsClient, resolveQueueUrl } from '../shared/aws-clients.ts'
import { loadConfig } from '../shared/config.ts'
import { createLogger } from '../shared/logger.ts'
import { Handoff } from './handoff.ts'
import { startEdge } from './lmtp-server.ts'

const logger = createLogger('edge')
const config = loadConfig()
const s3 = createS3Client(config.aws)
const sqs = createSqsClient(config.aws)

const edge = await startEdge({
  config: config.edge,
  logger,
  handoff: new Handoff({
    s3,
    sqs,
    bucket: config.bucket,
    queueUrl: await resolveQueueUrl(sqs, config.ingestQueue),
    queueMessageMaxBytes: config.edge.queueMessageMaxBytes,
    maxMessageBytes: config.edge.maxMessageBytes,
  }),
})
logger.info(
  { tcp: edge.tcp, socket: edge.socketPath, domains: config.edge.domains },
  'edge listening',
)

let stopping = false
async function shutdown(signal: string) {
  if (stopping) return
  stopping = true
  logger.info({ signal }, 'stopping: no new sessions, open ones finish')
  await edge.close()
  process.exit(0)
}
process.on('SIGINT', () => void shutdown('SIGINT'))
process.on('SIGTERM', () => void shutdown('SIGTERM'))
