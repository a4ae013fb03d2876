/**
 * What happened to webhooks: the attempt log of an endpoint, the notifications of a
 * message, a replay of one event or of every failed one since a time, and a test ping.
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import type { Stores } from '../../shared/compose.ts'
import type { WebhookJob } from '../../shared/contracts/webhook-job.ts'
import { InvalidCursorError } from '../../shared/errors.ts'
import { isMessageId } from '../../shared/message-id.ts'
import { mailboxName } from '../../shared/store/keys.ts'
import type { WebhookQueue } from '../../shared/webhook-queue.ts'
import type { WebhookAgent } from '../deliver/http-client.ts'
import { BadRequestError, ConflictError, NotFoundError } from './errors.ts'
import { noEndpoint, unauthorized } from './routes-webhooks.ts'
import {
  AttemptPageSchema,
  AttemptQuerySchema,
  DeliveryListSchema,
  MessageParamsSchema,
  problemContent,
  ReplayedSchema,
  ReplaySchema,
  TestResultSchema,
  WebhookParamsSchema,
} from './schemas.ts'

/** Most failed events one replay-since request queues again. */
const MAX_REPLAY = 1000

const listAttempts = createRoute({
  method: 'get',
  path: '/v1/webhooks/{id}/attempts',
  summary: "An endpoint's attempt log, newest first",
  request: { params: WebhookParamsSchema, query: AttemptQuerySchema },
  responses: {
    200: {
      description: 'A page of attempts',
      content: { 'application/json': { schema: AttemptPageSchema } },
    },
    400: problemContent('A bad limit, status or cursor'),
    401: unauthorized,
    404: noEndpoint,
  },
})

const replay = createRoute({
  method: 'post',
  path: '/v1/webhooks/{id}/replay',
  summary: 'Send one event again, or every failed event of messages received since a time',
  request: {
    params: WebhookParamsSchema,
    body: { required: true, content: { 'application/json': { schema: ReplaySchema } } },
  },
  responses: {
    202: {
      description: 'Queued again',
      content: { 'application/json': { schema: ReplayedSchema } },
    },
    400: problemContent('Neither a message id nor a time'),
    401: unauthorized,
    404: problemContent('No such endpoint, or no record of that event for it'),
    409: problemContent('The event is still on its way (queued or retrying)'),
  },
})

const testWebhook = createRoute({
  method: 'post',
  path: '/v1/webhooks/{id}/test',
  summary: 'Send a signed test event now and return what the receiver answered',
  request: { params: WebhookParamsSchema },
  responses: {
    200: {
      description: 'The attempt',
      content: { 'application/json': { schema: TestResultSchema } },
    },
    401: unauthorized,
    404: noEndpoint,
  },
})

const listDeliveries = createRoute({
  method: 'get',
  path: '/v1/mailboxes/{address}/messages/{id}/deliveries',
  summary: "Where each of a message's webhooks stands",
  request: { params: MessageParamsSchema },
  responses: {
    200: {
      description: 'One per endpoint',
      content: { 'application/json': { schema: DeliveryListSchema } },
    },
    401: unauthorized,
    404: problemContent('No such message'),
  },
})

export interface WebhookSender {
  /** The checked client a test event goes through. */
  agent: WebhookAgent
  /** Where replays go. */
  queue: WebhookQueue
}

export function registerWebhookDeliveryRoutes(
  app: OpenAPIHono,
  stores: Pick<Stores, 'endpoints' | 'deliveries' | 'attempts' | 'mailboxes'>,
  sender: WebhookSender,
): void {
  const { endpoints, deliveries, attempts, mailboxes } = stores

  async function endpointOf(id: string) {
    const endpoint = await endpoints.get(id)
    if (endpoint === undefined) throw new NotFoundError(`No webhook endpoint ${id}`)
    return endpoint
  }

  /** Reopens a settled notification and queues it; the message id, or undefined when it cannot be. */
  async function replayOne(
    endpointId: string,
    messageId: string,
  ): Promise<'queued' | 'pending' | 'unknown'> {
    const current = await deliveries.get(messageId, endpointId)
    if (current === undefined || current.mailboxes === undefined || current.rcptTo === undefined) {
      return 'unknown'
    }
    const reopened = await deliveries.reopen(messageId, endpointId)
    if (reopened === undefined) return 'pending'
    const job: WebhookJob = {
      v: 1,
      messageId,
      endpointId,
      mailboxes: current.mailboxes,
      rcptTo: current.rcptTo,
      attempts: reopened.attempts,
      run: 0,
      trigger: 'replay',
    }
    await sender.queue.send(job)
    return 'queued'
  }

  app.openapi(listAttempts, async (c) => {
    const { id } = c.req.valid('param')
    const { limit, cursor, status } = c.req.valid('query')
    await endpointOf(id)
    try {
      const page = await attempts.page(id, { limit, cursor, status })
      return c.json({ attempts: page.items, nextCursor: page.nextCursor }, 200)
    } catch (error) {
      if (error instanceof InvalidCursorError) throw new BadRequestError('cursor is not valid')
      throw error
    }
  })

  app.openapi(replay, async (c) => {
    const { id } = c.req.valid('param')
    const body = c.req.valid('json')
    await endpointOf(id)
    if ('messageId' in body) {
      const result = isMessageId(body.messageId) ? await replayOne(id, body.messageId) : 'unknown'
      if (result === 'unknown') {
        throw new NotFoundError(`No record of message ${body.messageId} for endpoint ${id}`)
      }
      if (result === 'pending') {
        throw new ConflictError(`The webhook of message ${body.messageId} is still on its way`)
      }
      return c.json({ replayed: [body.messageId] }, 202)
    }
    const failed = (await attempts.failedSince(id, new Date(body.since))).slice(0, MAX_REPLAY)
    const replayed: string[] = []
    for (const messageId of failed) {
      if ((await replayOne(id, messageId)) === 'queued') replayed.push(messageId)
    }
    return c.json({ replayed }, 202)
  })

  app.openapi(testWebhook, async (c) => {
    const endpoint = await endpointOf(c.req.valid('param').id)
    // Loaded on the first test event, as its client is (app.ts): it parses and renders a
    // sample message, and no other route needs the MIME parser at the API's cold start.
    const { sendTestEvent } = await import('../deliver/test-event.ts')
    const result = await sendTestEvent(sender.agent, endpoint, attempts)
    return c.json(
      {
        ok: result.ok,
        webhookId: result.webhookId,
        httpStatus: result.httpStatus ?? null,
        latencyMs: result.latencyMs,
        response: result.response,
        error: result.error ?? null,
      },
      200,
    )
  })

  app.openapi(listDeliveries, async (c) => {
    const params = c.req.valid('param')
    const mailbox = mailboxName(params.address)
    const entry = isMessageId(params.id) ? await mailboxes.get(mailbox, params.id) : undefined
    if (entry === undefined) throw new NotFoundError(`No message ${params.id} in ${mailbox}`)
    const all = await deliveries.ofMessage(params.id)
    // Only this mailbox's: another mailbox's endpoints are not this mailbox's business.
    const mine = all.filter((delivery) => delivery.mailboxes?.includes(mailbox) ?? true)
    return c.json({ deliveries: mine }, 200)
  })
}
