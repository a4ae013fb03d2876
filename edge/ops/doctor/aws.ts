/**
 * The doctor's cloud checks, with the edge's own client settings (shared/aws-clients.ts):
 * can this host find the ingest queue, write under incoming/ in the bucket, and read the
 * published routes, as the edge does? Each call carries an abort signal, so none hangs.
 */
import { randomUUID } from 'node:crypto'
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs'
import { createS3Client, createSqsClient } from '../../../shared/aws-clients.ts'
import type { Config } from '../../../shared/config.ts'
import { parseJson } from '../../../shared/contracts/parse.ts'
import { RouteSetSchema } from '../../../shared/contracts/route.ts'
import { ROUTES_KEY } from '../../../shared/store/keys.ts'
import { type CheckResult, fail, ok } from './report.ts'
import { awsFix, describeAwsError } from './service-verdicts.ts'

// What the S3 write test puts under incoming/, which expires (serverless.yml lifecycle).
const PROBE_BODY = 'mailbridge doctor write test\n'

/** The check's FAIL line for a failed call on `subject` (the queue or the bucket). */
function awsFailure(
  service: 's3' | 'sqs',
  subject: string,
  error: unknown,
  config: Config,
  envFile: string,
  check: string = service,
): CheckResult {
  const failure = describeAwsError(error)
  const { region, endpoint } = config.aws
  const context = { bucket: config.bucket, queue: config.ingestQueue, endpoint, region, envFile }
  const fix = awsFix(service, failure, context)
  return fail(check, `${subject}: ${failure.name}: ${failure.message}`, fix)
}

/** GetQueueUrl (for a queue name) and GetQueueAttributes on the ingest queue. */
export async function sqsCheck(
  config: Config,
  timeoutMs: number,
  envFile: string,
): Promise<CheckResult> {
  const sqs = createSqsClient(config.aws)
  const abortSignal = AbortSignal.timeout(timeoutMs)
  try {
    let url = config.ingestQueue
    if (!/^https?:\/\//.test(url)) {
      const found = await sqs.send(new GetQueueUrlCommand({ QueueName: url }), { abortSignal })
      url = found.QueueUrl ?? url
    }
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
      { abortSignal },
    )
    const waiting = attributes.Attributes?.ApproximateNumberOfMessages ?? '?'
    return ok('sqs', `queue ${url} answers (${waiting} messages waiting)`)
  } catch (error) {
    return awsFailure('sqs', `queue ${config.ingestQueue}`, error, config, envFile)
  } finally {
    sqs.destroy()
  }
}

/**
 * HeadBucket, then a PutObject and DeleteObject under incoming/, which is what the edge does
 * with a big message. The edge's policy (EdgePolicy) has no s3:ListBucket, so HeadBucket may
 * be refused (403) on a healthy setup: only the write decides. A refused delete is fine too:
 * incoming/ expires.
 */
export async function s3Check(
  config: Config,
  timeoutMs: number,
  envFile: string,
): Promise<CheckResult> {
  const s3 = createS3Client(config.aws)
  const abortSignal = AbortSignal.timeout(timeoutMs)
  const bucket = config.bucket
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const key = `incoming/doctor-${stamp}-${randomUUID().slice(0, 8)}`
  const notes: string[] = []
  // A 403 on this call is no failure: note why it does not matter and go on.
  const unlessRefused = (call: Promise<unknown>, note: string) =>
    call.catch((error: unknown) => {
      if (describeAwsError(error).httpStatus !== 403) throw error
      notes.push(note)
    })
  try {
    await unlessRefused(
      s3.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal }),
      'HeadBucket refused: the edge needs no s3:ListBucket',
    )
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: PROBE_BODY }), {
      abortSignal,
    })
    await unlessRefused(
      s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), { abortSignal }),
      'delete refused: incoming/ expires it',
    )
    const note = notes.length > 0 ? ` (${notes.join('; ')})` : ''
    return ok('s3', `bucket ${bucket}: wrote and removed ${key}${note}`)
  } catch (error) {
    return awsFailure('s3', `bucket ${bucket}`, error, config, envFile)
  } finally {
    s3.destroy()
  }
}

/**
 * GetObject of the published routes, as the edge reads them at start and then every
 * MAILBRIDGE_ROUTES_REFRESH_SECONDS. None published yet is fine: the defaults apply.
 */
export async function routesCheck(
  config: Config,
  timeoutMs: number,
  envFile: string,
): Promise<CheckResult> {
  const s3 = createS3Client(config.aws)
  const abortSignal = AbortSignal.timeout(timeoutMs)
  try {
    const { Body } = await s3.send(
      new GetObjectCommand({ Bucket: config.bucket, Key: ROUTES_KEY }),
      { abortSignal },
    )
    const set = parseJson(RouteSetSchema, (await Body?.transformToString()) ?? '', 'route set')
    const enabled = set.routes.filter((route) => route.enabled).length
    return ok('routes', `${ROUTES_KEY}: version ${set.version}, ${enabled} enabled routes`)
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') {
      return ok(
        'routes',
        `${ROUTES_KEY} not published yet: every recipient goes to its own mailbox (the default route)`,
      )
    }
    return awsFailure('s3', `routes ${ROUTES_KEY}`, error, config, envFile, 'routes')
  } finally {
    s3.destroy()
  }
}
