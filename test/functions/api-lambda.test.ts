import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { handle } from 'hono/aws-lambda'
import { createApp } from '../../functions/api/app.ts'
import type { QueuedMessage } from '../../shared/contracts/queue.ts'
import { ConfigError } from '../../shared/errors.ts'
import { newMessageId } from '../../shared/message-id.ts'
import { type Emulator, ingestMessages, startEmulator } from '../helpers/emulator.ts'
import { apiGatewayEvent } from '../helpers/factories.ts'

const API_KEY = 'test-key-lambda'

describe('api: Lambda adapter (API Gateway v2)', () => {
  let emulator: Emulator
  let handler: ReturnType<typeof handle>
  const auth = { authorization: `Bearer ${API_KEY}` }

  before(async () => {
    emulator = await startEmulator()
    const app = createApp({
      stores: emulator.root.stores,
      apiKey: API_KEY,
    })
    handler = handle(app)
  })
  after(() => emulator.stop())

  it('serves JSON, raw bytes (base64) and problems through the adapter', async () => {
    const raw = readFileSync(new URL('../fixtures/api-attachment.eml', import.meta.url))
    const mailbox = 'lambda@example.com'
    const queued: QueuedMessage = {
      v: 1,
      id: newMessageId(),
      receivedAt: new Date().toISOString(),
      envelope: { mailFrom: 'jose@example.org', rcptTo: [mailbox] },
      size: raw.byteLength,
      raw: { base64: raw.toString('base64') },
    }
    await ingestMessages(emulator, queued)
    const base = `/v1/mailboxes/lambda%40example.com/messages`

    const list = await handler(apiGatewayEvent('GET', base, { query: 'limit=1', headers: auth }))
    const source = await handler(
      apiGatewayEvent('GET', `${base}/${queued.id}/raw`, { headers: auth }),
    )
    const denied = await handler(apiGatewayEvent('GET', base))

    assert.equal(list.statusCode, 200)
    assert.equal(list.isBase64Encoded, false)
    const page = JSON.parse(list.body)
    assert.deepEqual(
      page.messages.map((summary: { id: string; subject: string }) => [
        summary.id,
        summary.subject,
      ]),
      [[queued.id, 'Résumé attached']],
    )
    assert.equal(source.statusCode, 200)
    assert.equal(source.headers?.['content-type'], 'message/rfc822')
    assert.equal(source.isBase64Encoded, true)
    assert.deepEqual(Buffer.from(source.body, 'base64'), raw)
    assert.equal(denied.statusCode, 401)
    assert.equal(denied.headers?.['content-type'], 'application/problem+json')
    assert.equal(denied.headers?.['www-authenticate'], 'Bearer')
    assert.equal(JSON.parse(denied.body).status, 401)
  })

  it('accepts a base64-encoded JSON body', async () => {
    const res = await handler(
      apiGatewayEvent('POST', '/v1/webhooks', {
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          url: 'https://hooks.example.com/in',
          mailbox: 'Lambda@Example.com',
        }),
      }),
    )

    assert.equal(res.statusCode, 201)
    const created = JSON.parse(res.body)
    assert.equal(created.mailbox, 'lambda@example.com')
    const stored = await emulator.root.stores.endpoints.get(created.id)
    assert.equal(stored?.url, 'https://hooks.example.com/in')
  })

  it('fails the cold start with a ConfigError when MAILBRIDGE_API_KEY is unset', async () => {
    delete process.env.MAILBRIDGE_API_KEY
    delete process.env.MAILBRIDGE_CONFIG

    await assert.rejects(import('../../functions/api/handler.ts'), (error: unknown) => {
      assert.ok(error instanceof ConfigError)
      assert.match(error.message, /MAILBRIDGE_API_KEY/)
      return true
    })
  })
})
