/** AWS SDK clients built from config: the same code talks to AWS, LocalStack, MinIO or the emulator. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { S3Client } from '@aws-sdk/client-s3'
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs'
import type { Config } from './config.ts'

/**
 * Socket timeouts of the SDK's HTTP handler (ms): `connectionTimeout` to connect,
 * `requestTimeout` of inactivity on an open request. Unset, the SDK waits indefinitely.
 */
export interface HttpTimeouts {
  connectionTimeout: number
  requestTimeout: number
}

/** The handler options for `timeouts`; the SDK only warns about a timeout unless told to throw. */
function requestHandler(timeouts: HttpTimeouts | undefined) {
  return timeouts && { ...timeouts, throwOnRequestTimeout: true }
}

export function createS3Client(aws: Config['aws'], timeouts?: HttpTimeouts): S3Client {
  return new S3Client({
    requestHandler: requestHandler(timeouts),
    region: aws.region,
    endpoint: aws.endpoint,
    forcePathStyle: aws.forcePathStyle,
    credentials: aws.credentials,
    // The SDK's default CRC32 checksums are refused by some S3-compatible servers; AWS
    // needs them only where an operation requires one.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
}

export function createSqsClient(aws: Config['aws'], timeouts?: HttpTimeouts): SQSClient {
  return new SQSClient({
    region: aws.region,
    endpoint: aws.endpoint,
    credentials: aws.credentials,
    requestHandler: requestHandler(timeouts),
  })
}

export function createDynamoDbClient(aws: Config['aws'], timeouts?: HttpTimeouts): DynamoDBClient {
  return new DynamoDBClient({
    region: aws.region,
    endpoint: aws.dynamodbEndpoint,
    credentials: aws.credentials,
    requestHandler: requestHandler(timeouts),
  })
}

/** A queue URL as given, or looked up from a queue name. */
export async function resolveQueueUrl(sqs: SQSClient, nameOrUrl: string): Promise<string> {
  if (/^https?:\/\//.test(nameOrUrl)) return nameOrUrl
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: nameOrUrl }))
  if (!QueueUrl) throw new Error(`queue ${nameOrUrl} has no URL`)
  return QueueUrl
}
