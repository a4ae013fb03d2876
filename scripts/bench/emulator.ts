/**
 * Starts the emulator child, creates the bucket and queues through the real SDK exactly as
 * local mode does (`ensureResources`), and counts and clears what the edge put there.
 */
import { fileURLToPath } from 'node:url'
import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3'
import { GetQueueAttributesCommand, PurgeQueueCommand, type SQSClient } from '@aws-sdk/client-sqs'
import { edgeEnv, ensureBucketAndQueues } from '../../local/resources.ts'
import { createS3Client, createSqsClient } from '../../shared/aws-clients.ts'
import { type Config, loadConfig } from '../../shared/config.ts'
import { INCOMING_PREFIX } from '../../shared/store/keys.ts'
import { type Daemon, startDaemon, waitFor } from './processes.ts'

// Starting node with tsx and fauxqs takes a second or two; this is a broken start (ms).
const START_TIMEOUT_MS = 30_000
const STOP_GRACE_MS = 5_000
// Bounds the listing loops: 1000 keys a page, far more pages than any row stages.
const MAX_PAGES = 1_000
// The emulator checks no signature, but the SDK signs every request.
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' }

export interface BenchEmulator {
  pid: number
  /** Points SDK clients at this emulator: its endpoint and credentials, the bucket's name. */
  config: Config
  webhookQueueUrl: string
  /** The variables that point the edge at this emulator's bucket and ingest queue. */
  edgeEnv(): NodeJS.ProcessEnv
  /** Messages now in the ingest queue (fauxqs counts exactly). */
  queued(): Promise<number>
  /** Size of the largest object the edge staged under incoming/, bytes (0 for none). */
  largestStagedBytes(): Promise<number>
  /** Empties the ingest queue and deletes every staged object. */
  clear(): Promise<void>
  stop(): Promise<void>
}

interface Addresses {
  /** S3 and SQS. */
  address: string
  dynamodb: string
}

async function readAddress(daemon: Daemon): Promise<Addresses> {
  return waitFor(
    'the emulator to print its address',
    async () => {
      if (daemon.status() !== undefined) throw new Error(`emulator exited: ${daemon.output()}`)
      const output = daemon.output()
      if (!output.includes('\n')) return undefined
      return JSON.parse(output.slice(0, output.indexOf('\n'))) as Addresses
    },
    START_TIMEOUT_MS,
  )
}

export async function startEmulator(): Promise<BenchEmulator> {
  const script = fileURLToPath(new URL('./emulator-child.ts', import.meta.url))
  // fauxqs loads node:sqlite, whose warning would garble the address line.
  const daemon = startDaemon(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', '--import', 'tsx', script],
    { env: process.env },
  )
  let clients: { s3: S3Client; sqs: SQSClient } | undefined
  const stop = async () => {
    clients?.s3.destroy()
    clients?.sqs.destroy()
    await daemon.stop(STOP_GRACE_MS)
  }
  try {
    const { address: endpoint, dynamodb } = await readAddress(daemon)
    const config = loadConfig({ AWS_ENDPOINT_URL: endpoint, AWS_ENDPOINT_URL_DYNAMODB: dynamodb })
    config.aws.credentials = CREDENTIALS
    const s3 = createS3Client(config.aws)
    const sqs = createSqsClient(config.aws)
    clients = { s3, sqs }
    const { ingestQueueUrl, webhookQueueUrl } = await ensureBucketAndQueues(clients, config)
    const { bucket } = config
    const list = (token?: string) =>
      s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: INCOMING_PREFIX,
          ContinuationToken: token,
        }),
      )
    return {
      pid: daemon.pid,
      config,
      webhookQueueUrl,
      edgeEnv: () => edgeEnv(config, ingestQueueUrl),
      async queued() {
        const { Attributes } = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: ingestQueueUrl,
            AttributeNames: [
              'ApproximateNumberOfMessages',
              'ApproximateNumberOfMessagesNotVisible',
              'ApproximateNumberOfMessagesDelayed',
            ],
          }),
        )
        return (
          Number(Attributes?.ApproximateNumberOfMessages ?? Number.NaN) +
          Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) +
          Number(Attributes?.ApproximateNumberOfMessagesDelayed ?? 0)
        )
      },
      async largestStagedBytes() {
        let largest = 0
        let token: string | undefined
        for (let page = 0; page < MAX_PAGES; page++) {
          const listed = await list(token)
          for (const object of listed.Contents ?? []) largest = Math.max(largest, object.Size ?? 0)
          token = listed.NextContinuationToken
          if (!listed.IsTruncated || !token) return largest
        }
        throw new Error(`more than ${MAX_PAGES} pages of staged objects`)
      },
      async clear() {
        await sqs.send(new PurgeQueueCommand({ QueueUrl: ingestQueueUrl }))
        // Delete the first page until none is left: paging on while deleting could skip keys.
        for (let page = 0; page < MAX_PAGES; page++) {
          const { Contents = [] } = await list()
          if (Contents.length === 0) return
          await s3.send(
            new DeleteObjectsCommand({
              Bucket: bucket,
              Delete: { Objects: Contents.map((object) => ({ Key: object.Key })), Quiet: true },
            }),
          )
        }
        throw new Error(`staged objects still listed after ${MAX_PAGES} deletions`)
      },
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}
