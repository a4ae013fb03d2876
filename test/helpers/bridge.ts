/**
 * The whole bridge as local mode runs it (edge, pollers feeding ingest and deliver, API),
 * on the emulator and free loopback ports, plus a real HTTP webhook receiver.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type RunningBridge, startBridge } from '../../local/bridge.ts'
import { type Emulator, startEmulator } from './emulator.ts'

export const API_KEY = 'test-api-key'

export interface TestBridge {
  emulator: Emulator
  bridge: RunningBridge
  /** Base URL of the API, e.g. http://127.0.0.1:PORT */
  api: string
  lmtp: { host: string; port: number }
  /** An API request with the key. */
  request(path: string, init?: RequestInit): Promise<Response>
  stop(): Promise<void>
}

export async function startTestBridge(env: NodeJS.ProcessEnv = {}): Promise<TestBridge> {
  // Short visibility timeouts: a failed record comes back within a second or two.
  const emulator = await startEmulator({
    MAILBRIDGE_LMTP_PORT: '0',
    MAILBRIDGE_API_PORT: '0',
    MAILBRIDGE_LOCAL_INGEST_RETRY_SECONDS: '2',
    MAILBRIDGE_LOCAL_WEBHOOK_RETRY_SECONDS: '1',
    ...env,
  })
  const bridge = await startBridge({ root: emulator.root, apiKey: API_KEY })
  const api = `http://127.0.0.1:${bridge.api.port}`
  return {
    emulator,
    bridge,
    api,
    lmtp: { host: '127.0.0.1', port: bridge.edge.tcp?.port ?? 0 },
    request: (path, init = {}) =>
      fetch(`${api}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${API_KEY}`, ...(init.headers ?? {}) },
      }),
    async stop() {
      await bridge.stop()
      await emulator.stop()
    },
  }
}

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders
  body: string
  at: number
}

export interface WebhookReceiver {
  url: string
  received: ReceivedWebhook[]
  /** Resolves with the first `count` webhooks, or rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedWebhook[]>
  close(): Promise<void>
}

/** A real HTTP server on loopback that records every POST and answers 200. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = []
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      received.push({
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      })
      response.end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    received,
    async waitFor(count, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs
      while (received.length < count) {
        if (Date.now() > deadline) {
          throw new Error(`expected ${count} webhooks, got ${received.length} in ${timeoutMs} ms`)
        }
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
      return received.slice(0, count)
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
