/**
 * Webhook endpoints: create (the only time the secret is shown), list, read, change,
 * rotate the secret, delete. The attempt log, replay and test ping are in
 * routes-webhook-deliveries.ts.
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import type { Stores } from '../../shared/compose.ts'
import type { WebhookEndpoint } from '../../shared/contracts/webhook.ts'
import type { Webhook } from '../../shared/contracts/webhook-api.ts'
import { mailboxName } from '../../shared/store/keys.ts'
import { type AddressPolicy, urlRefusal } from '../deliver/address-policy.ts'
import { BadRequestError, NotFoundError } from './errors.ts'
import {
  CreatedWebhookSchema,
  CreateWebhookSchema,
  problemContent,
  RotatedSecretSchema,
  RotateSecretSchema,
  UpdateWebhookSchema,
  WebhookListSchema,
  WebhookParamsSchema,
  WebhookSchema,
} from './schemas.ts'

/** How long a rotated-out key keeps signing when the request does not say (s). */
const DEFAULT_OVERLAP_SECONDS = 24 * 3600

export const unauthorized = problemContent('No API key, or a wrong one')
export const noEndpoint = problemContent('No such endpoint')

const tooLarge = problemContent('The body is larger than 1 MiB')
const notJson = problemContent('The body is not application/json')

const createWebhook = createRoute({
  method: 'post',
  path: '/v1/webhooks',
  summary: 'Register a webhook endpoint',
  request: {
    body: { required: true, content: { 'application/json': { schema: CreateWebhookSchema } } },
  },
  responses: {
    201: {
      description: 'Created; keep the secret, it is not shown again',
      content: { 'application/json': { schema: CreatedWebhookSchema } },
    },
    400: problemContent(
      'The body is not JSON, not a valid endpoint, its URL can never be reached, or a route it names does not exist',
    ),
    401: unauthorized,
    413: tooLarge,
    415: notJson,
  },
})

const listWebhooks = createRoute({
  method: 'get',
  path: '/v1/webhooks',
  summary: 'List webhook endpoints (without their secrets)',
  responses: {
    200: {
      description: 'Endpoints, oldest first',
      content: { 'application/json': { schema: WebhookListSchema } },
    },
    401: unauthorized,
  },
})

const getWebhook = createRoute({
  method: 'get',
  path: '/v1/webhooks/{id}',
  summary: 'Read a webhook endpoint (without its secret)',
  request: { params: WebhookParamsSchema },
  responses: {
    200: {
      description: 'The endpoint',
      content: { 'application/json': { schema: WebhookSchema } },
    },
    401: unauthorized,
    404: noEndpoint,
  },
})

const updateWebhook = createRoute({
  method: 'patch',
  path: '/v1/webhooks/{id}',
  summary: 'Change a webhook endpoint; enabling it again clears why it was disabled',
  request: {
    params: WebhookParamsSchema,
    body: { required: true, content: { 'application/json': { schema: UpdateWebhookSchema } } },
  },
  responses: {
    200: { description: 'Changed', content: { 'application/json': { schema: WebhookSchema } } },
    400: problemContent(
      'Not a valid change, the URL can never be reached, or a route it names does not exist',
    ),
    401: unauthorized,
    404: noEndpoint,
    413: tooLarge,
    415: notJson,
  },
})

const rotateSecret = createRoute({
  method: 'post',
  path: '/v1/webhooks/{id}/rotate-secret',
  summary: 'Replace the signing secret; the old one keeps signing beside it for the overlap',
  request: {
    params: WebhookParamsSchema,
    body: { required: false, content: { 'application/json': { schema: RotateSecretSchema } } },
  },
  responses: {
    200: {
      description: 'The new secret; keep it, it is not shown again',
      content: { 'application/json': { schema: RotatedSecretSchema } },
    },
    400: problemContent('The body is not a valid overlap'),
    401: unauthorized,
    404: noEndpoint,
    413: tooLarge,
    415: notJson,
  },
})

const deleteWebhook = createRoute({
  method: 'delete',
  path: '/v1/webhooks/{id}',
  summary: 'Delete a webhook endpoint',
  request: { params: WebhookParamsSchema },
  responses: { 204: { description: 'Deleted' }, 401: unauthorized, 404: noEndpoint },
})

/** The endpoint as the API shows it, built field by field: the record holds its secrets. */
export function publicView(endpoint: WebhookEndpoint, now = Date.now()): Webhook {
  const {
    secret: _secret,
    signingKey: _signingKey,
    previousKeys,
    pausedUntil: _pausedUntil,
    ...shown
  } = endpoint
  const live = previousKeys.filter((key) => Date.parse(key.until) > now)
  const rotatingUntil =
    live
      .map((key) => key.until)
      .sort()
      .at(-1) ?? null
  return { ...shown, rotatingUntil }
}

function checkUrl(url: string, policy: AddressPolicy): void {
  const why = urlRefusal(url, policy)
  if (why !== undefined) throw new BadRequestError(`body.url: ${why}`)
}

/** Refuses route ids that name no route: an endpoint listening to one would never hear. */
async function checkRoutes(ids: string[] | undefined, routes: Stores['routes']): Promise<void> {
  if (!ids?.length) return
  const known = new Set((await routes.list()).map((route) => route.id))
  const missing = ids.find((id) => !known.has(id))
  if (missing !== undefined) throw new BadRequestError(`body.routes: no route ${missing}`)
}

export function registerWebhookRoutes(
  app: OpenAPIHono,
  { endpoints, routes }: Pick<Stores, 'endpoints' | 'routes'>,
  policy: AddressPolicy,
): void {
  async function endpointOf(id: string): Promise<WebhookEndpoint> {
    const endpoint = await endpoints.get(id)
    if (endpoint === undefined) throw new NotFoundError(`No webhook endpoint ${id}`)
    return endpoint
  }

  app.openapi(createWebhook, async (c) => {
    const body = c.req.valid('json')
    checkUrl(body.url, policy)
    await checkRoutes(body.routes, routes)
    const mailbox = body.mailbox == null ? null : mailboxName(body.mailbox)
    const endpoint = await endpoints.create({ ...body, mailbox })
    return c.json({ ...publicView(endpoint), secret: endpoint.secret }, 201)
  })

  app.openapi(listWebhooks, async (c) => {
    const list = await endpoints.list()
    return c.json({ webhooks: list.map((endpoint) => publicView(endpoint)) }, 200)
  })

  app.openapi(getWebhook, async (c) => {
    return c.json(publicView(await endpointOf(c.req.valid('param').id)), 200)
  })

  app.openapi(updateWebhook, async (c) => {
    const { id } = c.req.valid('param')
    const body = c.req.valid('json')
    if (body.url !== undefined) checkUrl(body.url, policy)
    await checkRoutes(body.routes, routes)
    const endpoint = await endpoints.update(id, body)
    if (endpoint === undefined) throw new NotFoundError(`No webhook endpoint ${id}`)
    return c.json(publicView(endpoint), 200)
  })

  app.openapi(rotateSecret, async (c) => {
    const { id } = c.req.valid('param')
    const text = await c.req.text()
    const parsed = RotateSecretSchema.safeParse(text === '' ? {} : JSON.parse(text))
    if (!parsed.success) throw new BadRequestError(`body: ${parsed.error.issues[0]?.message}`)
    const overlap = parsed.data.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS
    await endpointOf(id)
    const endpoint = await endpoints.rotate(id, overlap * 1000)
    if (endpoint === undefined) throw new NotFoundError(`No webhook endpoint ${id}`)
    const rotatingUntil = endpoint.previousKeys[0]?.until ?? new Date().toISOString()
    return c.json(
      {
        secret: endpoint.secret,
        ...(endpoint.publicKey && { publicKey: endpoint.publicKey }),
        rotatingUntil,
      },
      200,
    )
  })

  app.openapi(deleteWebhook, async (c) => {
    const { id } = c.req.valid('param')
    if (!(await endpoints.delete(id))) throw new NotFoundError(`No webhook endpoint ${id}`)
    return c.body(null, 204)
  })
}
