/**
 * `npm start`: the whole bridge on this machine. With no AWS_ENDPOINT_URL it embeds an
 * S3/SQS emulator (fauxqs) and a DynamoDB emulator (dynalite), both speaking the real AWS
 * wire protocol on loopback, each in a thread of its own, and keeps their queues, objects
 * and table in MAILBRIDGE_DATA_DIR (`data/` by default; `:memory:` for none), so a
 * restart, or a crash, loses nothing acknowledged. With AWS_ENDPOINT_URL it runs against
 * that endpoint (LocalStack, MinIO + an SQS server + DynamoDB Local), and with
 * MAILBRIDGE_EMBEDDED=false against AWS itself.
 */
import { randomBytes } from 'node:crypto'
import { compose, destroyClients } from '../shared/compose.ts'
import { loadConfig } from '../shared/config.ts'
import { createLogger } from '../shared/logger.ts'
import { nodeTooOld } from '../shared/node-version.ts'
import { startBridge } from './bridge.ts'
import { type EmbeddedEmulators, startEmulators } from './emulators.ts'
import { ensureResources } from './resources.ts'

const tooOld = nodeTooOld()
if (tooOld !== undefined) {
  process.stderr.write(`npm start: ${tooOld}\n`)
  process.exit(1)
}

const logger = createLogger('local')
const config = loadConfig(process.env, 'local')
const apiKey = config.api.key ?? `mb_${randomBytes(18).toString('hex')}`

let emulator: EmbeddedEmulators | undefined
if (config.local.embedded) {
  try {
    emulator = await startEmulators({
      port: config.local.emulatorPort,
      dynamodbPort: config.local.dynamodbPort,
      dataDir: config.local.dataDir,
      threads: true,
    })
  } catch (error) {
    // Another npm start on the same data directory, a port in use: say so, no stack.
    process.stderr.write(`npm start: ${(error as Error).message}\n`)
    process.exit(1)
  }
  config.aws.endpoint = emulator.endpoint
  config.aws.dynamodbEndpoint = emulator.dynamodbEndpoint
  config.aws.forcePathStyle = true
  // The emulator checks no signature, but the SDK signs every request.
  config.aws.credentials = { accessKeyId: 'local', secretAccessKey: 'local' }
}

const root = compose(config)
const resources = await ensureResources(root.clients, config)
config.ingestQueue = resources.ingestQueueUrl
config.webhookQueue = resources.webhookQueueUrl
const bridge = await startBridge({ root, apiKey, threads: true })

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
  `  Node            ${process.version} (${process.execPath})`,
  `  S3/SQS          ${config.aws.endpoint ?? `AWS ${config.aws.region}`}${emulator ? ' (embedded emulator)' : ''}`,
  `  DynamoDB        ${config.aws.dynamodbEndpoint ?? `AWS ${config.aws.region}`}${emulator ? ' (embedded emulator)' : ''}, table ${config.table}`,
  emulator &&
    `  data            ${config.local.dataDir ?? 'in memory: lost when this process ends (MAILBRIDGE_DATA_DIR=:memory:)'}`,
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
  destroyClients(root.clients)
  await emulator?.stop()
  process.exit(0)
}
process.on('SIGINT', () => void shutdown('SIGINT'))
process.on('SIGTERM', () => void shutdown('SIGTERM'))
