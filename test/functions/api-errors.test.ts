import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { OpenAPIHono } from '@hono/zod-openapi'
import { pino } from 'pino'
import { createApp } from '../../functions/api/app.ts'
import type { Problem } from '../../functions/api/problem.ts'
import { createStores } from '../../shared/compose.ts'
import { ConfigError } from '../../shared/errors.ts'
import { type Emulator, startEmulator } from '../helpers/emulator.ts'

const API_KEY = 'test-key-errors-0123456789'

/** The parts of the OpenAPI document these tests read. */
interface OpenApiDocument {
  openapi: string
  security: unknown
  paths: Record<
    string,
    Record<string, { parameters?: { name: string; in: string; schema: { maximum?: number } }[] }>
  >
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> }
}

async function assertProblem(res: Response, status: number): Promise<Problem> {
  assert.equal(res.status, status)
  assert.equal(res.headers.get('content-type'), 'application/problem+json')
  const body = (await res.json()) as Problem
  assert.deepEqual(Object.keys(body).sort(), ['detail', 'status', 'title', 'type'])
  assert.equal(body.status, status)
  assert.equal(body.type, 'about:blank')
  return body
}

describe('api: auth, errors and the OpenAPI document', () => {
  let emulator: Emulator
  let app: OpenAPIHono

  before(async () => {
    emulator = await startEmulator()
    app = createApp({
      stores: emulator.root.stores,
      apiKey: API_KEY,
    })
  })
  after(() => emulator.stop())

  it('refuses requests without the right bearer key with 401', async () => {
    const refused: Record<string, string>[] = [
      {},
      { Authorization: '' },
      { Authorization: 'Bearer' },
      { Authorization: 'Bearer wrong' },
      { Authorization: `Bearer ${API_KEY}x` },
      { Authorization: `Bearer ${API_KEY.slice(0, -1)}` },
      { Authorization: `Basic ${Buffer.from(`u:${API_KEY}`).toString('base64')}` },
      { Authorization: API_KEY },
    ]
    for (const headers of refused) {
      for (const [method, path] of [
        ['GET', '/v1/mailboxes'],
        ['POST', '/v1/webhooks'],
        ['GET', '/v1/no-such-route'],
      ] as const) {
        const res = await app.request(path, { method, headers })
        await assertProblem(res, 401)
        assert.equal(res.headers.get('www-authenticate'), 'Bearer')
      }
    }

    const ok = await app.request('/v1/mailboxes', {
      headers: { Authorization: `bearer ${API_KEY}` },
    })
    assert.equal(ok.status, 200)
  })

  it('serves the OpenAPI document without a key', async () => {
    const res = await app.request('/v1/openapi.json')

    assert.equal(res.status, 200)
    const doc = (await res.json()) as OpenApiDocument
    assert.equal(doc.openapi, '3.1.0')
    assert.deepEqual(Object.keys(doc.paths).sort(), [
      '/v1/mailboxes',
      '/v1/mailboxes/{address}/messages',
      '/v1/mailboxes/{address}/messages/{id}',
      '/v1/mailboxes/{address}/messages/{id}/attachments/{index}',
      '/v1/mailboxes/{address}/messages/{id}/deliveries',
      '/v1/mailboxes/{address}/messages/{id}/raw',
      '/v1/mailboxes/{address}/quota',
      '/v1/routes',
      '/v1/routes/{id}',
      '/v1/webhooks',
      '/v1/webhooks/{id}',
      '/v1/webhooks/{id}/attempts',
      '/v1/webhooks/{id}/replay',
      '/v1/webhooks/{id}/rotate-secret',
      '/v1/webhooks/{id}/test',
    ])
    assert.deepEqual(Object.keys(doc.paths['/v1/mailboxes/{address}/messages/{id}'] ?? {}).sort(), [
      'delete',
      'get',
      'patch',
    ])
    assert.deepEqual(doc.components.securitySchemes.bearerAuth, {
      type: 'http',
      scheme: 'bearer',
      description: 'The API key (MAILBRIDGE_API_KEY)',
    })
    assert.deepEqual(doc.security, [{ bearerAuth: [] }])
    const limit = doc.paths['/v1/mailboxes/{address}/messages']?.get?.parameters?.find(
      (parameter) => parameter.name === 'limit',
    )
    assert.equal(limit?.in, 'query')
    assert.equal(limit?.schema.maximum, 200)
    assert.ok(doc.components.schemas.Problem)
    assert.ok(doc.components.schemas.Message)
    // The records come from shared/contracts/, named there.
    for (const name of ['Mailbox', 'MessageSummary', 'Webhook', 'CreateWebhook']) {
      assert.ok(doc.components.schemas[name], name)
    }
  })

  it('answers unknown routes with 404 problem+json', async () => {
    await assertProblem(await app.request('/'), 404)
    await assertProblem(await app.request('/v2/mailboxes'), 404)
    const res = await app.request('/v1/nope', { headers: { Authorization: `Bearer ${API_KEY}` } })
    const problem = await assertProblem(res, 404)
    assert.equal(problem.detail, 'No route for GET /v1/nope')
  })

  it('logs unexpected failures and answers 500 without internals', async () => {
    const lines: string[] = []
    const logger = pino({ level: 'error' }, { write: (line: string) => lines.push(line) })
    // A table that does not exist: the real DynamoDB client fails with ResourceNotFound.
    const broken = createApp({
      stores: createStores(
        { bucket: 'no-such-bucket-for-api', table: 'no-such-table-for-api' },
        emulator.root.clients,
      ),
      apiKey: API_KEY,
      logger,
    })

    const res = await broken.request('/v1/mailboxes', {
      headers: { Authorization: `Bearer ${API_KEY}` },
    })

    const problem = await assertProblem(res, 500)
    assert.equal(problem.detail, 'An unexpected error occurred; it has been logged')
    assert.equal(lines.length, 1)
    const entry = JSON.parse(lines[0] ?? '')
    assert.equal(entry.msg, 'request failed')
    assert.equal(entry.path, '/v1/mailboxes')
    assert.equal(entry.err.name, 'ResourceNotFoundException')
  })

  it('refuses to build an app with an empty key', () => {
    assert.throws(
      () =>
        createApp({
          stores: emulator.root.stores,
          apiKey: '',
        }),
      ConfigError,
    )
  })
})
