/**
 * MAILBRIDGE_ROUTES_FILE: routes kept in git, seeded into the store at start. A JSON
 * object `{ "routes": [...] }` (or the array alone), each route as the API takes it plus
 * the `id` it keeps across restarts:
 *
 *   { "routes": [{ "id": "support", "priority": 10,
 *                  "match": { "recipient": { "type": "wildcard", "value": "support-*@example.com" } },
 *                  "actions": [{ "type": "store", "mailbox": "support@example.com" }, { "type": "stop" }] }] }
 */
import { readFileSync } from 'node:fs'
import * as z from 'zod/mini'
import { ROUTE_ID, type Route, RouteInputSchema } from '../contracts/route.ts'
import { ConfigError } from '../errors.ts'
import { routeProblems } from './route-table.ts'

const FileRouteSchema = z.extend(RouteInputSchema, { id: z.string().check(z.regex(ROUTE_ID)) })
const RoutesFileSchema = z.union([
  z.strictObject({ routes: z.array(FileRouteSchema) }),
  z.array(FileRouteSchema),
])

/** The routes of `path`, as stored (origin `file`); a ConfigError names what is wrong. */
export function readRoutesFile(path: string, now = new Date()): Route[] {
  let value: unknown
  try {
    value = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new ConfigError(
      `MAILBRIDGE_ROUTES_FILE: cannot read ${path}: ${(error as Error).message}`,
    )
  }
  const result = RoutesFileSchema.safeParse(value)
  if (!result.success) {
    throw new ConfigError(`MAILBRIDGE_ROUTES_FILE: ${path}: ${z.prettifyError(result.error)}`)
  }
  const inputs = Array.isArray(result.data) ? result.data : result.data.routes
  const ids = new Set<string>()
  return inputs.map((input) => {
    if (ids.has(input.id)) {
      throw new ConfigError(`MAILBRIDGE_ROUTES_FILE: ${path}: route id "${input.id}" appears twice`)
    }
    ids.add(input.id)
    const problems = routeProblems(input)
    if (problems.length > 0) {
      throw new ConfigError(
        `MAILBRIDGE_ROUTES_FILE: ${path}: route "${input.id}": ${problems.join('; ')}`,
      )
    }
    return { ...input, origin: 'file', updatedAt: now.toISOString() }
  })
}
