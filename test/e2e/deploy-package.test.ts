/**
 * `npm run package` without an AWS account: the stack is packaged once (bundles, then
 * `osls package`, offline, no credentials), then the CloudFormation template is held to
 * issue 12's list, and each function's zip is unzipped and run in a fresh Node process
 * against the local emulators with the events Lambda sends: an SQS batch for ingest and
 * deliver, an API Gateway v2 request for the API.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs'
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda'
import { Webhook } from 'standardwebhooks'
import { FUNCTION_LAZY_MODULES, lazyFileOf } from '../../scripts/lazy-modules.ts'
import { runOk } from '../../shared/commands.ts'
import { incomingRawKey } from '../../shared/store/keys.ts'
import { invokeArtifact } from '../helpers/artifact.ts'
import { type AwsCall, type CallRecorder, startCallRecorder } from '../helpers/aws-calls.ts'
import { type Emulator, startEmulator } from '../helpers/emulator.ts'
import { apiGatewayEvent, queuedMessage, sqsEvent, sqsRecord } from '../helpers/factories.ts'
import {
  allowsCall,
  type PackagedStack,
  packageStack,
  type Resource,
  refName,
  resourcesOf,
  type Statement,
  statementsOf,
} from '../helpers/stack.ts'
import { readZip } from '../helpers/zip.ts'

const FUNCTIONS = ['ingest', 'deliver', 'api'] as const
// The target for each function's zip (bytes).
const MAX_ZIP_BYTES = 1024 * 1024
// AWS: a queue's visibility timeout at least six times its function's timeout.
const VISIBILITY_PER_TIMEOUT = 6
// Node.js versions Lambda runs that the bundles target (node22 in scripts/build.ts).
const MIN_NODE_RUNTIME = 22

// The child: requires one lazy file, as the stand-in does, and looks for the exports it
// forwards; safe-stable-stringify, which pino calls for what JSON.stringify throws on,
// stringifies a circular object with a BigInt. Run from a file: `node -e` defines a global
// for each built-in module.
const CIRCULAR_STRINGIFIED = '{"big":1,"self":"[Circular]"}'
const LAZY_CHECK = `
const [file, names] = process.argv.slice(2)
const loaded = require(file)
for (const name of JSON.parse(names)) {
  if (loaded[name] === undefined) throw new Error(file + ' has no export ' + name)
}
if (typeof loaded.configure === 'function') {
  const circular = { big: 1n }
  circular.self = circular
  console.log(loaded.configure({})(circular))
}
console.log('loaded')
`

let dir: string
let stack: PackagedStack

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailbridge-stack-'))
  stack = await packageStack(dir)
})

after(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Logical id of a function's resources: `ingest` → `Ingest`. */
function logicalId(name: string): string {
  return name[0]?.toUpperCase() + name.slice(1)
}

function resource(id: string): Resource {
  const found = stack.template.Resources[id]
  assert.ok(found, `the template has ${id}`)
  return found
}

function props(id: string): Record<string, unknown> {
  return resource(id).Properties
}

/** Every statement of the role that a function runs as. */
function roleStatements(name: string): Statement[] {
  const role = refName(props(`${logicalId(name)}LambdaFunction`).Role).replace(/\.Arn$/, '')
  const { Policies } = props(role) as { Policies: { PolicyDocument: unknown }[] }
  return Policies.flatMap((policy) => statementsOf(policy.PolicyDocument))
}

/** The resources that `action` is allowed on, in a function's role. */
function allowed(name: string, action: string): string[] {
  return roleStatements(name)
    .filter((statement) => statement.Effect === 'Allow' && statement.actions.includes(action))
    .flatMap((statement) => statement.resources)
}

describe('the packaged template', () => {
  it('runs each function on Node.js 22 or newer, arm64, with its own role and a log retention', () => {
    const roles = new Set<string>()
    for (const name of FUNCTIONS) {
      const fn = props(`${logicalId(name)}LambdaFunction`)
      const runtime = /^nodejs(\d+)\.x$/.exec(String(fn.Runtime))
      assert.ok(runtime && Number(runtime[1]) >= MIN_NODE_RUNTIME, `${name}: ${fn.Runtime}`)
      assert.deepEqual(fn.Architectures, ['arm64'], name)
      roles.add(refName(fn.Role))
      assert.ok(Number(props(`${logicalId(name)}LogGroup`).RetentionInDays) > 0, name)
    }
    assert.equal(roles.size, FUNCTIONS.length, `one role per function: ${[...roles]}`)
    assert.deepEqual(resourcesOf(stack.template, 'AWS::IAM::Role').length, FUNCTIONS.length)
  })

  it('gives no function a * action or a * resource', () => {
    for (const name of FUNCTIONS) {
      for (const { actions, resources } of roleStatements(name)) {
        for (const action of actions) assert.doesNotMatch(action, /\*/, `${name}: ${action}`)
        for (const arn of resources) {
          assert.notEqual(arn, '*', `${name}: a statement on every resource`)
          // A resource of the stack, narrowed at most to a key prefix of the bucket.
          assert.match(
            arn,
            /^[A-Za-z]+(\.Arn)?$|^MailBucket\.Arn\/[a-z]+\/\*|^MailBucket\.Arn\/routes\/routes\.json$/,
            name,
          )
        }
      }
    }
  })

  // What each function may do beyond this is held to what its zip really does, call by
  // call, below ('lets each function make every call it made, under its own role').
  it('keeps each function from what is not its business', () => {
    // ingest: reads what the edge staged, writes messages, queues webhook jobs; deletes only
    // what it wrote again for a message deleted meanwhile: its bytes and its refs item.
    assert.deepEqual(allowed('ingest', 's3:GetObject'), [
      'MailBucket.Arn/incoming/*',
      'MailBucket.Arn/routes/routes.json',
    ])
    assert.deepEqual(allowed('ingest', 's3:PutObject'), ['MailBucket.Arn/messages/*'])
    assert.deepEqual(allowed('ingest', 's3:DeleteObject'), ['MailBucket.Arn/messages/*'])
    assert.deepEqual(allowed('ingest', 'sqs:SendMessage'), ['WebhookQueue.Arn'])
    assert.deepEqual(allowed('ingest', 'sqs:ReceiveMessage'), ['IngestQueue.Arn'])
    assert.deepEqual(
      roleStatements('ingest')
        .filter((s) => s.actions.includes('dynamodb:DeleteItem'))
        .map((s) => s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys']),
      [['msg#*']],
    )
    // deliver: reads messages, writes none; its queue is the webhook queue alone.
    assert.deepEqual(allowed('deliver', 's3:GetObject'), ['MailBucket.Arn/messages/*'])
    assert.deepEqual(allowed('deliver', 's3:PutObject'), [])
    assert.deepEqual(allowed('deliver', 's3:DeleteObject'), [])
    assert.deepEqual(allowed('deliver', 'sqs:SendMessage'), ['WebhookQueue.Arn'])
    assert.deepEqual(allowed('deliver', 'sqs:ReceiveMessage'), ['WebhookQueue.Arn'])
    // api: reads and deletes messages, never the edge's incoming/, never the ingest queue.
    assert.deepEqual(allowed('api', 's3:GetObject'), ['MailBucket.Arn/messages/*'])
    assert.deepEqual(allowed('api', 's3:DeleteObject'), ['MailBucket.Arn/messages/*'])
    // api: publishes the route snapshot, and writes nothing else of the bucket.
    assert.deepEqual(allowed('api', 's3:PutObject'), ['MailBucket.Arn/routes/routes.json'])
    assert.deepEqual(allowed('api', 'sqs:SendMessage'), ['WebhookQueue.Arn'])
    assert.deepEqual(allowed('api', 'secretsmanager:GetSecretValue'), ['ApiKeySecret'])
    for (const name of ['ingest', 'deliver'] as const) {
      assert.deepEqual(allowed(name, 'secretsmanager:GetSecretValue'), [], name)
    }
    // Every table statement is held to the partition keys the function uses.
    for (const name of FUNCTIONS) {
      for (const statement of roleStatements(name)) {
        if (!statement.actions.some((action) => action.startsWith('dynamodb:'))) continue
        const leading = statement.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys']
        assert.ok(Array.isArray(leading) && leading.length > 0, `${name}: LeadingKeys`)
      }
    }
    assert.ok(
      !roleStatements('deliver')
        .flatMap((s) => s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] ?? [])
        .some((key) => key === 'mbx#*' || key === 'rcv#*'),
      'deliver reads no mailbox and no fingerprint',
    )
  })

  it('takes the API key from a secret that the stack generates, never a plain variable', () => {
    const secret = props('ApiKeySecret')
    assert.equal(resource('ApiKeySecret').Type, 'AWS::SecretsManager::Secret')
    assert.ok(secret.GenerateSecretString, 'the stack generates the key')
    for (const name of FUNCTIONS) {
      const { Variables } = props(`${logicalId(name)}LambdaFunction`).Environment as {
        Variables: Record<string, unknown>
      }
      assert.equal(Variables.MAILBRIDGE_API_KEY, undefined, name)
      for (const value of Object.values(Variables)) {
        assert.equal(typeof value, 'object', `${name}: only references, no literal setting`)
      }
    }
    const { Variables } = props('ApiLambdaFunction').Environment as {
      Variables: Record<string, unknown>
    }
    assert.equal(refName(Variables.MAILBRIDGE_API_KEY_SECRET), 'ApiKeySecret')
  })

  it('reports partial batch failures, batches with a window and bounds the concurrency', () => {
    const mappings = resourcesOf(stack.template, 'AWS::Lambda::EventSourceMapping')
    assert.equal(mappings.length, 2)
    for (const [id, { Properties: p }] of mappings) {
      assert.deepEqual(p.FunctionResponseTypes, ['ReportBatchItemFailures'], id)
      assert.ok(Number(p.BatchSize) >= 1, `${id}: batch size`)
      assert.ok(p.MaximumBatchingWindowInSeconds !== undefined, `${id}: batching window`)
      const { MaximumConcurrency } = p.ScalingConfig as { MaximumConcurrency: number }
      assert.ok(MaximumConcurrency >= 2, `${id}: maximum concurrency`)
    }
  })

  it('gives each queue a dead-letter queue, a redrive policy and 6× its function timeout', () => {
    const mappings = resourcesOf(stack.template, 'AWS::Lambda::EventSourceMapping')
    for (const [, { Properties: p }] of mappings) {
      const queue = refName(p.EventSourceArn).replace(/\.Arn$/, '')
      const fn = props(refName(p.FunctionName).replace(/\.Arn$/, ''))
      const { VisibilityTimeout, RedrivePolicy } = props(queue) as {
        VisibilityTimeout: number
        RedrivePolicy: { deadLetterTargetArn: unknown; maxReceiveCount: number }
      }
      assert.ok(
        VisibilityTimeout >= VISIBILITY_PER_TIMEOUT * Number(fn.Timeout),
        `${queue}: visibility ${VisibilityTimeout} s, function timeout ${fn.Timeout} s`,
      )
      const dlq = refName(RedrivePolicy.deadLetterTargetArn).replace(/\.Arn$/, '')
      assert.equal(resource(dlq).Type, 'AWS::SQS::Queue', `${queue}: dead-letter queue`)
      assert.ok(RedrivePolicy.maxReceiveCount >= 1, queue)
    }
  })

  it('alarms on every dead-letter queue, the oldest ingest message and function errors', () => {
    const alarms = resourcesOf(stack.template, 'AWS::CloudWatch::Alarm').map(([, a]) => {
      const p = a.Properties as {
        MetricName: string
        Dimensions: { Name: string; Value: unknown }[]
        AlarmActions: unknown
      }
      return { metric: p.MetricName, on: refName(p.Dimensions[0]?.Value), actions: p.AlarmActions }
    })
    const alarmed = (metric: string) => alarms.filter((a) => a.metric === metric).map((a) => a.on)
    const queues = resourcesOf(stack.template, 'AWS::SQS::Queue')
    const dlqs = queues
      .map(
        ([, q]) =>
          (q.Properties.RedrivePolicy as { deadLetterTargetArn?: unknown } | undefined)
            ?.deadLetterTargetArn,
      )
      .filter((arn) => arn !== undefined)
      .map((arn) => refName(arn).replace(/\.Arn$/, ''))
    assert.equal(dlqs.length, 2)
    assert.deepEqual(
      alarmed('ApproximateNumberOfMessagesVisible').sort(),
      dlqs.map((q) => `${q}.QueueName`).sort(),
    )
    assert.deepEqual(alarmed('ApproximateAgeOfOldestMessage'), ['IngestQueue.QueueName'])
    assert.deepEqual(
      alarmed('Errors').sort(),
      FUNCTIONS.map((name) => `${logicalId(name)}LambdaFunction`).sort(),
    )
    // Each goes to the SNS topic that exists only when an alarm e-mail is given.
    assert.equal(resource('AlarmTopic').Condition, 'HasAlarmEmail')
    assert.ok(stack.template.Conditions?.HasAlarmEmail)
    for (const alarm of alarms) {
      assert.deepEqual(alarm.actions, {
        'Fn::If': ['HasAlarmEmail', [{ Ref: 'AlarmTopic' }], { Ref: 'AWS::NoValue' }],
      })
    }
  })

  it('keeps the bucket private, encrypted and TLS-only', () => {
    const bucket = props('MailBucket')
    assert.deepEqual(bucket.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    })
    const { ServerSideEncryptionConfiguration: sse } = bucket.BucketEncryption as {
      ServerSideEncryptionConfiguration: {
        ServerSideEncryptionByDefault: { SSEAlgorithm: string }
      }[]
    }
    assert.ok(sse[0]?.ServerSideEncryptionByDefault.SSEAlgorithm)
    const [policy] = resourcesOf(stack.template, 'AWS::S3::BucketPolicy')
      .map(([, p]) => p.Properties)
      .filter((p) => refName(p.Bucket) === 'MailBucket')
    assert.ok(policy, 'the bucket has a policy')
    const deny = statementsOf(policy.PolicyDocument).find((s) => s.Effect === 'Deny')
    assert.deepEqual(deny?.actions, ['s3:*'])
    assert.deepEqual(deny?.resources, ['MailBucket.Arn', 'MailBucket.Arn/*'])
    assert.deepEqual(deny?.Condition, { Bool: { 'aws:SecureTransport': 'false' } })
  })

  it('keeps the table on demand, with point-in-time recovery and TTL', () => {
    const table = props('MailTable')
    assert.equal(table.BillingMode, 'PAY_PER_REQUEST')
    assert.deepEqual(table.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: true })
    assert.deepEqual(table.TimeToLiveSpecification, { AttributeName: 'expiresAt', Enabled: true })
  })

  it('gives the edge a policy to queue and stage mail, and outputs what the edge and users need', () => {
    const statements = statementsOf(props('EdgePolicy').PolicyDocument)
    assert.deepEqual(
      statements.map((s) => [s.actions.sort(), s.resources]),
      [
        [['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'], ['IngestQueue.Arn']],
        [
          ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:PutObject'],
          ['MailBucket.Arn/incoming/*'],
        ],
        [['s3:GetObject'], ['MailBucket.Arn/routes/routes.json']],
        [['dynamodb:GetItem'], ['MailTable.Arn']],
      ],
    )
    // The table read is held to the counters of mailboxes: no summary, no endpoint secret.
    const read = statements[3]?.Condition
    assert.deepEqual(read?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'], ['mbx#*'])
    assert.deepEqual(read?.['ForAllValues:StringLike']?.['dynamodb:Attributes'], [
      'messages',
      'bytes',
      'unseen',
    ])
    assert.deepEqual(read?.StringEqualsIfExists, { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' })
    for (const output of [
      'HttpApiUrl',
      'IngestQueueUrl',
      'BucketName',
      'EdgePolicyArn',
      'ApiKeySecretArn',
    ]) {
      assert.ok(stack.template.Outputs[output], `output ${output}`)
    }
  })

  it('zips each function alone, under 1 MB, without its source map', async () => {
    assert.deepEqual([...stack.zips.keys()].sort(), [...FUNCTIONS].sort())
    for (const name of FUNCTIONS) {
      const zip = stack.zips.get(name) as string
      assert.ok(readFileSync(zip).length < MAX_ZIP_BYTES, `${name}.zip under 1 MB`)
      const files = await readZip(zip)
      // The entry, and beside it its chunks and the libraries it loads on first use
      // (scripts/lazy-modules.ts): no source map.
      assert.ok(files.has(`dist/${name}/index.mjs`), `${name}: index.mjs`)
      for (const file of files.keys()) {
        assert.match(file, new RegExp(`^dist/${name}/([\\w-]+\\.mjs|lazy/[\\w-]+\\.cjs)$`))
      }
      for (const [file, bytes] of files) {
        assert.doesNotMatch(bytes.toString('utf8'), /sourceMappingURL/, file)
      }
    }
  })
})

describe('the packaged functions, each run from its zip', () => {
  const API_KEY = 'k'.repeat(48)
  const SECRET_ARN =
    'arn:aws:secretsmanager:us-east-1:000000000000:secret:mailbridge/prod/api-key-AbCdEf'
  const MAILBOX = 'someone@deploy.test'
  // Names none of mailbridge's defaults has: a function that falls back on a default for
  // a resource the template does not hand it would miss these.
  const NAMES = {
    MAILBRIDGE_BUCKET: 'stack-mail',
    MAILBRIDGE_TABLE: 'stack-table',
    MAILBRIDGE_INGEST_QUEUE: 'stack-ingest',
    MAILBRIDGE_WEBHOOK_QUEUE: 'stack-webhooks',
  }
  // An attachment in Latin-1, not UTF-8: it must come out of the API byte for byte.
  const CSV = Buffer.from('name;city\nJosé;Zürich\n', 'latin1')
  let emulator: Emulator
  let run: string
  // In front of the emulators: S3 and SQS, and DynamoDB. They note every call.
  let awsCalls: CallRecorder
  let tableCalls: CallRecorder
  const calls = new Map<string, AwsCall[]>(FUNCTIONS.map((name) => [name, []]))
  // A stand-in for Secrets Manager's GetSecretValue (JSON 1.1 protocol), on loopback.
  let secrets: Server
  const secretRequests: IncomingHttpHeaders[] = []
  // The webhook receiver that deliver posts to: /flaky fails its first request.
  let receiver: Server
  const received: { path: string; headers: IncomingHttpHeaders; body: string }[] = []

  before(async () => {
    emulator = await startEmulator(NAMES)
    awsCalls = await startCallRecorder(emulator.endpoint)
    tableCalls = await startCallRecorder(emulator.config.aws.dynamodbEndpoint as string)
    run = join(dir, 'run')
    for (const [name, zip] of stack.zips) {
      for (const [file, bytes] of await readZip(zip)) {
        const path = join(run, name, file)
        await mkdir(dirname(path), { recursive: true })
        await writeFile(path, bytes)
      }
    }
    secrets = await listen((request, body) => {
      secretRequests.push(request.headers)
      const { SecretId } = JSON.parse(body) as { SecretId: string }
      const found = request.headers['x-amz-target'] === 'secretsmanager.GetSecretValue'
      return found && SecretId === SECRET_ARN
        ? [200, { ARN: SECRET_ARN, Name: 'mailbridge/prod/api-key', SecretString: API_KEY }]
        : [400, { __type: 'ResourceNotFoundException', message: `no secret ${SecretId}` }]
    })
    receiver = await listen((request, body) => {
      const path = request.url ?? ''
      received.push({ path, headers: request.headers, body })
      const first = received.filter((r) => r.path === path).length === 1
      return path === '/flaky' && first ? [500, {}] : [200, {}]
    })
  })

  after(async () => {
    await awsCalls?.close()
    await tableCalls?.close()
    await emulator?.stop()
    secrets?.close()
    receiver?.close()
  })

  /** A queue's URL, through the recorder. */
  function viaRecorder(queueUrl: string): string {
    const { pathname } = new URL(queueUrl)
    return `${awsCalls.endpoint}${pathname}`
  }

  /** What the template's references stand for here. */
  function standIn(reference: string): string | undefined {
    return {
      MailBucket: NAMES.MAILBRIDGE_BUCKET,
      MailTable: NAMES.MAILBRIDGE_TABLE,
      IngestQueue: viaRecorder(emulator.ingestQueueUrl),
      WebhookQueue: viaRecorder(emulator.webhookQueueUrl),
      ApiKeySecret: SECRET_ARN,
    }[reference]
  }

  /**
   * The environment Lambda would give `name`: the variables the template gives the function,
   * each reference replaced by its stand-in here, and what Lambda itself sets, pointed at
   * the emulators through the recorders.
   */
  function lambdaEnv(name: string): NodeJS.ProcessEnv {
    const { Variables } = props(`${logicalId(name)}LambdaFunction`).Environment as {
      Variables: Record<string, unknown>
    }
    const fromTemplate = Object.entries(Variables).map(([variable, value]) => {
      const reference = refName(value)
      const stood = standIn(reference)
      assert.ok(stood, `${name}: ${variable} is ${reference}, which this test has no stand-in for`)
      return [variable, stood]
    })
    const { AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY } = emulator.env()
    return {
      PATH: process.env.PATH,
      AWS_REGION,
      AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY,
      AWS_ENDPOINT_URL: awsCalls.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: tableCalls.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: url(secrets),
      AWS_LAMBDA_FUNCTION_NAME: `mailbridge-prod-${name}`,
      ...Object.fromEntries(fromTemplate),
      // The receiver is on loopback over http, which a deployed stack refuses (SSRF).
      MAILBRIDGE_WEBHOOK_ALLOW_HTTP: 'true',
      MAILBRIDGE_WEBHOOK_ALLOW_LOOPBACK: 'true',
      LOG_LEVEL: 'warn',
    }
  }

  async function invoke(name: string, events: unknown[]) {
    try {
      return await invokeArtifact(
        join(run, name, `dist/${name}/index.mjs`),
        events,
        lambdaEnv(name),
      )
    } finally {
      calls.get(name)?.push(...awsCalls.take(), ...tableCalls.take())
    }
  }

  /** One API request through the API's zip, as API Gateway (HTTP API, v2) passes it. */
  async function api(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: string } = {},
  ): Promise<{ statusCode: number; body: string; bytes: Buffer; headers: Record<string, string> }> {
    const headers = { authorization: `Bearer ${API_KEY}`, ...options.headers }
    const [result] = (await invoke('api', [
      apiGatewayEvent(method, path, { ...options, headers }),
    ])) as {
      statusCode: number
      body: string
      isBase64Encoded: boolean
      headers: Record<string, string>
    }[]
    assert.ok(result, `${method} ${path}: no result`)
    // What API Gateway sends the client: the body, base64-decoded when the function says so.
    const bytes = Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8')
    return { ...result, bytes, body: bytes.toString('utf8') }
  }

  it('takes mail in through ingest, posts its webhooks through deliver, serves it through the API', async () => {
    // Prepare: two endpoints for the mailbox, through the API (its key from the secret).
    const json = { 'content-type': 'application/json' }
    const [refused, created] = (await invoke('api', [
      apiGatewayEvent('GET', '/v1/webhooks'),
      apiGatewayEvent('POST', '/v1/webhooks', {
        headers: { authorization: `Bearer ${API_KEY}`, ...json },
        body: JSON.stringify({ url: `${url(receiver)}/hook`, mailbox: MAILBOX }),
      }),
    ])) as { statusCode: number; body: string }[]
    assert.equal(refused?.statusCode, 401)
    assert.equal(created?.statusCode, 201, created?.body)
    const { id: hookId, secret } = JSON.parse(created?.body ?? '{}') as {
      id: string
      secret: string
    }
    assert.equal(secretRequests.length, 1, 'the key is read once per cold start')
    assert.match(String(secretRequests[0]?.authorization), /^AWS4-HMAC-SHA256 /)
    const flaky = await api('POST', '/v1/webhooks', {
      headers: json,
      body: JSON.stringify({ url: `${url(receiver)}/flaky`, mailbox: MAILBOX, format: 'raw' }),
    })
    assert.equal(flaky.statusCode, 201, flaky.body)
    const { id: flakyId } = JSON.parse(flaky.body) as { id: string }

    // Act: a message the edge staged in the bucket, as an SQS batch into ingest; then the
    // webhook jobs it queued, into deliver.
    const raw = Buffer.concat([
      Buffer.from(
        // Latin-1, so that ingest loads its charset decoders from beside its entry; and an
        // HTML part beside the plain one, whose text is derived from it with the table of
        // HTML entities, also loaded from beside the entry. Its first line is an MTA's
        // Received, so that ingest looks up and remembers its retry fingerprint.
        'Received: from mx.example.net by mail.deploy.test with ESMTP id 4Qx7Z\r\n' +
          'From: a@example.net\r\nTo: someone@deploy.test\r\nSubject: =?iso-8859-1?Q?packag=E9?=\r\n' +
          'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n' +
          'Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n' +
          '\r\nfrom the zip, d=E9j=E0 vu\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n' +
          '\r\n<p>&eacute;t&eacute; &amp; hiver</p>\r\n--b\r\n' +
          'Content-Type: text/csv; charset=iso-8859-1\r\n' +
          'Content-Disposition: attachment; filename="export.csv"\r\n' +
          'Content-Transfer-Encoding: base64\r\n\r\n',
      ),
      Buffer.from(`${CSV.toString('base64')}\r\n--b--\r\n`),
    ])
    const queued = queuedMessage(raw, [MAILBOX], { traceBytes: 0 })
    const staged = incomingRawKey(queued.id)
    await emulator.s3.send(
      new PutObjectCommand({ Bucket: NAMES.MAILBRIDGE_BUCKET, Key: staged, Body: raw }),
    )
    queued.raw = { s3: { bucket: NAMES.MAILBRIDGE_BUCKET, key: staged } }
    const [ingested] = (await invoke('ingest', [
      sqsEvent(sqsRecord(JSON.stringify(queued))),
    ])) as SQSBatchResponse[]
    assert.deepEqual(ingested, { batchItemFailures: [] })
    const jobs = await receiveJobs(2)
    const [delivered] = (await invoke('deliver', [sqsEvent(...jobs)])) as SQSBatchResponse[]
    assert.deepEqual(delivered, { batchItemFailures: [] })

    // Assess: the receiver got the signed payload, and the raw message on the flaky
    // endpoint's one attempt, which failed: deliver put it back on the queue to retry.
    const hook = received.find((r) => r.path === '/hook')
    assert.ok(hook, 'the mailbridge endpoint got its webhook')
    const payload = new Webhook(secret).verify(hook.body, {
      'webhook-id': String(hook.headers['webhook-id']),
      'webhook-timestamp': String(hook.headers['webhook-timestamp']),
      'webhook-signature': String(hook.headers['webhook-signature']),
    })
    assert.match(JSON.stringify(payload), new RegExp(queued.id))
    assert.match(JSON.stringify(payload), /from the zip, déjà vu\\n\\nété & hiver/)
    assert.deepEqual(
      received.filter((r) => r.path === '/flaky').map((r) => r.headers['content-type']),
      ['message/rfc822'],
    )
    assert.ok(
      calls
        .get('deliver')
        ?.some(
          (c) => c.action === 'sqs:SendMessage' && c.resource === NAMES.MAILBRIDGE_WEBHOOK_QUEUE,
        ),
      'deliver queued the retry on the stack’s webhook queue',
    )

    // The API: the list, the raw source and the attachment byte for byte, the failed
    // attempt, a replay, a test event (its client made on first use), and the delete.
    const mailbox = `/v1/mailboxes/${encodeURIComponent(MAILBOX)}/messages`
    const listed = await api('GET', mailbox)
    assert.equal(listed.statusCode, 200, listed.body)
    const { messages } = JSON.parse(listed.body) as { messages: { id: string; subject: string }[] }
    assert.deepEqual(
      messages.map((m) => [m.id, m.subject]),
      [[queued.id, 'packagé']],
    )
    const source = await api('GET', `${mailbox}/${queued.id}/raw`)
    assert.equal(source.statusCode, 200)
    assert.ok(source.bytes.equals(raw), 'the raw source, byte for byte')
    const attachment = await api('GET', `${mailbox}/${queued.id}/attachments/0`)
    assert.equal(attachment.statusCode, 200, attachment.body)
    assert.match(String(attachment.headers['content-type']), /^text\/csv/)
    assert.ok(
      attachment.bytes.equals(CSV),
      `the attachment, byte for byte: ${attachment.bytes.toString('hex')}`,
    )
    const attempts = await api('GET', `/v1/webhooks/${flakyId}/attempts`)
    assert.equal(attempts.statusCode, 200, attempts.body)
    const { attempts: logged } = JSON.parse(attempts.body) as {
      attempts: { status: string; httpStatus: number | null }[]
    }
    assert.deepEqual(
      logged.map((a) => [a.status, a.httpStatus]),
      [['failed', 500]],
    )
    const replayed = await api('POST', `/v1/webhooks/${hookId}/replay`, {
      headers: json,
      body: JSON.stringify({ messageId: queued.id }),
    })
    assert.equal(replayed.statusCode, 202, replayed.body)
    const [redelivered] = (await invoke('deliver', [
      sqsEvent(...(await receiveJobs(1))),
    ])) as SQSBatchResponse[]
    assert.deepEqual(redelivered, { batchItemFailures: [] })
    assert.equal(received.filter((r) => r.path === '/hook').length, 2, 'the replay came')
    const tested = await api('POST', `/v1/webhooks/${hookId}/test`)
    assert.equal(tested.statusCode, 200, tested.body)
    assert.equal(received.filter((r) => r.path === '/hook').length, 3, 'the test event came')
    const deleted = await api('DELETE', `${mailbox}/${queued.id}`)
    assert.equal(deleted.statusCode, 204, deleted.body)

    // The record comes back (as after an invocation that failed once it had stored it):
    // the message stays deleted, and ingest lets go of what it wrote again.
    await emulator.s3.send(
      new PutObjectCommand({ Bucket: NAMES.MAILBRIDGE_BUCKET, Key: staged, Body: raw }),
    )
    const [again] = (await invoke('ingest', [
      sqsEvent(sqsRecord(JSON.stringify(queued), 2)),
    ])) as SQSBatchResponse[]
    assert.deepEqual(again, { batchItemFailures: [] })
    const relisted = await api('GET', mailbox)
    assert.deepEqual((JSON.parse(relisted.body) as { messages: unknown[] }).messages, [])
    assert.ok(
      calls.get('ingest')?.some((c) => c.action === 'dynamodb:BatchWriteItem'),
      'ingest remembered the retry fingerprint',
    )
  })

  // Each function's role is held to what its artifact did above, call by call: an action,
  // a key prefix or a partition key its role leaves out fails here, as it would on AWS.
  it('lets each function make every call it made, under its own role', () => {
    const resolve = (reference: string) => {
      const [base = '', ...rest] = reference.split('/')
      const name = standIn(base.replace(/\.Arn$/, '')) ?? base
      return [name.slice(name.lastIndexOf('/') + 1), ...rest].join('/')
    }
    const refused = FUNCTIONS.map((name) => {
      const made = calls.get(name) ?? []
      assert.ok(made.length > 0, `${name} made calls`)
      return [name, made.filter((call) => !allowsCall(roleStatements(name), call, resolve))]
    })
    assert.deepEqual(
      Object.fromEntries(refused),
      Object.fromEntries(FUNCTIONS.map((name) => [name, []])),
      'calls a role does not allow',
    )
  })

  /** The next `count` jobs on the webhook queue, as SQS records. */
  async function receiveJobs(count: number): Promise<SQSRecord[]> {
    const records: SQSRecord[] = []
    for (let tries = 0; records.length < count && tries < 5; tries++) {
      const { Messages = [] } = await emulator.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: emulator.webhookQueueUrl,
          MaxNumberOfMessages: 10,
          MessageSystemAttributeNames: ['All'],
          WaitTimeSeconds: 1,
        }),
      )
      for (const m of Messages) {
        records.push({
          ...sqsRecord(m.Body ?? ''),
          messageId: m.MessageId ?? '',
          receiptHandle: m.ReceiptHandle ?? '',
          md5OfBody: m.MD5OfBody ?? '',
        })
      }
    }
    assert.equal(records.length, count, `${count} webhook jobs queued`)
    return records
  }

  // What each function loads on first use, from beside its entry: a file missing from the
  // zip, or one that needs node_modules, would fail only on the rare path that needs it.
  it('holds the libraries each function loads on first use, each loading on its own', async () => {
    const check = join(dir, 'lazy-check.cjs')
    await writeFile(check, LAZY_CHECK)
    for (const name of FUNCTIONS) {
      for (const { module, exports } of FUNCTION_LAZY_MODULES[name]) {
        const file = join(run, name, `dist/${name}`, lazyFileOf(module))
        const names = exports === 'module.exports' ? [] : exports
        const { stdout } = await runOk(process.execPath, [check, file, JSON.stringify(names)], {
          env: { PATH: process.env.PATH },
          cwd: dirname(file),
        })
        const said = module === 'safe-stable-stringify' ? [CIRCULAR_STRINGIFIED] : []
        assert.deepEqual(stdout.trim().split('\n'), [...said, 'loaded'], `${name}: ${module}`)
      }
    }
  })
})

/** An HTTP server on a free loopback port answering JSON with what `answer` returns. */
async function listen(
  answer: (
    request: import('node:http').IncomingMessage,
    body: string,
  ) => [number, Record<string, unknown>],
): Promise<Server> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const [status, body] = answer(request, Buffer.concat(chunks).toString('utf8'))
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' })
      response.end(JSON.stringify(body))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server
}

function url(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}
