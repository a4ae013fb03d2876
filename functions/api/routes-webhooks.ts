/** Webhook endpoints: create (the only time the secret is shown), list, delete. */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import type { EndpointStore } from '../../shared/store/endpoints.ts'
import { mailboxName } from '../../shared/store/keys.ts'
import { NotFoundError } from './errors.ts'
import {
  CreatedWebhookSchema,
  CreateWebhookSchema,
  problemContent,
  WebhookListSchema,
  WebhookParamsSchema,
} from './schemas.ts'

const unauthorized = problemContent('No API key, or a wrong one')

const createWebhook = createRoute({
  method: 'post',
  path: '/v1/webhooks',
  summary: 'Register a webhook endpoint',
  request: {
    body: {
      required: true,
      content: { 'application/json': { schema: CreateWebhookSchema } },
    },
  },
  responses: {
    201: {
      description: 'Created; keep the secret, it is not shown again',
      content: { 'application/json': { schema: CreatedWebhookSchema } },
    },
    400: problemContent('The body is not JSON or not a valid endpoint'),
    401: unauthorized,
    413: problemContent('The body is larger than 1 MiB'),
    415: problemContent('The body is not application/json'),
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

const deleteWebhook = createRoute({
  method: 'delete',
  path: '/v1/webhooks/{id}',
  summary: 'Delete a webhook endpoint',
  request: { params: WebhookParamsSchema },
  responses: {
    204: { description: 'Deleted' },
    401: unauthorized,
    404: problemContent('No such endpoint'),
  },
})

export function registerWebhookRoutes(app: OpenAPIHono, webhooks: EndpointStore): void {
  app.openapi(createWebhook, async (c) => {
    const body = c.req.valid('json')
    const mailbox = body.mailbox == null ? null : mailboxName(body.mailbox)
    const { id, secret, url } = await webhooks.create({ url: body.url, mailbox })
    return c.json({ id, secret, url, mailbox }, 201)
  })

  app.openapi(listWebhooks, async (c) => {
    const endpoints = await webhooks.list()
    // Built field by field: the stored record holds the secret, which must never be listed.
    const list = endpoints.map(({ id, url, mailbox, createdAt }) => ({
      id,
      url,
      mailbox,
      createdAt,
    }))
    return c.json({ webhooks: list }, 200)
  })

  app.openapi(deleteWebhook, async (c) => {
    const { id } = c.req.valid('param')
    if (!(await webhooks.delete(id))) throw new NotFoundError(`No webhook endpoint ${id}`)
    return c.body(null, 204)
  })
}
