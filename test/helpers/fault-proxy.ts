/**
 * An HTTP proxy between the AWS SDK and the emulator that injects the failures a real
 * network and a real SQS/S3 produce: a slow request, a lost answer, a 500, and a SendMessageBatch in which
 * SQS stored some entries and refused others (answered 200 with a `Failed` list). The SDK
 * talks to it over real HTTP like to any endpoint (AWS_ENDPOINT_URL).
 */
import { createHash } from 'node:crypto'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { buffer } from 'node:stream/consumers'

export interface Fault {
  /** Which requests it applies to: `SendMessageBatch` (SQS's X-Amz-Target) or `S3`. */
  target: 'SendMessageBatch' | 'S3'
  /** Holds the request this long before forwarding it; dropped if the client gave up. */
  delayMs?: number
  /**
   * Forwards the request at once but holds the answer this long: SQS or S3 did the work,
   * and the client may give up before it hears so.
   */
  answerDelayMs?: number
  /** Answers 500 without forwarding. */
  status500?: boolean
  /**
   * For SendMessageBatch: entries whose MessageBody matches are not forwarded, and are
   * reported in `Failed` as SQS does for a refused entry.
   */
  refuseEntry?: (messageBody: string) => boolean
}

export interface FaultProxy {
  endpoint: string
  fault: Fault | undefined
  /** Entry counts of every SendMessageBatch forwarded, in order. */
  batches: number[]
  /**
   * Every S3 request with a body: the payload hash it was signed with (the
   * x-amz-content-sha256 header) and the SHA-256 of the body that came, both hex.
   */
  s3Bodies: Array<{ method: string; path: string; signedSha256: string; bodySha256: string }>
  close(): Promise<void>
}

interface BatchRequest {
  Entries: Array<{ Id: string; MessageBody: string }>
}

interface BatchResponse {
  Successful?: unknown[]
  Failed?: Array<{ Id: string; SenderFault: boolean; Code: string; Message: string }>
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream)
  const proxy: FaultProxy = {
    endpoint: '',
    fault: undefined,
    batches: [],
    s3Bodies: [],
    close: async () => {},
  }

  const server: Server = createServer(async (req, res) => {
    let aborted = false
    res.on('close', () => {
      aborted = !res.writableFinished
    })
    let body = await buffer(req)
    const amzTarget = String(req.headers['x-amz-target'] ?? '')
    const kind = amzTarget.startsWith('AmazonSQS.') ? amzTarget.slice(10) : 'S3'
    const fault = proxy.fault?.target === kind ? proxy.fault : undefined
    if (kind === 'S3' && body.length > 0) {
      proxy.s3Bodies.push({
        method: req.method ?? '',
        path: req.url ?? '',
        signedSha256: String(req.headers['x-amz-content-sha256'] ?? ''),
        bodySha256: createHash('sha256').update(body).digest('hex'),
      })
    }

    if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs))
    if (aborted) return
    if (fault?.status500) {
      res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' })
      res.end(JSON.stringify({ __type: 'InternalError', message: 'injected by the fault proxy' }))
      return
    }

    let refused: BatchRequest['Entries'] = []
    if (kind === 'SendMessageBatch') {
      const batch = JSON.parse(body.toString('utf8')) as BatchRequest
      if (fault?.refuseEntry) {
        const test = fault.refuseEntry
        refused = batch.Entries.filter((entry) => test(entry.MessageBody))
        batch.Entries = batch.Entries.filter((entry) => !test(entry.MessageBody))
        body = Buffer.from(JSON.stringify(batch))
      }
      proxy.batches.push(batch.Entries.length + refused.length)
    }

    const headers = { ...req.headers, 'content-length': String(body.length) }
    const forward = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      async (upstreamRes) => {
        let answer = await buffer(upstreamRes)
        if (fault?.answerDelayMs) {
          await new Promise((resolve) => setTimeout(resolve, fault.answerDelayMs))
          if (aborted) return
        }
        if (refused.length > 0) {
          const parsed = JSON.parse(answer.toString('utf8')) as BatchResponse
          parsed.Failed = [
            ...(parsed.Failed ?? []),
            ...refused.map((entry) => ({
              Id: entry.Id,
              SenderFault: false,
              Code: 'InternalError',
              Message: 'refused by the fault proxy',
            })),
          ]
          answer = Buffer.from(JSON.stringify(parsed))
        }
        res.writeHead(upstreamRes.statusCode ?? 502, {
          ...upstreamRes.headers,
          'content-length': String(answer.length),
        })
        res.end(answer)
      },
    )
    forward.on('error', () => res.destroy())
    forward.end(body)
  })

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  return proxy
}
