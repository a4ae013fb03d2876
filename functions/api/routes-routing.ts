/**
 * Routes (/v1/routes): list, create, read, replace and delete the rules that decide where
 * each recipient's mail goes; and a mailbox's own quota (/v1/mailboxes/{address}/quota),
 * published with them since the edge checks both at RCPT time. Every change is published to the edge and ingest at once
 * (RouteStore.publish); a route RE2 cannot run or that contradicts itself is a 400.
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import * as z from 'zod/mini'
import type { Stores } from '../../shared/compose.ts'
import { MAX_ROUTES, ROUTE_ID, type Route, RouteSchema } from '../../shared/contracts/route.ts'
import { meta } from '../../shared/contracts/zod-mini.ts'
import { routeProblems } from '../../shared/routing/route-table.ts'
import { mailboxName } from '../../shared/store/keys.ts'
import { newRouteId, type RouteStats, UNROUTED } from '../../shared/store/routes.ts'
import { BadRequestError, NotFoundError } from './errors.ts'
import {
  MailboxParamsSchema,
  problemContent,
  QuotaSchema,
  RouteInputSchema,
  routeParameters,
  routeSchema,
} from './schemas.ts'

// RouteSchema, extended as its `.extend()` would (a strict object: zod/mini has no method).
const RouteWithStats = meta(
  z.strictObject({
    ...RouteSchema.shape,
    /** Recipients this route matched, and how many of them it dropped, since it was created. */
    stats: z.object({
      matched: z.number().check(z.int()),
      dropped: z.number().check(z.int()),
    }),
  }),
  { id: 'RouteWithStats' },
)
const RouteWithStatsSchema = routeSchema(RouteWithStats)

const RouteListSchema = routeSchema(
  meta(
    z.object({
      routes: meta(z.array(RouteWithStats), { description: 'In evaluation order' }),
      /** Recipients accepted at RCPT time that no route matched once the headers were known. */
      unrouted: z.number().check(z.int()),
    }),
    { id: 'RouteList' },
  ),
)

const RouteParamsSchema = routeParameters(
  z.object({
    id: meta(z.string(), {
      example: 'rt_0123456789abcdef0123',
      param: { name: 'id', in: 'path' },
    }),
  }),
)

const unauthorized = problemContent('No API key, or a wrong one')
const body = {
  required: true,
  content: { 'application/json': { schema: RouteInputSchema } },
}
const routeContent = (description: string) => ({
  description,
  content: { 'application/json': { schema: RouteWithStatsSchema } },
})
const badBody = problemContent(
  'The body is not a valid route: a pattern RE2 cannot run, an unknown placeholder or endpoint, contradictory actions',
)

const listRoutes = createRoute({
  method: 'get',
  path: '/v1/routes',
  summary: 'List routes, in the order they are evaluated',
  responses: {
    200: { description: 'Routes', content: { 'application/json': { schema: RouteListSchema } } },
    401: unauthorized,
  },
})

const createRouteOp = createRoute({
  method: 'post',
  path: '/v1/routes',
  summary: 'Create a route',
  request: { body },
  responses: { 201: routeContent('Created and published'), 400: badBody, 401: unauthorized },
})

const getRouteOp = createRoute({
  method: 'get',
  path: '/v1/routes/{id}',
  summary: 'Read a route',
  request: { params: RouteParamsSchema },
  responses: {
    200: routeContent('The route'),
    401: unauthorized,
    404: problemContent('No such route'),
  },
})

const putRouteOp = createRoute({
  method: 'put',
  path: '/v1/routes/{id}',
  summary: 'Create or replace a route under an id of your choosing',
  request: { params: RouteParamsSchema, body },
  responses: {
    200: routeContent('Replaced and published'),
    201: routeContent('Created and published'),
    400: badBody,
    401: unauthorized,
  },
})

const deleteRouteOp = createRoute({
  method: 'delete',
  path: '/v1/routes/{id}',
  summary: 'Delete a route',
  request: { params: RouteParamsSchema },
  responses: {
    204: { description: 'Deleted; the change is published' },
    401: unauthorized,
    404: problemContent('No such route'),
  },
})

const quotaContent = (description: string) => ({
  description,
  content: { 'application/json': { schema: QuotaSchema } },
})

const getQuotaOp = createRoute({
  method: 'get',
  path: '/v1/mailboxes/{address}/quota',
  summary: "A mailbox's own quota",
  request: { params: MailboxParamsSchema },
  responses: {
    200: quotaContent('The quota'),
    401: unauthorized,
    404: problemContent('The mailbox has no quota of its own'),
  },
})

const putQuotaOp = createRoute({
  method: 'put',
  path: '/v1/mailboxes/{address}/quota',
  summary: "Set a mailbox's own quota, checked at RCPT time beside its routes' quotas",
  request: {
    params: MailboxParamsSchema,
    body: { required: true, content: { 'application/json': { schema: QuotaSchema } } },
  },
  responses: {
    200: quotaContent('Set and published'),
    400: problemContent('Not a valid quota'),
    401: unauthorized,
  },
})

const deleteQuotaOp = createRoute({
  method: 'delete',
  path: '/v1/mailboxes/{address}/quota',
  summary: "Remove a mailbox's own quota",
  request: { params: MailboxParamsSchema },
  responses: { 204: { description: 'Removed and published' }, 401: unauthorized },
})

const NO_STATS: RouteStats = { matched: 0, dropped: 0 }

export function registerRouteRoutes(
  app: OpenAPIHono,
  stores: Pick<Stores, 'routes' | 'endpoints'>,
): void {
  const { routes, endpoints } = stores

  /** The route to store, or a 400 naming everything wrong with it. */
  const validRoute = async (
    id: string,
    input: z.output<typeof RouteInputSchema>,
    isNew: () => Promise<boolean>,
  ): Promise<Route> => {
    const problems = routeProblems(input)
    for (const action of input.actions) {
      if (action.type !== 'notify') continue
      for (const endpointId of action.endpoints) {
        if ((await endpoints.get(endpointId)) === undefined) {
          problems.push(`actions: no webhook endpoint ${endpointId}`)
        }
      }
    }
    if (problems.length > 0) throw new BadRequestError(problems.join('; '))
    if ((await isNew()) && (await routes.list()).length >= MAX_ROUTES) {
      throw new BadRequestError(`There are ${MAX_ROUTES} routes already, the most a store holds`)
    }
    return { ...input, id, origin: 'api', updatedAt: new Date().toISOString() }
  }

  const withStats = async (route: Route) => ({
    ...route,
    stats: (await routes.stats()).get(route.id) ?? NO_STATS,
  })

  app.openapi(listRoutes, async (c) => {
    const [list, stats] = await Promise.all([routes.list(), routes.stats()])
    return c.json(
      {
        routes: list.map((route) => ({ ...route, stats: stats.get(route.id) ?? NO_STATS })),
        unrouted: stats.get(UNROUTED)?.dropped ?? 0,
      },
      200,
    )
  })

  app.openapi(createRouteOp, async (c) => {
    const route = await validRoute(newRouteId(), c.req.valid('json'), async () => true)
    await routes.put(route)
    return c.json({ ...route, stats: NO_STATS }, 201)
  })

  app.openapi(getRouteOp, async (c) => {
    const { id } = c.req.valid('param')
    const route = ROUTE_ID.test(id) ? await routes.get(id) : undefined
    if (route === undefined) throw new NotFoundError(`No route ${id}`)
    return c.json(await withStats(route), 200)
  })

  app.openapi(putRouteOp, async (c) => {
    const { id } = c.req.valid('param')
    if (!ROUTE_ID.test(id)) {
      throw new BadRequestError('A route id is 1 to 64 letters, digits, "_" or "-"')
    }
    const route = await validRoute(
      id,
      c.req.valid('json'),
      async () => (await routes.get(id)) === undefined,
    )
    const outcome = await routes.put(route)
    return c.json(await withStats(route), outcome === 'created' ? 201 : 200)
  })

  app.openapi(getQuotaOp, async (c) => {
    const mailbox = mailboxName(c.req.valid('param').address)
    const quota = (await routes.quotas())[mailbox]
    if (quota === undefined) throw new NotFoundError(`${mailbox} has no quota of its own`)
    return c.json(quota, 200)
  })

  app.openapi(putQuotaOp, async (c) => {
    const mailbox = mailboxName(c.req.valid('param').address)
    const quota = c.req.valid('json')
    if (quota.messages === undefined && quota.bytes === undefined) {
      throw new BadRequestError('A quota needs messages, bytes or both')
    }
    await routes.setQuota(mailbox, quota)
    return c.json(quota, 200)
  })

  app.openapi(deleteQuotaOp, async (c) => {
    await routes.setQuota(mailboxName(c.req.valid('param').address), null)
    return c.body(null, 204)
  })

  app.openapi(deleteRouteOp, async (c) => {
    const { id } = c.req.valid('param')
    if (!ROUTE_ID.test(id) || !(await routes.delete(id))) {
      throw new NotFoundError(`No route ${id}`)
    }
    return c.body(null, 204)
  })
}
