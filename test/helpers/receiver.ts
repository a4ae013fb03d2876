/**
 * A real HTTP webhook receiver on loopback whose answer depends on the path: `/ok` (204),
 * `/fail` (500), `/gone` (410), `/busy` (429 with Retry-After: 120), `/hang` (never
 * answers), `/reset` (drops the connection), `/big` (200 with a 1 MiB body). It keeps
 * every request it got.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

export interface ReceivedRequest {
  path: string
  headers: IncomingHttpHeaders
  body: Buffer
  /** performance.now() when the body had arrived. */
  at: number
}

export interface Receiver {
  /** `http://127.0.0.1:{port}` */
  base: string
  port: number
  received: ReceivedRequest[]
  /** Requests to `path`. */
  to(path: string): ReceivedRequest[]
  /** Resolves with the next request to arrive. */
  next(): Promise<ReceivedRequest>
  close(): Promise<void>
}

export async function startReceiver(): Promise<Receiver> {
  const received: ReceivedRequest[] = []
  const waiting: Array<(request: ReceivedRequest) => void> = []
  const sockets = new Set<Socket>()
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const path = new URL(request.url ?? '/', 'http://x').pathname
      const entry = {
        path,
        headers: request.headers,
        body: Buffer.concat(chunks),
        at: performance.now(),
      }
      received.push(entry)
      waiting.shift()?.(entry)
      switch (path) {
        case '/fail':
          response.writeHead(500).end('receiver error')
          break
        case '/gone':
          response.writeHead(410).end('gone')
          break
        case '/busy':
          response.writeHead(429, { 'retry-after': '120' }).end('slow down')
          break
        case '/hang':
          break
        case '/reset':
          request.socket.destroy()
          break
        case '/big':
          response.writeHead(200).end(Buffer.alloc(1024 * 1024, 'x'))
          break
        default:
          response.writeHead(204).end()
      }
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    received,
    to: (path) => received.filter((request) => request.path === path),
    next: () => new Promise((resolve) => waiting.push(resolve)),
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
