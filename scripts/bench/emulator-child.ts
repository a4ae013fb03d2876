/**
 * The emulators (fauxqs for S3/SQS, dynalite for DynamoDB, in memory) in a process of their
 * own, so that their CPU and memory are not the bench's (whose event loop times the probe)
 * nor the edge's nor ingest's. Prints `{"address": …, "dynamodb": …}` on one line once
 * listening; stops on SIGTERM/SIGINT, or when its stdin closes (the bench died without
 * stopping it).
 */
import { startEmulators } from '../../local/emulators.ts'

const server = await startEmulators({
  port: 0,
  dynamodbPort: 0,
  dataDir: undefined,
  threads: false,
})
process.stdout.write(
  `${JSON.stringify({ address: server.endpoint, dynamodb: server.dynamodbEndpoint })}\n`,
)

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  await server.stop()
  process.exit(0)
}
process.on('SIGTERM', () => void stop())
process.on('SIGINT', () => void stop())
process.stdin.on('end', () => void stop())
process.stdin.resume()
