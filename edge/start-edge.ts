/**
 * Starts the edge's LMTP listeners (TCP and/or a UNIX socket) and stops them without
 * losing or doubling a message: see `RunningEdge.close`.
 */
import type { AddressInfo } from 'node:net'
import type { SMTPServer } from 'smtp-server'
import { SHUTTING_DOWN_CODE, SocketPathError } from './errors.ts'
import { createLmtpServer, Drain, type EdgeOptions } from './lmtp-server.ts'
import { EdgeMetrics } from './metrics.ts'
import { applySocketPermissions, clearStaleSocket } from './unix-socket.ts'

// The longest shutdown waits for hand-offs to be answered (ms). Each is bounded by its
// SDK timeouts well below this; past it something is wrong and the process must exit.
export const DRAIN_TIMEOUT_MS = 120_000

export interface StartEdgeOptions extends Omit<EdgeOptions, 'metrics'> {
  metrics?: EdgeMetrics
  drainTimeoutMs?: number
}

export interface RunningEdge {
  tcp: AddressInfo | undefined
  socketPath: string | undefined
  metrics: EdgeMetrics
  /** False once close() began. */
  accepting(): boolean
  /**
   * Stops accepting connections and new transactions (MAIL gets 421), waits until every
   * message being received or handed off has had its replies written, and only then
   * closes the remaining connections with 421. smtp-server's own close() would send 421
   * after a fixed grace time even to a session whose hand-off is still running: Postfix
   * would retry a message that was in fact queued, and it would be delivered twice.
   */
  close(): Promise<void>
}

interface Connections {
  connections: Set<{ send(code: number, text: string, enhancedCode: string): void; close(): void }>
}

function listen(server: SMTPServer, ...args: [number, string] | [string]): Promise<void> {
  return new Promise((resolve, reject) => {
    server.server.once('error', reject)
    server.listen(...(args as [number, string]), () => {
      server.server.off('error', reject)
      resolve()
    })
  })
}

export async function startEdge(options: StartEdgeOptions): Promise<RunningEdge> {
  const { config, logger } = options
  const metrics = options.metrics ?? new EdgeMetrics()
  const drain = new Drain()
  const servers: SMTPServer[] = []
  let tcp: AddressInfo | undefined
  try {
    if (config.tcp) {
      const server = createLmtpServer({ ...options, metrics }, drain)
      servers.push(server)
      await listen(server, config.tcp.port, config.tcp.host)
      tcp = server.server.address() as AddressInfo
    }
    if (config.socket) {
      const { path } = config.socket
      const server = createLmtpServer({ ...options, metrics }, drain)
      servers.push(server)
      await clearStaleSocket(path)
      await listen(server, path).catch((error: NodeJS.ErrnoException) => {
        // EACCES, ENOENT: a directory we may not write or that does not exist. A setup
        // error, which restarting will not fix (exit 78, see main.ts).
        throw new SocketPathError(`cannot create the socket ${path}: ${error.message}`, {
          cause: error,
        })
      })
      await applySocketPermissions(config.socket)
    }
  } catch (error) {
    for (const server of servers) server.server.close()
    throw error
  }

  let closing: Promise<void> | undefined
  const close = async () => {
    const stopped = servers.map(
      (server) => new Promise<void>((resolve) => server.server.close(() => resolve())),
    )
    const closeConnections = () => {
      for (const server of servers) {
        for (const connection of (server as unknown as Connections).connections) {
          connection.send(421, 'mailbridge shutting down, try again later', SHUTTING_DOWN_CODE)
          connection.close()
        }
      }
    }
    if (drain.pending > 0) logger.info({ pending: drain.pending }, 'waiting for hand-offs')
    const timer = setTimeout(() => {
      logger.error({ pending: drain.pending }, 'hand-offs still pending, closing anyway')
      closeConnections()
    }, options.drainTimeoutMs ?? DRAIN_TIMEOUT_MS)
    // Runs synchronously right after the last pending reply was written, so that no
    // DATA can begin between that reply and the 421s.
    drain.start(() => {
      clearTimeout(timer)
      closeConnections()
    })
    await Promise.all(stopped)
    await options.handoff.close()
  }

  return {
    tcp,
    socketPath: config.socket?.path,
    metrics,
    accepting: () => !drain.draining,
    close: () => {
      closing ??= close()
      return closing
    },
  }
}
