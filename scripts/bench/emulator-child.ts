/**
 * The S3/SQS emulator (fauxqs) in a process of its own, so that its CPU and memory are not
 * the bench's (whose event loop times the probe) nor the edge's. Prints `{"address": …}` on
 * one line once listening; stops on SIGTERM/SIGINT, or when its stdin closes (the bench
 * died without stopping it).
 */
import { startEmulator } from '../../local/emulator.ts'

const server = await startEmulator({ port: 0, dataDir: undefined })
process.stdout.write(`${JSON.stringify({ address: server.endpoint })}\n`)

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
