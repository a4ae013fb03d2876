/**
 * The embedded DynamoDB emulator (dynalite) of local mode, the tests and the bench: on
 * loopback only, kept in `{dataDir}/dynamodb` (LevelDB, every write synced: see
 * patches/dynalite+*.patch) or in memory when there is no data directory. It has no
 * transactions and never expires TTL items; the stores need neither (shared/store/).
 */
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import dynalite from 'dynalite'
import type { EmbeddedEmulator } from './emulator.ts'
import { startThread } from './threads.ts'

export interface DynamoDbOptions {
  /** 0 for any free port. */
  port: number
  /** Local mode's data directory (already created and locked); undefined keeps the table in memory. */
  dataDir: string | undefined
}

/** dynalite on 127.0.0.1, in this thread. */
export async function startDynamoDb(options: DynamoDbOptions): Promise<EmbeddedEmulator> {
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.dataDir !== undefined && { path: join(options.dataDir, 'dynamodb') }),
  })
  server.listen(options.port, '127.0.0.1')
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([error]) => Promise.reject(error)),
  ])
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    // Closing the server closes the database once the writes in hand are done.
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** dynalite in a worker thread of its own, beside the S3/SQS emulator's. */
export async function startDynamoDbThread(options: DynamoDbOptions): Promise<EmbeddedEmulator> {
  const thread = await startThread<string>(import.meta.url, 'dynamodb-worker', options)
  return { endpoint: thread.ready, stop: thread.stop }
}
