/**
 * `/healthz` and `/metrics` on a local HTTP port, for a load balancer, systemd watchdog
 * scripts, `mailbridge doctor` and Prometheus. Plain node:http: two read-only routes do
 * not need a framework on the mail host.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { EdgeMetrics } from './metrics.ts'

export interface HealthState {
  /** False once the edge is draining for shutdown: it takes no new mail. */
  accepting(): boolean
}

export interface RunningHealthServer {
  address: AddressInfo
  close(): Promise<void>
}

export async function startHealthServer(
  listen: { host: string; port: number },
  metrics: EdgeMetrics,
  state: HealthState,
): Promise<RunningHealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end()
      return
    }
    if (path === '/healthz') {
      const ok = state.accepting()
      res
        .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: ok ? 'ok' : 'draining' }))
      return
    }
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (error: unknown) => res.writeHead(500).end(String(error)),
      )
      return
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
