/**
 * Routes: which mailboxes and webhook endpoints a recipient's mail goes to, decided by
 * rules users know from Mailgun Routes and SES receipt rules. Evaluated per recipient in
 * priority order (shared/routing/evaluate.ts); kept in the mail store and published to
 * the edge as a snapshot (shared/store/routes.ts).
 */
import * as z from 'zod/mini'
import { MAX_ADDRESS_LENGTH } from './webhook.ts'
import { meta } from './zod-mini.ts'

/** Longest pattern accepted, in characters. */
const MAX_PATTERN_LENGTH = 512
/** Most routes a store holds: the edge holds them all in memory and checks each RCPT. */
export const MAX_ROUTES = 5000

/** A route's id: given by the API (`rt_` and hex) or chosen by the user with PUT. */
export const ROUTE_ID = /^[A-Za-z0-9_-]{1,64}$/

/** How an address is matched. */
export const AddressPatternSchema = meta(
  z.strictObject({
    /**
     * `exact`: the whole address, case-insensitively. `domain`: any address at that
     * domain. `wildcard`: `*` for any run of characters (`support-*@example.com`).
     * `regex`: a JavaScript regular expression, tested case-insensitively against the
     * whole address; named groups are captures for the store action's mailbox.
     */
    type: z.enum(['exact', 'domain', 'wildcard', 'regex']),
    value: z.string().check(z.minLength(1), z.maxLength(MAX_PATTERN_LENGTH)),
  }),
  { id: 'AddressPattern', example: { type: 'domain', value: 'example.com' } },
)
export type AddressPattern = z.infer<typeof AddressPatternSchema>

export const RecipientMatchSchema = meta(
  z.union([
    AddressPatternSchema,
    z.strictObject({
      /**
       * Every recipient that no other route matched. Catch-all routes are evaluated,
       * in priority order, only when no other route matched.
       */
      type: z.literal('catchAll'),
    }),
  ]),
  { id: 'RecipientMatch' },
)
export type RecipientMatch = z.infer<typeof RecipientMatchSchema>

export const RouteMatchSchema = meta(
  z.strictObject({
    recipient: RecipientMatchSchema,
    /**
     * What the recipient pattern is tested against: `base` (default), the address
     * without its plus-address tag (`bob@x` for `bob+news@x`), or `full`, the address as
     * the client wrote it.
     */
    address: z._default(z.enum(['base', 'full']), 'base'),
    /** The envelope sender (MAIL FROM) must match too; `""` is the null sender of bounces. */
    sender: z.optional(AddressPatternSchema),
    /**
     * A header must match too: some header of that name (case-insensitive) has a value
     * matching `pattern` (a regular expression, case-insensitive). The edge cannot see
     * headers at RCPT time, so it accepts a recipient such a route may match; if the
     * message then matches no route, the recipient is dropped and counted as unrouted.
     */
    header: z.optional(
      z.strictObject({
        name: z.string().check(z.minLength(1), z.maxLength(128)),
        pattern: z.string().check(z.minLength(1), z.maxLength(MAX_PATTERN_LENGTH)),
      }),
    ),
  }),
  { id: 'RouteMatch' },
)
export type RouteMatch = z.infer<typeof RouteMatchSchema>

export const RouteActionSchema = meta(
  z.discriminatedUnion('type', [
    z.strictObject({
      /** Store in a mailbox: the recipient's own (its base address) unless `mailbox` is set. */
      type: z.literal('store'),
      /**
       * The mailbox, which may use the recipient pattern's named captures and `{local}`,
       * `{domain}`, `{hash}`, `{address}`: `{user}@archive.example.com`.
       */
      mailbox: z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_ADDRESS_LENGTH))),
    }),
    z.strictObject({
      /** Notify these webhook endpoints, whether or not the message is stored. */
      type: z.literal('notify'),
      endpoints: z
        .array(z.string().check(z.minLength(1), z.maxLength(64)))
        .check(z.minLength(1), z.maxLength(50)),
    }),
    z.strictObject({
      /**
       * Accept the recipient and discard it: nothing stored, nobody notified, counted on
       * the route. Evaluation stops here, and what earlier routes chose for it is undone.
       */
      type: z.literal('drop'),
    }),
    z.strictObject({
      /** Evaluate no later route for this recipient. */
      type: z.literal('stop'),
    }),
  ]),
  { id: 'RouteAction' },
)
export type RouteAction = z.infer<typeof RouteActionSchema>

export const QuotaSchema = meta(
  z.strictObject({
    /** Most messages in each mailbox this route stores into. */
    messages: z.optional(z.int().check(z.positive())),
    /** Most bytes in each mailbox this route stores into. */
    bytes: z.optional(z.int().check(z.positive())),
    /**
     * `temporary` (default): `452 4.2.2`, the client keeps the mail and retries, as
     * Dovecot answers. `permanent`: `552 5.2.2`, the mail bounces.
     */
    reply: z._default(z.enum(['temporary', 'permanent']), 'temporary'),
  }),
  { id: 'Quota' },
)
export type Quota = z.infer<typeof QuotaSchema>

/** What a client sends to create (POST) or replace (PUT) a route. */
export const RouteInputSchema = meta(
  z.strictObject({
    /** Lower first; routes of equal priority in id order. */
    priority: z._default(z.int().check(z.gte(0), z.lte(1_000_000)), 100),
    description: z._default(z.string().check(z.maxLength(500)), ''),
    enabled: z._default(z.boolean(), true),
    match: RouteMatchSchema,
    actions: z.array(RouteActionSchema).check(z.minLength(1), z.maxLength(20)),
    quota: z.optional(QuotaSchema),
  }),
  { id: 'RouteInput' },
)
export type RouteInput = z.input<typeof RouteInputSchema>

export const RouteSchema = meta(
  z.extend(RouteInputSchema, {
    id: meta(z.string().check(z.regex(ROUTE_ID)), { example: 'rt_0123456789abcdef0123' }),
    /** `api`, or `file` for a route seeded from MAILBRIDGE_ROUTES_FILE (replaced at start). */
    origin: z.enum(['api', 'file']),
    updatedAt: z.string(),
  }),
  { id: 'Route' },
)
export type Route = z.infer<typeof RouteSchema>

/** The published route set the edge and ingest read (routes/routes.json in the bucket). */
export const RouteSetSchema = z.object({
  /** Bumped by every change; a snapshot with a lower one is stale. */
  version: z.int().check(z.nonnegative()),
  updatedAt: z.string(),
  routes: z.array(RouteSchema),
  /** Quotas set on mailboxes themselves (PUT /v1/mailboxes/{address}/quota), by mailbox. */
  quotas: z._default(z.record(z.string(), QuotaSchema), {}),
})
export type RouteSet = z.infer<typeof RouteSetSchema>
