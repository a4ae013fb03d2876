import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import type { OpenAPIHono } from '@hono/zod-openapi'
import { Webhook } from 'standardwebhooks'
import { createApp } from '../../functions/api/app.ts'
import { LOCAL_POLICY, STRICT_POLICY } from '../../functions/deliver/address-policy.ts'
import { createDeliverHandler, deliverDeps } from '../../functions/deliver/deliver.ts'
import { createWebhookAgent } from '../../functions/deliver/http-client.ts'
import type { WebhookJob } from '../../shared/contracts/webhook-job.ts'
import { createLogger } from '../../shared/logger.ts'
import { type Emulator, ingestMessages, startEmulator } from '../helpers/emulator.ts'
import { queuedMessage, sqsEvent, sqsRecord } from '../helpers/factories.ts'
import { type Receiver, startReceiver } from '../helpers/receiver.ts'

const API_KEY = 'test-key-webhook-deliveries'
const AUTH = { Authorization: `Bearer ${API_KEY}` }
const JSON_AUTH = { ...AUTH, 'Content-Type': 'application/json' }
const fixture = readFileSync(new URL('../fixtures/simple.eml', import.meta.url))

// biome-ignore lint/suspicious/noExplicitAny: JSON answers are checked field by field.
type Json = any

describe('api: webhook settings, attempts, replay and test', () => {
  let emulator: Emulator
  let receiver: Receiver
  let app: OpenAPIHono
  let strict: OpenAPIHono
  const replays: WebhookJob[] = []
  const call = async (target: OpenAPIHono, method: string, path: string, body?: unknown) => {
    const res = await target.request(path, {
      method,
      headers: body === undefined ? AUTH : JSON_AUTH,
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, body: (text ? JSON.parse(text) : null) as Json }
  }

  before(async () => {
    emulator = await startEmulator({ LOG_LEVEL: 'warn' })
    receiver = await startReceiver()
    const webhookSender = {
      agent: createWebhookAgent({ policy: LOCAL_POLICY }),
      queue: {
        async send(job: WebhookJob) {
          replays.push(job)
        },
      },
    }
    const stores = emulator.root.stores
    app = createApp({ stores, apiKey: API_KEY, webhookPolicy: LOCAL_POLICY, webhookSender })
    strict = createApp({ stores, apiKey: API_KEY, webhookPolicy: STRICT_POLICY })
  })
  after(async () => {
    await receiver.close()
    await emulator.stop()
  })

  it('refuses at creation, with 400, URLs that can never be delivered in production', async () => {
    for (const url of [
      'http://app.example.com/hook',
      'https://user:secret@app.example.com/hook',
      'https://169.254.169.254/latest/meta-data/',
      'https://2130706433/',
      'https://[::ffff:127.0.0.1]/',
      'https://10.0.0.1/',
      'https://localhost/',
    ]) {
      const res = await call(strict, 'POST', '/v1/webhooks', { url })
      assert.equal(res.status, 400, url)
      assert.match(res.body.detail, /^body\.url: /)
      assert.doesNotMatch(res.body.detail, /secret@/)
    }
    assert.equal(
      (await call(strict, 'POST', '/v1/webhooks', { url: 'https://app.example.com/h' })).status,
      201,
    )
  })

  it('creates with settings, reads, changes, rotates the secret with an overlap', async () => {
    const created = await call(app, 'POST', '/v1/webhooks', {
      url: `${receiver.base}/ok`,
      format: 'postmark',
      description: 'orders app',
      timeoutSeconds: 5,
      inlineAttachmentBytes: 1000,
      signing: 'v1a',
    })
    assert.equal(created.status, 201)
    assert.match(created.body.publicKey, /^whpk_/)
    const id = created.body.id as string
    const read = await call(app, 'GET', `/v1/webhooks/${id}`)
    assert.deepEqual(
      [read.body.format, read.body.description, read.body.timeoutSeconds, read.body.rotatingUntil],
      ['postmark', 'orders app', 5, null],
    )
    const changed = await call(app, 'PATCH', `/v1/webhooks/${id}`, {
      enabled: false,
      format: 'raw',
    })
    assert.deepEqual([changed.body.enabled, changed.body.format], [false, 'raw'])
    assert.equal(
      (await call(strict, 'PATCH', `/v1/webhooks/${id}`, { url: 'http://x.example/' })).status,
      400,
    )
    const rotated = await call(app, 'POST', `/v1/webhooks/${id}/rotate-secret`, {
      overlapSeconds: 600,
    })
    assert.equal(rotated.status, 200)
    assert.notEqual(rotated.body.secret, created.body.secret)
    assert.notEqual(rotated.body.publicKey, created.body.publicKey)
    const after = await call(app, 'GET', `/v1/webhooks/${id}`)
    assert.equal(after.body.rotatingUntil, rotated.body.rotatingUntil)
    assert.equal(
      (await call(app, 'POST', '/v1/webhooks/wh_00000000000000000000/rotate-secret')).status,
      404,
    )
  })

  it('sends a signed test event and returns what the receiver answered', async () => {
    const created = await call(app, 'POST', '/v1/webhooks', { url: `${receiver.base}/ok` })
    const ok = await call(app, 'POST', `/v1/webhooks/${created.body.id}/test`)
    assert.equal(ok.status, 200)
    assert.deepEqual([ok.body.ok, ok.body.httpStatus, ok.body.error], [true, 204, null])
    const request = receiver.to('/ok').at(-1)
    assert.ok(request)
    const payload = new Webhook(created.body.secret).verify(request.body.toString(), {
      'webhook-id': String(request.headers['webhook-id']),
      'webhook-timestamp': String(request.headers['webhook-timestamp']),
      'webhook-signature': String(request.headers['webhook-signature']),
    }) as Json
    assert.equal(payload.type, 'webhook.test')

    const failing = await call(app, 'POST', '/v1/webhooks', { url: `${receiver.base}/fail` })
    const failed = await call(app, 'POST', `/v1/webhooks/${failing.body.id}/test`)
    assert.deepEqual(
      [failed.body.ok, failed.body.httpStatus, failed.body.response],
      [false, 500, 'receiver error'],
    )
    const log = await call(app, 'GET', `/v1/webhooks/${failing.body.id}/attempts?status=failed`)
    assert.equal(log.body.attempts.length, 1)
    assert.equal(log.body.attempts[0].trigger, 'test')
  })

  it('pages the attempt log, lists a message’s deliveries, and replays one or every failed event', async () => {
    const hook = await call(app, 'POST', '/v1/webhooks', {
      url: `${receiver.base}/gone`,
      mailbox: 'replay@example.com',
    })
    const id = hook.body.id as string
    const messages = [
      queuedMessage(fixture, ['replay@example.com']),
      queuedMessage(fixture, ['replay@example.com']),
    ]
    await ingestMessages(emulator, ...messages)
    // 410: the first fails and disables the endpoint, the second fails unsent.
    const deliver = createDeliverHandler(
      deliverDeps(emulator.root, {
        logger: createLogger('test-deliver'),
        queue: { send: async () => {} },
      }),
    )
    for (const message of messages) {
      const job: WebhookJob = {
        v: 1,
        messageId: message.id,
        endpointId: id,
        mailboxes: ['replay@example.com'],
        rcptTo: ['replay@example.com'],
      }
      await deliver(sqsEvent(sqsRecord(JSON.stringify(job))))
    }
    const page = await call(app, 'GET', `/v1/webhooks/${id}/attempts?limit=1`)
    assert.equal(page.body.attempts.length, 1)
    assert.equal(page.body.attempts[0].httpStatus, 410)
    assert.equal(page.body.nextCursor, null)
    assert.equal((await call(app, 'GET', `/v1/webhooks/${id}/attempts?cursor=bogus`)).status, 400)

    const [first, second] = messages as [(typeof messages)[0], (typeof messages)[0]]
    const deliveries = await call(
      app,
      'GET',
      `/v1/mailboxes/replay@example.com/messages/${first.id}/deliveries`,
    )
    assert.equal(deliveries.status, 200)
    const mine = deliveries.body.deliveries.find((d: Json) => d.endpointId === id)
    assert.deepEqual([mine.status, mine.attempts, mine.lastResult], ['failed', 1, 'HTTP 410'])
    assert.equal(
      (await call(app, 'GET', `/v1/mailboxes/other@example.com/messages/${first.id}/deliveries`))
        .status,
      404,
    )

    const one = await call(app, 'POST', `/v1/webhooks/${id}/replay`, { messageId: first.id })
    assert.deepEqual([one.status, one.body.replayed], [202, [first.id]])
    assert.deepEqual(
      [replays.at(-1)?.messageId, replays.at(-1)?.attempts, replays.at(-1)?.trigger],
      [first.id, 1, 'replay'],
    )
    // Queued again: a second replay waits for it.
    assert.equal(
      (await call(app, 'POST', `/v1/webhooks/${id}/replay`, { messageId: first.id })).status,
      409,
    )
    const since = await call(app, 'POST', `/v1/webhooks/${id}/replay`, {
      since: new Date(Date.now() - 3600_000).toISOString(),
    })
    assert.deepEqual(since.body.replayed, [second.id])
    assert.equal((await call(app, 'POST', `/v1/webhooks/${id}/replay`, { nothing: 1 })).status, 400)
  })

  it('publishes the mailbridge payload schema in the OpenAPI webhooks section', async () => {
    const res = await app.request('/v1/openapi.json')
    const doc = (await res.json()) as Json
    const hook = doc.webhooks['message.received'].post
    const schema = hook.requestBody.content['application/json'].schema
    assert.equal(schema.$ref, '#/components/schemas/WebhookPayload')
    const payload = doc.components.schemas.WebhookPayload
    assert.ok(payload.properties.data.properties.mailboxHash)
    assert.ok(payload.properties.data.properties.attachments)
    assert.ok(doc.paths['/v1/webhooks/{id}/replay'])
  })
})
