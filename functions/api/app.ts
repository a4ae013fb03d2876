/**
 * The HTTP API: a Hono app with injected stores, the same in Lambda, local mode and tests.
 * Every error leaves as application/problem+json (RFC 9457).
 */
import { OpenAPIHono } from '@hono/zod-openapi'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import type { ZodError } from 'zod'
import type { Root, Stores } from '../../shared/compose.ts'
import { ConfigError } from '../../shared/errors.ts'
import { createLogger, type Logger } from '../../shared/logger.ts'
import { sqsWebhookQueue, type WebhookQueue } from '../../shared/webhook-queue.ts'
import { type AddressPolicy, STRICT_POLICY } from '../deliver/address-policy.ts'
import { createWebhookAgent, type WebhookAgent } from '../deliver/http-client.ts'
import { bearerAuth } from './auth.ts'
import { ApiError } from './errors.ts'
import { problemResponse } from './problem.ts'
import { registerMailboxRoutes } from './routes-mailboxes.ts'
import { registerRouteRoutes } from './routes-routing.ts'
import { registerWebhookDeliveryRoutes, type WebhookSender } from './routes-webhook-deliveries.ts'
import { registerWebhookRoutes } from './routes-webhooks.ts'
import { webhookDocs } from './webhook-docs.ts'

/** Largest request body, in bytes: webhook definitions are tiny, anything bigger is abuse. */
export const MAX_BODY_BYTES = 1024 * 1024
export const OPENAPI_PATH = '/v1/openapi.json'
const API_VERSION = '1.0.0'

export interface ApiDeps {
  stores: Pick<
    Stores,
    'messages' | 'mailboxes' | 'endpoints' | 'deliveries' | 'attempts' | 'routes'
  >
  /** The key clients send as `Authorization: Bearer <key>`. */
  apiKey: string
  logger?: Logger
  /** What webhook URLs may reach; https to public addresses unless given. */
  webhookPolicy?: AddressPolicy
  /** The client test events go through and the queue replays go to. */
  webhookSender?: WebhookSender
}

/** The API over the composition root, with the key of its config (MAILBRIDGE_API_KEY). */
export function createApiApp(root: Root, apiKey = root.config.api.key): OpenAPIHono {
  if (apiKey === undefined) {
    throw new ConfigError('MAILBRIDGE_API_KEY is not set: the API refuses to run without a key')
  }
  const policy = root.config.webhooks
  return createApp({
    stores: root.stores,
    apiKey,
    webhookPolicy: policy,
    webhookSender: senderOf(policy, sqsWebhookQueue(root.clients.sqs, root.config.webhookQueue)),
  })
}

/**
 * A sender whose client (its connection pools) is made on the first test event, not at
 * cold start: only a test event uses it.
 */
function senderOf(policy: AddressPolicy, queue: WebhookQueue): WebhookSender {
  let agent: WebhookAgent | undefined
  return {
    get agent() {
      agent ??= createWebhookAgent({ policy })
      return agent
    },
    queue,
  }
}

/** For an app built without a queue (tests of other routes): replays are refused loudly. */
const NO_QUEUE = {
  send() {
    return Promise.reject(new Error('this API was built without a webhook queue'))
  },
}

/** Zod issues as one line, e.g. `query.limit: Too big: expected number to be <=200`. */
function describeIssues(target: string, error: ZodError): string {
  return error.issues
    .map((issue) => `${[target, ...issue.path.map(String)].join('.')}: ${issue.message}`)
    .join('; ')
}

export function createApp(deps: ApiDeps): OpenAPIHono {
  const logger = deps.logger ?? createLogger('api')
  const app = new OpenAPIHono({
    defaultHook: (result) => {
      if (!result.success) return problemResponse(400, describeIssues(result.target, result.error))
    },
  })

  const auth = bearerAuth(deps.apiKey)
  app.use('/v1/*', async (c, next) => {
    // The OpenAPI document is public, so clients can be generated before a key exists.
    if (c.req.path === OPENAPI_PATH) return next()
    return auth(c, next)
  })
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () =>
        problemResponse(413, `The request body is larger than ${MAX_BODY_BYTES} bytes`),
    }),
  )

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'The API key (MAILBRIDGE_API_KEY)',
  })
  registerMailboxRoutes(app, deps.stores)
  const policy = deps.webhookPolicy ?? STRICT_POLICY
  registerWebhookRoutes(app, deps.stores, policy)
  registerWebhookDeliveryRoutes(app, deps.stores, deps.webhookSender ?? senderOf(policy, NO_QUEUE))
  webhookDocs(app)
  registerRouteRoutes(app, deps.stores)
  app.doc31(OPENAPI_PATH, {
    openapi: '3.1.0',
    info: { title: 'mailbridge API', version: API_VERSION },
    security: [{ bearerAuth: [] }],
  })

  app.notFound((c) => problemResponse(404, `No route for ${c.req.method} ${c.req.path}`))
  app.onError((error, c) => {
    if (error instanceof ApiError) {
      return problemResponse(error.status, error.message, error.headers)
    }
    // Hono's own: malformed JSON (400), unsupported media type (415) and the like.
    if (error instanceof HTTPException && error.status < 500) {
      const detail = error.status === 415 ? 'The body must be application/json' : error.message
      return problemResponse(error.status, detail || 'The request was refused')
    }
    logger.error({ err: error, method: c.req.method, path: c.req.path }, 'request failed')
    // Nothing from the error reaches the client: it may name buckets, keys or hosts.
    return problemResponse(500, 'An unexpected error occurred; it has been logged')
  })
  return app
}
