/** The worker thread of startDynamoDbThread (dynamodb.ts): dynalite, reporting its endpoint. */
import { type DynamoDbOptions, startDynamoDb } from './dynamodb.ts'
import { runInThread } from './threads.ts'

await runInThread(async (options: DynamoDbOptions) => {
  const emulator = await startDynamoDb(options)
  return { ready: emulator.endpoint, stop: emulator.stop }
})
