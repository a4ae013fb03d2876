/**
 * A recording proxy between a process's AWS SDK clients and the emulators: every request is
 * forwarded unchanged, and noted as the IAM action it needs and the resource it acts on, so
 * that a test can hold what a function really did against the role it is given.
 *
 * It knows the protocols mailbridge's clients speak: S3's REST API, path-style (the
 * emulators' setting), and the JSON protocols of SQS and DynamoDB (X-Amz-Target).
 */
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { buffer } from 'node:stream/consumers'

export interface AwsCall {
  /** The IAM action the request needs: `s3:GetObject`, `sqs:SendMessage`, `dynamodb:Query`. */
  action: string
  /** `bucket` or `bucket/key` (S3), the queue's name (SQS), the table's name (DynamoDB). */
  resource: string
  /** DynamoDB: the partition key values the request touches (the `dynamodb:LeadingKeys`). */
  leadingKeys?: string[]
}

export interface CallRecorder {
  /** Put this in front of `upstream` (AWS_ENDPOINT_URL and its kind). */
  endpoint: string
  /** The calls since the last take, in the order they came; then forgets them. */
  take(): AwsCall[]
  close(): Promise<void>
}

// SQS's and DynamoDB's operations whose IAM action has another name.
const ACTION_OF: Record<string, string> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
}

// DynamoDB's partition key attribute (shared/store/table.ts).
const PARTITION_KEY = 'pk'

type AttributeValue = { S?: string }
type Key = Record<string, AttributeValue>

/** What an S3 request needs (path-style: /bucket/key?query). */
function s3Call(method: string, url: URL): AwsCall {
  const [bucket = '', ...rest] = url.pathname.slice(1).split('/')
  const key = decodeURIComponent(rest.join('/'))
  const query = url.searchParams
  if (key === '') {
    // ListObjectsV2 and HeadBucket both need s3:ListBucket; DeleteObjects is not used.
    return { action: 's3:ListBucket', resource: bucket }
  }
  const resource = `${bucket}/${key}`
  if (method === 'DELETE') {
    const action = query.has('uploadId') ? 's3:AbortMultipartUpload' : 's3:DeleteObject'
    return { action, resource }
  }
  if (method === 'GET' || method === 'HEAD') return { action: 's3:GetObject', resource }
  // PutObject, and the steps of a multipart upload (create, part, complete).
  return { action: 's3:PutObject', resource }
}

function partitionKeys(operation: string, body: Record<string, unknown>): string[] {
  const keyOf = (key: Key | undefined) => key?.[PARTITION_KEY]?.S
  switch (operation) {
    case 'GetItem':
    case 'DeleteItem':
    case 'UpdateItem':
      return [keyOf(body.Key as Key)].filter((k) => k !== undefined)
    case 'PutItem':
      return [keyOf(body.Item as Key)].filter((k) => k !== undefined)
    case 'Query': {
      const expression = String(body.KeyConditionExpression ?? '')
      const names = (body.ExpressionAttributeNames ?? {}) as Record<string, string>
      const values = (body.ExpressionAttributeValues ?? {}) as Record<string, AttributeValue>
      for (const [, name, value] of expression.matchAll(/([#\w]+)\s*=\s*(:\w+)/g)) {
        if ((names[name as string] ?? name) === PARTITION_KEY) {
          const key = values[value as string]?.S
          return key === undefined ? [] : [key]
        }
      }
      return []
    }
    case 'BatchGetItem': {
      const items = body.RequestItems as Record<string, { Keys: Key[] }>
      return Object.values(items).flatMap(({ Keys }) =>
        Keys.map(keyOf).filter((k) => k !== undefined),
      )
    }
    case 'BatchWriteItem': {
      type Write = { PutRequest?: { Item: Key }; DeleteRequest?: { Key: Key } }
      const items = body.RequestItems as Record<string, Write[]>
      return Object.values(items).flatMap((writes) =>
        writes
          .map((write) => keyOf(write.PutRequest?.Item ?? write.DeleteRequest?.Key))
          .filter((k) => k !== undefined),
      )
    }
    default:
      return []
  }
}

/** What an SQS or DynamoDB request (JSON protocol) needs. */
function jsonCall(target: string, body: Record<string, unknown>): AwsCall {
  const [service, operation = ''] = target.split('.')
  const named = ACTION_OF[operation] ?? operation
  if (service === 'AmazonSQS') {
    const queue = String(body.QueueUrl ?? body.QueueName ?? '')
    return { action: `sqs:${named}`, resource: queue.slice(queue.lastIndexOf('/') + 1) }
  }
  const tables = body.RequestItems ? Object.keys(body.RequestItems) : [String(body.TableName)]
  return {
    action: `dynamodb:${named}`,
    resource: tables.join(','),
    leadingKeys: partitionKeys(operation, body),
  }
}

export async function startCallRecorder(upstream: string): Promise<CallRecorder> {
  const target = new URL(upstream)
  let calls: AwsCall[] = []
  const server: Server = createServer(async (req, res) => {
    const body = await buffer(req)
    const amzTarget = req.headers['x-amz-target']
    calls.push(
      typeof amzTarget === 'string'
        ? jsonCall(amzTarget, JSON.parse(body.toString('utf8')) as Record<string, unknown>)
        : s3Call(req.method ?? 'GET', new URL(req.url ?? '/', 'http://recorder')),
    )
    const forward = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    forward.on('error', () => res.destroy())
    forward.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    take() {
      const taken = calls
      calls = []
      return taken
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
