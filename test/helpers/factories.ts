/** Event and record factories for the SQS-triggered handlers (as Powertools' tests do it). */
import { randomUUID } from 'node:crypto'
import type { SQSEvent, SQSRecord } from 'aws-lambda'
import type { LambdaEvent } from 'hono/aws-lambda'
import type { QueuedMessage } from '../../shared/contracts/queue.ts'
import { newMessageId } from '../../shared/message-id.ts'

export function sqsRecord(body: string, receiveCount = 1): SQSRecord {
  const now = String(Date.now())
  return {
    messageId: randomUUID(),
    receiptHandle: randomUUID(),
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: now,
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:test',
    awsRegion: 'us-east-1',
  }
}

export function sqsEvent(...records: SQSRecord[]): SQSEvent {
  return { Records: records }
}

/** A queued message as the edge would send it, with the raw message inline. */
export function queuedMessage(
  raw: string | Buffer,
  rcptTo: string[],
  overrides: Partial<QueuedMessage> = {},
): QueuedMessage {
  const bytes = Buffer.from(raw)
  return {
    v: 1,
    id: newMessageId(),
    receivedAt: new Date().toISOString(),
    envelope: { mailFrom: 'sender@example.net', rcptTo },
    size: bytes.length,
    raw: { base64: bytes.toString('base64') },
    ...overrides,
  }
}

export type ApiGatewayEventV2 = Extract<LambdaEvent, { rawPath: string }>

/** An API Gateway HTTP API (payload format 2.0) event, as the $default stage sends it. */
export function apiGatewayEvent(
  method: string,
  path: string,
  options: { query?: string; headers?: Record<string, string>; body?: string } = {},
): ApiGatewayEventV2 {
  const now = Date.now()
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: options.query ?? '',
    headers: { host: 'api.example.com', 'user-agent': 'test', ...options.headers },
    body: options.body === undefined ? null : Buffer.from(options.body).toString('base64'),
    isBase64Encoded: options.body !== undefined,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      authentication: null,
      authorizer: {},
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'test' },
      requestId: 'request-1',
      routeKey: '$default',
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
  }
}
