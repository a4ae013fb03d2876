/**
 * Creates the bucket, the queues (each with its dead-letter queue) and the table that
 * serverless.yml declares in AWS, through the SDK, so that local mode works the same on
 * the embedded emulators, LocalStack or MinIO + an SQS emulator + DynamoDB Local.
 * Creating what exists is a no-op.
 */
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs'
import type { Clients } from '../shared/compose.ts'
import type { Config } from '../shared/config.ts'
import { MAX_TIMEOUT_SECONDS } from '../shared/contracts/webhook.ts'
import { ensureTable } from '../shared/store/table.ts'

// Least time a webhook job stays hidden once received (s): longer than the longest request
// timeout an endpoint may set, with room for the store writes after it. Shorter, a slow
// receiver's job would be handed to a second poller mid-request and sent twice.
export const WEBHOOK_VISIBILITY_FLOOR_SECONDS = 2 * MAX_TIMEOUT_SECONDS

export interface QueueSpec {
  name: string
  /** Seconds a received message stays hidden: the retry delay after a failure. */
  visibilityTimeout: number
  /** Receives before a message moves to `{name}-dlq`. */
  maxReceiveCount: number
}

export interface Resources {
  ingestQueueUrl: string
  webhookQueueUrl: string
}

/**
 * Creates the queue and its dead-letter queue, or finds them, and sets their attributes:
 * set apart from CreateQueue, because SQS refuses to create a queue that exists with
 * other attributes (a restart with another retry delay).
 */
async function createQueue(sqs: SQSClient, spec: QueueSpec): Promise<string> {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${spec.name}-dlq` }))
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
  )
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: spec.name }))
  if (!QueueUrl) throw new Error(`CreateQueue ${spec.name} returned no URL`)
  await sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl,
      Attributes: {
        VisibilityTimeout: String(spec.visibilityTimeout),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: attributes.Attributes?.QueueArn,
          maxReceiveCount: spec.maxReceiveCount,
        }),
      },
    }),
  )
  return QueueUrl
}

export async function ensureResources(
  clients: Clients,
  config: Pick<Config, 'bucket' | 'table' | 'ingestQueue' | 'webhookQueue' | 'local'>,
): Promise<Resources> {
  await ensureTable(clients.dynamodb, config.table)
  return ensureBucketAndQueues(clients, config)
}

/** The bucket and queues alone: all that an edge needs (the bench's edge-alone rows). */
export async function ensureBucketAndQueues(
  clients: Pick<Clients, 's3' | 'sqs'>,
  config: Pick<Config, 'bucket' | 'ingestQueue' | 'webhookQueue' | 'local'>,
): Promise<Resources> {
  try {
    await clients.s3.send(new CreateBucketCommand({ Bucket: config.bucket }))
  } catch (error) {
    const name = (error as { name?: string }).name
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error
  }
  const { retrySeconds } = config.local
  const [ingestQueueUrl, webhookQueueUrl] = await Promise.all([
    createQueue(clients.sqs, {
      name: config.ingestQueue,
      visibilityTimeout: retrySeconds.ingest,
      maxReceiveCount: 5,
    }),
    createQueue(clients.sqs, {
      name: config.webhookQueue,
      visibilityTimeout: Math.max(retrySeconds.webhook, WEBHOOK_VISIBILITY_FLOOR_SECONDS),
      maxReceiveCount: 8,
    }),
  ])
  return { ingestQueueUrl, webhookQueueUrl }
}

/**
 * The variables that point another process (an edge, `mailbridge doctor`) at the
 * endpoint, credentials, bucket and ingest queue of `config`, or at `endpoint` in front
 * of them (a fault proxy).
 */
export function edgeEnv(
  config: Config,
  ingestQueueUrl: string,
  endpoint = config.aws.endpoint,
): NodeJS.ProcessEnv {
  const { credentials } = config.aws
  return {
    ...(endpoint && { AWS_ENDPOINT_URL: endpoint }),
    ...(credentials && {
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    }),
    AWS_REGION: config.aws.region,
    MAILBRIDGE_BUCKET: config.bucket,
    MAILBRIDGE_INGEST_QUEUE: ingestQueueUrl,
  }
}
