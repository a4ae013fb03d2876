/**
 * Both emulators of local mode, the tests and the bench, started and stopped as one:
 * fauxqs for S3 and SQS (emulator.ts), which creates and locks the data directory, then
 * dynalite for DynamoDB (dynamodb.ts) beside it.
 */
import { startDynamoDb, startDynamoDbThread } from './dynamodb.ts'
import { type EmulatorOptions, startEmulator, startEmulatorThread } from './emulator.ts'

export interface EmulatorsOptions extends EmulatorOptions {
  /** Port of the DynamoDB emulator; 0 for any free port. */
  dynamodbPort: number
  /** Each emulator in a worker thread of its own (npm start), or in this thread (tests). */
  threads: boolean
}

export interface EmbeddedEmulators {
  /** S3 and SQS. */
  endpoint: string
  dynamodbEndpoint: string
  stop(): Promise<void>
}

export async function startEmulators(options: EmulatorsOptions): Promise<EmbeddedEmulators> {
  const { dataDir, threads } = options
  const s3sqs = await (threads ? startEmulatorThread : startEmulator)({
    port: options.port,
    dataDir,
  })
  try {
    const start = threads ? startDynamoDbThread : startDynamoDb
    const dynamodb = await start({ port: options.dynamodbPort, dataDir })
    return {
      endpoint: s3sqs.endpoint,
      dynamodbEndpoint: dynamodb.endpoint,
      async stop() {
        await dynamodb.stop()
        await s3sqs.stop()
      },
    }
  } catch (error) {
    await s3sqs.stop()
    throw error
  }
}
