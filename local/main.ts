/**
 * `npm start`: the whole bridge on this machine. With no AWS_ENDPOINT_URL it embeds an
 * S3/SQS emulator (fauxqs, speaking the real AWS wire protocol) and keeps everything in
 * memory; with AWS_ENDPOINT_URL it runs against that endpoint (LocalStack, MinIO + an SQS
 * server), and with MAILBRIDGE_EMBEDDED=false against AWS itself.
 */
import { randomBytes } from 'node:crypto'
import { startFauxqs } from 'fauxqs'
import { createS3Client, createSqsClient } from '../shared/aws-clients.ts'
import { loadConfig } from '../shared/config.ts'
import { createLogger } from '../shared/logger.ts'
import { startBridge } from './bridge.ts'
import { ensureResources } from './resources.ts'

const logger = createLogger('local')
const config = loadConfig()
const apiKey = config.api.key ?? `mb_${randomBytes(18).toString('hex')}`

let emulator: Awaited<ReturnType<typeof startFauxqs>> | undefined
if (config.local.embedded) {
  emulator = await startFauxqs({
    port: config.local.emulatorPort,
    host: '127.0.0.1',
    logger: false,
  })
  config.aws.endpoint = emulator.address
  config.aws.forcePathStyle = true
  // The emulator checks no signature, but the SDK signs every request.
  config.aws.credentials = { accessKeyId: 'local', secretAccessKey: 'local' }
}

const s3 = createS3Client(config.aws)
const sqs = createSqsClient(config.aws)
const resources = await ensureResources({ s3, sqs }, config)
const bridge = await startBridge({ config, s3, sqs, apiKey, ...resources })

const lmtp = bridge.edge.tcp ? `${bridge.edge.tcp.address}:${bridge.edge.tcp.port}` : undefined
const api = `http://${bridge.api.address}:${bridge.api.port}`
const rcpt = `test@${config.edge.domains[0] ?? 'example.com'}`
const lines = [
  '',
  'mailbridge is running (local mode)',
  lmtp && `  LMTP (TCP)      ${lmtp}`,
  bridge.edge.socketPath && `  LMTP (socket)   ${bridge.edge.socketPath}`,
  `  HTTP API        ${api}`,
  `  API key         ${apiKey}${config.api.key ? '' : '   (random; set MAILBRIDGE_API_KEY to fix it)'}`,
  `  S3/SQS          ${config.aws.endpoint ?? `AWS ${config.aws.region}`}${emulator ? ' (embedded emulator, in memory)' : ''}`,
  `  domains         ${config.edge.domains.length ? config.edge.domains.join(', ') : 'every domain'}`,
  '',
  'Send a test message (another terminal):',
  lmtp
    ? `  npm run send-test -- --lmtp ${lmtp} --to ${rcpt}`
    : `  npm run send-test -- --socket ${bridge.edge.socketPath} --to ${rcpt}`,
  'Read it back:',
  `  curl -s -H 'Authorization: Bearer ${apiKey}' ${api}/v1/mailboxes/${encodeURIComponent(rcpt)}/messages`,
  'Get a webhook for every message:',
  `  curl -s -H 'Authorization: Bearer ${apiKey}' -H 'content-type: application/json' -d '{"url":"http://127.0.0.1:9000/"}' ${api}/v1/webhooks`,
  '',
].filter((line): line is string => typeof line === 'string')
process.stdout.write(`${lines.join('\n')}\n`)

let stopping = false
async function shutdown(signal: string) {
  if (stopping) return
  stopping = true
  logger.info({ signal }, 'shutting down')
  await bridge.stop()
  s3.destroy()
  sqs.destroy()
  await emulator?.stop()
  process.exit(0)
}
process.on('SIGINT', () => void shutdown('SIGINT'))
process.on('SIGTERM', () => void shutdown('SIGTERM'))
