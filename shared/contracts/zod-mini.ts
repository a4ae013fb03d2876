/**
 * What the contracts take from zod/mini beyond its schemas: English issue messages, and the
 * documentation (description, example, component id) classic zod's `.describe()` and
 * `.meta()` attached. The contracts are written with zod/mini because every Lambda function
 * loads them at cold start: classic zod puts its whole API on every schema's prototype, so a
 * bundle holds all 190 KB of it, and it cost ingest and deliver about 25 ms of their import;
 * mini is tree-shaken to what the schemas use. Each contract imports zod/mini as a namespace
 * of its own (`import * as z`): a re-exported namespace is kept whole.
 */
import * as z from 'zod/mini'

// zod/mini registers no locale, and every issue would read "Invalid input": the API's 400s,
// MAILBRIDGE_ROUTES_FILE's errors and the malformed-record errors name what is wrong. Classic
// zod registers the same English messages on its first schema.
z.config(z.locales.en())

/**
 * `schema`, with `metadata` in zod's global registry, where classic zod's `.meta()` puts it
 * and the API's OpenAPI document reads it (an `id` names a component). Registered on the
 * schema itself: mini has no `.meta()` to make a copy of it.
 */
export function meta<T extends z.ZodMiniType>(schema: T, metadata: z.core.GlobalMeta): T {
  z.globalRegistry.add(schema, metadata)
  return schema
}

/** `schema`, with a description for the OpenAPI document (classic zod's `.describe()`). */
export function described<T extends z.ZodMiniType>(schema: T, description: string): T {
  return meta(schema, { description })
}
