/**
 * Starts the emulator child, creates the bucket and queues through the real SDK exactly as
 * local mode does (`ensureResources`), and counts and clears what the edge put there.
 */
import { fileURLToPath } from 'node:url'
import {
  DeleteObjectsCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3'
import { GetQueueAttributesCommand, PurgeQueueCommand, type SQSClient } from '@aws-sdk/client-sqs'
import { ensureResources } from '../../local/resources.ts'
import { createS3Client, createSqsClient } from '../../shared/aws-clients.ts'
import { type Config, loadConfig } from '../../shared/config.ts'
import { type Daemon, startDaemon, waitFor } from './processes.ts'

// Starting node with tsx and fauxqs takes a second or two; this is a broken start (ms).
const START_TIMEOUT_MS = 30_000
const STOP_GRACE_MS = 5_000
// Where the edge stages big messages (shared/mailbox-layout.ts incomingRawKey).
const STAGED_PREFIX = 'incoming/'
// Bounds the listing loops: 1000 keys a page, far more pages than any row stages.
const MAX_PAGES = 1_000

/** The variables the edge needs to find the emulator (fixed credentials it accepts). */
export const EMULATOR_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' }

export interface Staged {
  objects: number
  /** Size of the largest staged object, bytes. */
  largestBytes: number
}

export interface BenchEmulator {
  endpoint: string
  pid: number
  config: Config
  queueUrl: string
  /** Messages now in the ingest queue (fauxqs counts exactly). */
  queued(): Promise<number>
  staged(): Promise<Staged>
  /** Empties the ingest queue and deletes every staged object. */
  clear(): Promise<void>
  stop(): Promise<void>
}

async function readAddress(daemon: Daemon): Promise<string> {
  return waitFor(
    'the emulator to print its address',
    async () => {
      if (daemon.child.exitCode !== null) {
        throw new Error(`emulator exited: ${daemon.output()}`)
      }
      const line = daemon.output().split('\n')[0]
      if (!line || !daemon.output().includes('\n')) return undefined
      return (JSON.parse(line) as { address: string }).address
    },
    START_TIMEOUT_MS,
  )
}

async function* listStaged(s3: S3Client, bucket: string) {
  let token: string | undefined
  for (let page = 0; page < MAX_PAGES; page++) {
    const listed: ListObjectsV2CommandOutput = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: STAGED_PREFIX, ContinuationToken: token }),
    )
    yield listed.Contents ?? []
    token = listed.NextContinuationToken
    if (!listed.IsTruncated || !token) return
  }
  throw new Error(`more than ${MAX_PAGES} pages of staged objects`)
}

export async function startEmulator(): Promise<BenchEmulator> {
  const script = fileURLToPath(new URL('./emulator-child.ts', import.meta.url))
  const daemon = startDaemon(process.execPath, ['--import', 'tsx', script], {
    env: process.env,
  })
  let s3: S3Client | undefined
  let sqs: SQSClient | undefined
  const stop = async () => {
    s3?.destroy()
    sqs?.destroy()
    await daemon.stop('SIGTERM', STOP_GRACE_MS)
  }
  try {
    const endpoint = await readAddress(daemon)
    const config = loadConfig({ AWS_ENDPOINT_URL: endpoint })
    config.aws.credentials = EMULATOR_CREDENTIALS
    const clients = { s3: createS3Client(config.aws), sqs: createSqsClient(config.aws) }
    s3 = clients.s3
    sqs = clients.sqs
    const { ingestQueueUrl } = await ensureResources(clients, config)
    const bucket = config.bucket
    return {
      endpoint,
      pid: daemon.pid,
      config,
      queueUrl: ingestQueueUrl,
      async queued() {
        const { Attributes } = await clients.sqs.send(
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
      async staged() {
        const result: Staged = { objects: 0, largestBytes: 0 }
        for await (const objects of listStaged(clients.s3, bucket)) {
          result.objects += objects.length
          for (const object of objects) {
            result.largestBytes = Math.max(result.largestBytes, object.Size ?? 0)
          }
        }
        return result
      },
      async clear() {
        await clients.sqs.send(new PurgeQueueCommand({ QueueUrl: ingestQueueUrl }))
        // Delete the first page until none is left: paging on while deleting could skip keys.
        for (let page = 0; page < MAX_PAGES; page++) {
          const { Contents = [] } = await clients.s3.send(
            new ListObjectsV2Command({ Bucket: bucket, Prefix: STAGED_PREFIX }),
          )
          if (Contents.length === 0) return
          await clients.s3.send(
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
