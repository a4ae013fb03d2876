/** /healthz and /metrics over real HTTP, with numbers that follow real LMTP traffic. */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { type RunningHealthServer, startHealthServer } from '../../edge/health-server.ts'
import { startTestEdge, type TestEdge } from '../helpers/edge.ts'
import { type Emulator, startEmulator } from '../helpers/emulator.ts'
import { RawLmtp } from '../helpers/raw-lmtp.ts'

let emulator: Emulator
let edge: TestEdge
let health: RunningHealthServer
let base: string

before(async () => {
  emulator = await startEmulator({ MAILBRIDGE_DOMAINS: 'example.com' })
  edge = await startTestEdge(emulator)
  health = await startHealthServer({ host: '127.0.0.1', port: 0 }, edge.metrics, edge)
  base = `http://127.0.0.1:${health.address.port}`
})

after(async () => {
  await edge.close()
  await health.close()
  await emulator.stop()
})

/** The value of one sample line of the Prometheus text format, e.g. `name{code="550"}`. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return line === undefined ? undefined : Number(line.slice(name.length + 1))
}

test('/metrics counts messages, refusals by code, bytes and hand-off latency; /healthz follows the drain', async () => {
  const client = await RawLmtp.greeted(edge.lmtp, 'metrics.test')
  const { data } = await client.transaction(
    'm@example.net',
    ['a@example.com', 'x@elsewhere.test'],
    'Subject: counted\r\n\r\nhello\r\n',
  )
  assert.deepEqual(
    data.map((reply) => reply.code),
    [250],
  )
  client.close()

  const healthy = await fetch(`${base}/healthz`)
  assert.equal(healthy.status, 200)
  assert.deepEqual(await healthy.json(), { status: 'ok' })

  const metrics = await fetch(`${base}/metrics`)
  assert.equal(metrics.status, 200)
  assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/)
  const text = await metrics.text()
  assert.equal(sample(text, 'mailbridge_edge_messages_accepted_total'), 1)
  assert.equal(sample(text, 'mailbridge_edge_rejected_total{code="550"}'), 1)
  assert.equal(sample(text, 'mailbridge_edge_handoff_seconds_count'), 1)
  assert.equal(sample(text, 'mailbridge_edge_handoffs_in_flight'), 0)
  assert.ok((sample(text, 'mailbridge_edge_received_bytes_total') ?? 0) > 'Subject: counted'.length)

  assert.equal((await fetch(`${base}/nothing`)).status, 404)
  await edge.close()
  const draining = await fetch(`${base}/healthz`)
  assert.equal(draining.status, 503)
  assert.deepEqual(await draining.json(), { status: 'draining' })
})
