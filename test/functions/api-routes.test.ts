/**
 * /v1/routes against the emulated store: create, read, replace, delete, each change
 * published as the snapshot the edge and ingest read; bad routes are a 400 that says why.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { OpenAPIHono } from '@hono/zod-openapi'
import { createApp } from '../../functions/api/app.ts'
import type { Problem } from '../../functions/api/problem.ts'
import { createS3Client } from '../../shared/aws-clients.ts'
import type { Route, RouteSet } from '../../shared/contracts/route.ts'
import { createLogger } from '../../shared/logger.ts'
import { ROUTES_KEY } from '../../shared/store/keys.ts'
import { S3Objects } from '../../shared/store/objects.ts'
import { RouteSnapshot } from '../../shared/store/route-snapshot.ts'
import { type Emulator, startEmulator } from '../helpers/emulator.ts'
import { startFaultProxy } from '../helpers/fault-proxy.ts'

const API_KEY = 'test-key-routes'
const JSON_AUTH = { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' }

type RouteWithStats = Route & { stats: { matched: number; dropped: number } }

describe('api: routes', () => {
  let emulator: Emulator
  let app: OpenAPIHono
  const call = (method: string, path: string, body?: unknown) =>
    app.request(path, {
      method,
      headers: JSON_AUTH,
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  const snapshot = () => emulator.root.stores.objects.getJson<RouteSet>(ROUTES_KEY)

  before(async () => {
    emulator = await startEmulator()
    app = createApp({ stores: emulator.root.stores, apiKey: API_KEY })
  })
  after(() => emulator.stop())

  it('a store without routes lists the default catch-all, and no snapshot exists yet', async () => {
    const res = await call('GET', '/v1/routes')
    assert.equal(res.status, 200)
    const body = (await res.json()) as { routes: RouteWithStats[]; unrouted: number }
    assert.deepEqual(
      body.routes.map((r) => [r.id, r.match.recipient.type]),
      [['default', 'catchAll']],
    )
    assert.equal(body.unrouted, 0)
    assert.equal(await snapshot(), undefined)
  })

  it('creates, reads, replaces and deletes a route; each change is published', async () => {
    const input = {
      priority: 10,
      description: 'support queue',
      match: { recipient: { type: 'wildcard', value: 'support-*@example.com' } },
      actions: [{ type: 'store', mailbox: 'support@example.com' }, { type: 'stop' }],
    }
    const created = await call('POST', '/v1/routes', input)
    assert.equal(created.status, 201)
    const route = (await created.json()) as RouteWithStats
    assert.match(route.id, /^rt_[0-9a-f]{20}$/)
    assert.equal(route.enabled, true)
    assert.equal(route.match.address, 'base')
    assert.deepEqual(route.stats, { matched: 0, dropped: 0 })

    // The first change wrote the defaults too, so that nothing the store applied vanishes.
    const published = await snapshot()
    assert.deepEqual(
      published?.routes.map((r) => r.id),
      [route.id, 'default'],
    )

    const read = await call('GET', `/v1/routes/${route.id}`)
    assert.equal(read.status, 200)
    assert.equal(((await read.json()) as Route).description, 'support queue')

    const replaced = await call('PUT', `/v1/routes/${route.id}`, { ...input, enabled: false })
    assert.equal(replaced.status, 200)
    assert.equal(((await replaced.json()) as Route).enabled, false)
    const versionAfterPut = (await snapshot())?.version ?? 0
    assert.ok(versionAfterPut > (published?.version ?? 0))

    const named = await call('PUT', '/v1/routes/archive', {
      match: { recipient: { type: 'regex', value: '^(?<user>[a-z]+)@old\\.example\\.com$' } },
      actions: [{ type: 'store', mailbox: '{user}@archive.example.com' }],
    })
    assert.equal(named.status, 201)

    assert.equal((await call('DELETE', `/v1/routes/${route.id}`)).status, 204)
    assert.equal((await call('DELETE', `/v1/routes/${route.id}`)).status, 404)
    assert.equal((await call('GET', `/v1/routes/${route.id}`)).status, 404)
    assert.deepEqual(
      (await snapshot())?.routes.map((r) => r.id),
      ['archive', 'default'],
    )
  })

  it('refuses routes that cannot work, saying why', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [
        {
          match: { recipient: { type: 'regex', value: '(a)\\1@x' } },
          actions: [{ type: 'store' }],
        },
        /RE2/,
      ],
      [
        {
          match: { recipient: { type: 'regex', value: '^(?<u>.+)@x$' } },
          actions: [{ type: 'store', mailbox: '{user}@y' }],
        },
        /\{user\}/,
      ],
      [
        {
          match: { recipient: { type: 'catchAll' } },
          actions: [{ type: 'notify', endpoints: ['wh_00000000000000000000'] }],
        },
        /no webhook endpoint wh_0+/,
      ],
      [
        { match: { recipient: { type: 'catchAll' } }, actions: [{ type: 'stop' }] },
        /needs a store/,
      ],
      [{ match: { recipient: { type: 'sometimes' } }, actions: [{ type: 'store' }] }, /recipient/],
      [{ match: { recipient: { type: 'catchAll' } }, actions: [], priority: 1 }, /actions/],
    ]
    for (const [body, detail] of cases) {
      const res = await call('POST', '/v1/routes', body)
      assert.equal(res.status, 400, JSON.stringify(body))
      assert.equal(res.headers.get('content-type'), 'application/problem+json')
      assert.match(((await res.json()) as Problem).detail, detail)
    }
    const badId = await call('PUT', '/v1/routes/no%20spaces', {
      match: { recipient: { type: 'catchAll' } },
      actions: [{ type: 'store' }],
    })
    assert.equal(badId.status, 400)
  })

  it('a notify action names endpoints that exist', async () => {
    const created = await call('POST', '/v1/webhooks', { url: 'https://app.example.com/in' })
    const { id } = (await created.json()) as { id: string }
    const res = await call('POST', '/v1/routes', {
      match: { recipient: { type: 'domain', value: 'hooks.example.com' } },
      actions: [{ type: 'notify', endpoints: [id] }],
    })
    assert.equal(res.status, 201)
  })

  it("sets, reads and removes a mailbox's own quota, published with the routes", async () => {
    const path = `/v1/mailboxes/${encodeURIComponent('Full@Example.com')}/quota`
    assert.equal((await call('GET', path)).status, 404)
    const set = await call('PUT', path, { messages: 10, reply: 'permanent' })
    assert.equal(set.status, 200)
    assert.deepEqual(await set.json(), { messages: 10, reply: 'permanent' })
    assert.deepEqual((await snapshot())?.quotas, {
      'full@example.com': { messages: 10, reply: 'permanent' },
    })
    assert.deepEqual(await (await call('GET', path)).json(), { messages: 10, reply: 'permanent' })
    assert.equal((await call('PUT', path, { reply: 'temporary' })).status, 400)
    assert.equal((await call('DELETE', path)).status, 204)
    assert.deepEqual((await snapshot())?.quotas, {})
    assert.equal((await call('GET', path)).status, 404)
  })

  it('the routes are in the OpenAPI document', async () => {
    const doc = (await (await app.request('/v1/openapi.json')).json()) as {
      paths: Record<string, Record<string, unknown>>
      components: { schemas: Record<string, unknown> }
    }
    assert.deepEqual(Object.keys(doc.paths['/v1/routes'] ?? {}).sort(), ['get', 'post'])
    assert.deepEqual(Object.keys(doc.paths['/v1/routes/{id}'] ?? {}).sort(), [
      'delete',
      'get',
      'put',
    ])
    for (const name of ['RouteList', 'RouteInput', 'RouteAction', 'AddressPattern', 'Quota']) {
      assert.ok(doc.components.schemas[name], name)
    }
  })

  it('a snapshot reader follows the changes, and keeps its copy when the bucket fails', async () => {
    const reader = new RouteSnapshot(emulator.root.stores.objects, {
      delimiters: '+',
      maxAgeMs: 0,
      logger: createLogger('test-routes'),
    })
    const before = await reader.table()
    const version = reader.version
    assert.ok(version > 0)
    await call('PUT', '/v1/routes/late', {
      match: { recipient: { type: 'exact', value: 'late@example.com' } },
      actions: [{ type: 'store' }],
    })
    const after = await reader.table()
    assert.ok(reader.version > version)
    assert.equal(after.size, before.size + 1)

    // Through a proxy that starts failing: the copy held stays in use.
    const proxy = await startFaultProxy(emulator.endpoint)
    try {
      const s3 = createS3Client({ ...emulator.config.aws, endpoint: proxy.endpoint })
      const flaky = new RouteSnapshot(new S3Objects(s3, emulator.config.bucket), {
        delimiters: '+',
        maxAgeMs: 0,
        logger: createLogger('test-routes'),
      })
      const held = await flaky.table()
      proxy.fault = { target: 'S3', status500: true }
      assert.equal(await flaky.table(), held)
      assert.equal(
        (await flaky.decide({ recipient: 'late@example.com', sender: '' })).routes[0],
        'late',
      )
      s3.destroy()

      // One that never had a copy says so, and does not guess.
      const fresh = new RouteSnapshot(new S3Objects(s3, emulator.config.bucket), {
        delimiters: '+',
        maxAgeMs: 0,
        logger: createLogger('test-routes'),
      })
      await assert.rejects(fresh.table(), { name: 'RoutesUnavailableError' })
    } finally {
      await proxy.close()
    }
  })
})
