import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { OpenAPIHono, z } from '@hono/zod-openapi'
import { createApp, MAX_BODY_BYTES } from '../../functions/api/app.ts'
import type { Problem } from '../../functions/api/problem.ts'
import type { CreatedWebhookSchema, WebhookListSchema } from '../../functions/api/schemas.ts'
import { LOCAL_POLICY } from '../../functions/deliver/address-policy.ts'
import type { Stores } from '../../shared/compose.ts'
import { type Emulator, startEmulator } from '../helpers/emulator.ts'

const API_KEY = 'test-key-webhooks'
const AUTH = { Authorization: `Bearer ${API_KEY}` }
const JSON_AUTH = { ...AUTH, 'Content-Type': 'application/json' }

type CreatedWebhook = z.infer<typeof CreatedWebhookSchema>
type WebhookList = z.infer<typeof WebhookListSchema>

async function assertProblem(res: Response, status: number): Promise<Problem> {
  assert.equal(res.status, status)
  assert.equal(res.headers.get('content-type'), 'application/problem+json')
  const body = (await res.json()) as Problem
  assert.deepEqual(Object.keys(body).sort(), ['detail', 'status', 'title', 'type'])
  assert.equal(body.status, status)
  return body
}

describe('api: webhooks', () => {
  let emulator: Emulator
  let webhooks: Stores['endpoints']
  let app: OpenAPIHono
  const post = (body: string, headers: Record<string, string> = JSON_AUTH) =>
    app.request('/v1/webhooks', { method: 'POST', headers, body })

  before(async () => {
    emulator = await startEmulator()
    webhooks = emulator.root.stores.endpoints
    app = createApp({ stores: emulator.root.stores, apiKey: API_KEY, webhookPolicy: LOCAL_POLICY })
  })
  after(() => emulator.stop())

  it('creates, lists without secrets, and deletes endpoints', async () => {
    const one = await post(
      JSON.stringify({ url: 'https://app.example.com/hooks/mail', mailbox: ' Bob@Example.COM ' }),
    )
    const all = await post(JSON.stringify({ url: 'http://localhost:9000/in', mailbox: null }))
    const omitted = await post(JSON.stringify({ url: 'https://app.example.com/all' }))

    assert.equal(one.status, 201)
    const created = (await one.json()) as CreatedWebhook
    assert.ok(created.secret)
    assert.equal(created.format, 'mailbridge')
    assert.equal(created.enabled, true)
    assert.equal(created.timeoutSeconds, 15)
    assert.ok(!('signingKey' in created) && !('previousKeys' in created))
    assert.match(created.id, /^wh_[0-9a-f]{20}$/)
    assert.match(created.secret, /^whsec_/)
    assert.equal(created.url, 'https://app.example.com/hooks/mail')
    assert.equal(created.mailbox, 'bob@example.com')
    // What the API answered is what deliver will read.
    assert.deepEqual((await webhooks.get(created.id))?.secret, created.secret)
    assert.equal(all.status, 201)
    assert.equal(((await all.json()) as CreatedWebhook).mailbox, null)
    assert.equal(omitted.status, 201)
    const third = (await omitted.json()) as CreatedWebhook
    assert.equal(third.mailbox, null)

    const listed = await app.request('/v1/webhooks', { headers: AUTH })
    assert.equal(listed.status, 200)
    const text = await listed.text()
    assert.doesNotMatch(text, /whsec_|whsk_|"secret"|signingKey|previousKeys/)
    const { webhooks: list } = JSON.parse(text) as WebhookList
    assert.equal(list.length, 3)
    const first = list.find((endpoint) => endpoint.id === created.id)
    assert.ok(first)
    assert.equal(first.mailbox, 'bob@example.com')
    assert.ok(!Number.isNaN(Date.parse(first.createdAt)))
    const plainHttp = list.find((endpoint) => endpoint.url.startsWith('http://'))

    const deleted = await app.request(`/v1/webhooks/${created.id}`, {
      method: 'DELETE',
      headers: AUTH,
    })
    assert.equal(deleted.status, 204)
    assert.equal(await webhooks.get(created.id), undefined)
    await assertProblem(
      await app.request(`/v1/webhooks/${created.id}`, { method: 'DELETE', headers: AUTH }),
      404,
    )
    const remaining = (await (
      await app.request('/v1/webhooks', { headers: AUTH })
    ).json()) as WebhookList
    assert.deepEqual(
      remaining.webhooks.map((endpoint) => endpoint.id).sort(),
      [third.id, plainHttp?.id].sort(),
    )
  })

  // Found in review: an empty change built an UpdateExpression of "SET " alone (500).
  it('answers a PATCH with nothing to change with the endpoint as it is', async () => {
    const created = (await (
      await post(JSON.stringify({ url: 'https://app.example.com/same', description: 'kept' }))
    ).json()) as CreatedWebhook
    const patched = await app.request(`/v1/webhooks/${created.id}`, {
      method: 'PATCH',
      headers: JSON_AUTH,
      body: '{}',
    })
    assert.equal(patched.status, 200)
    const body = (await patched.json()) as { id: string; description: string }
    assert.deepEqual([body.id, body.description], [created.id, 'kept'])
    await assertProblem(
      await app.request('/v1/webhooks/wh_00000000000000000000', {
        method: 'PATCH',
        headers: JSON_AUTH,
        body: '{}',
      }),
      404,
    )
  })

  it('answers 404 for an id that is not an endpoint', async () => {
    for (const id of ['wh_00000000000000000000', 'nope', '..%2Fmailboxes']) {
      await assertProblem(
        await app.request(`/v1/webhooks/${id}`, { method: 'DELETE', headers: AUTH }),
        404,
      )
    }
  })

  it('refuses bodies that are not JSON or not a valid endpoint with 400', async () => {
    const cases: [string, RegExp][] = [
      ['{"url":', /Malformed JSON/],
      ['[]', /expected object/],
      ['{}', /url: is required/],
      ['{"url":"ftp://example.com/x"}', /url: must be an absolute http\(s\) URL/],
      ['{"url":"/relative/path"}', /url: must be an absolute/],
      ['{"url":"javascript:alert(1)"}', /url: must be an absolute/],
      ['{"url":"https://a.example","mailbox":""}', /mailbox/],
      ['{"url":"https://a.example","mailbox":42}', /mailbox/],
      // A misspelt field must not quietly subscribe to every mailbox.
      ['{"url":"https://a.example","mailBox":"bob@example.com"}', /mailBox/],
      // Found in review: these were stored, the first never to fire, the second with a line
      // break that the test event wrote into its To: header.
      ['{"url":"https://a.example","routes":["no-such-route"]}', /routes: no route no-such-route/],
      ['{"url":"https://a.example","routes":["bad#id with spaces"]}', /routes.*not a route id/],
      [
        '{"url":"https://a.example","mailbox":"x\\r\\nBcc: evil@x.example"}',
        /mailbox: must be an address/,
      ],
      ['{"url":"https://a.example","mailbox":"not an address"}', /mailbox: must be an address/],
    ]
    const stored = (await webhooks.list()).length
    for (const [body, detail] of cases) {
      const problem = await assertProblem(await post(body), 400)
      assert.match(problem.detail, detail, body)
    }
    const missing = await app.request('/v1/webhooks', { method: 'POST', headers: AUTH })
    await assertProblem(missing, 400)
    assert.equal((await webhooks.list()).length, stored)
  })

  it('refuses a body that is not declared as JSON with 415', async () => {
    const res = await post('{"url":"https://a.example"}', { ...AUTH, 'Content-Type': 'text/plain' })

    await assertProblem(res, 415)
  })

  it('refuses bodies over 1 MiB with 413, declared or streamed', async () => {
    const big = JSON.stringify({ url: 'https://a.example', pad: 'x'.repeat(MAX_BODY_BYTES) })
    const stored = (await webhooks.list()).length

    const declared = await post(big, { ...JSON_AUTH, 'Content-Length': String(big.length) })
    const streamed = await app.request('/v1/webhooks', {
      method: 'POST',
      headers: JSON_AUTH,
      body: new Blob([big]).stream(),
      duplex: 'half',
    } as RequestInit)

    await assertProblem(declared, 413)
    await assertProblem(streamed, 413)
    assert.equal((await webhooks.list()).length, stored)
  })
})
