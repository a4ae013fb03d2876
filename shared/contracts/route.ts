/**
 * Routes: which mailboxes and webhook endpoints a recipient's mail goes to, decided by
 * rules users know from Mailgun Routes and SES receipt rules. Evaluated per recipient in
 * priority order (shared/routing/evaluate.ts); kept in the mail store and published to
 * the edge as a snapshot (shared/store/routes.ts).
 */
import { z } from 'zod'
import { MAX_ADDRESS_LENGTH } from './webhook.ts'

/** Longest pattern accepted, in characters. */
const MAX_PATTERN_LENGTH = 512
/** Most routes a store holds: the edge holds them all in memory and checks each RCPT. */
export const MAX_ROUTES = 5000

/** A route's id: given by the API (`rt_` and hex) or chosen by the user with PUT. */
export const ROUTE_ID = /^[A-Za-z0-9_-]{1,64}$/

/** How an address is matched. */
export const AddressPatternSchema = z
  .strictObject({
    /**
     * `exact`: the whole address, case-insensitively. `domain`: any address at that
     * domain. `wildcard`: `*` for any run of characters (`support-*@example.com`).
     * `regex`: a JavaScript regular expression, tested case-insensitively against the
     * whole address; named groups are captures for the store action's mailbox.
     */
    type: z.enum(['exact', 'domain', 'wildcard', 'regex']),
    value: z.string().min(1).max(MAX_PATTERN_LENGTH),
  })
  .meta({ id: 'AddressPattern', example: { type: 'domain', value: 'example.com' } })
export type AddressPattern = z.infer<typeof AddressPatternSchema>

export const RecipientMatchSchema = z
  .union([
    AddressPatternSchema,
    z.strictObject({
      /**
       * Every recipient that no other route matched. Catch-all routes are evaluated,
       * in priority order, only when no other route matched.
       */
      type: z.literal('catchAll'),
    }),
  ])
  .meta({ id: 'RecipientMatch' })
export type RecipientMatch = z.infer<typeof RecipientMatchSchema>

export const RouteMatchSchema = z
  .strictObject({
    recipient: RecipientMatchSchema,
    /**
     * What the recipient pattern is tested against: `base` (default), the address
     * without its plus-address tag (`bob@x` for `bob+news@x`), or `full`, the address as
     * the client wrote it.
     */
    address: z.enum(['base', 'full']).default('base'),
    /** The envelope sender (MAIL FROM) must match too; `""` is the null sender of bounces. */
    sender: AddressPatternSchema.optional(),
    /**
     * A header must match too: some header of that name (case-insensitive) has a value
     * matching `pattern` (a regular expression, case-insensitive). The edge cannot see
     * headers at RCPT time, so it accepts a recipient such a route may match; if the
     * message then matches no route, the recipient is dropped and counted as unrouted.
     */
    header: z
      .strictObject({
        name: z.string().min(1).max(128),
        pattern: z.string().min(1).max(MAX_PATTERN_LENGTH),
      })
      .optional(),
  })
  .meta({ id: 'RouteMatch' })
export type RouteMatch = z.infer<typeof RouteMatchSchema>

export const RouteActionSchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      /** Store in a mailbox: the recipient's own (its base address) unless `mailbox` is set. */
      type: z.literal('store'),
      /**
       * The mailbox, which may use the recipient pattern's named captures and `{local}`,
       * `{domain}`, `{hash}`, `{address}`: `{user}@archive.example.com`.
       */
      mailbox: z.string().min(1).max(MAX_ADDRESS_LENGTH).optional(),
    }),
    z.strictObject({
      /** Notify these webhook endpoints, whether or not the message is stored. */
      type: z.literal('notify'),
      endpoints: z.array(z.string().min(1).max(64)).min(1).max(50),
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
  ])
  .meta({ id: 'RouteAction' })
export type RouteAction = z.infer<typeof RouteActionSchema>

export const QuotaSchema = z
  .strictObject({
    /** Most messages in each mailbox this route stores into. */
    messages: z.number().int().positive().optional(),
    /** Most bytes in each mailbox this route stores into. */
    bytes: z.number().int().positive().optional(),
    /**
     * `temporary` (default): `452 4.2.2`, the client keeps the mail and retries, as
     * Dovecot answers. `permanent`: `552 5.2.2`, the mail bounces.
     */
    reply: z.enum(['temporary', 'permanent']).default('temporary'),
  })
  .meta({ id: 'Quota' })
export type Quota = z.infer<typeof QuotaSchema>

/** What a client sends to create (POST) or replace (PUT) a route. */
export const RouteInputSchema = z
  .strictObject({
    /** Lower first; routes of equal priority in id order. */
    priority: z.number().int().min(0).max(1_000_000).default(100),
    description: z.string().max(500).default(''),
    enabled: z.boolean().default(true),
    match: RouteMatchSchema,
    actions: z.array(RouteActionSchema).min(1).max(20),
    quota: QuotaSchema.optional(),
  })
  .meta({ id: 'RouteInput' })
export type RouteInput = z.input<typeof RouteInputSchema>

export const RouteSchema = RouteInputSchema.extend({
  id: z.string().regex(ROUTE_ID).meta({ example: 'rt_0123456789abcdef0123' }),
  /** `api`, or `file` for a route seeded from MAILBRIDGE_ROUTES_FILE (replaced at start). */
  origin: z.enum(['api', 'file']),
  updatedAt: z.string(),
}).meta({ id: 'Route' })
export type Route = z.infer<typeof RouteSchema>

/** The published route set the edge and ingest read (routes/routes.json in the bucket). */
export const RouteSetSchema = z.object({
  /** Bumped by every change; a snapshot with a lower one is stale. */
  version: z.number().int().nonnegative(),
  updatedAt: z.string(),
  routes: z.array(RouteSchema),
  /** Quotas set on mailboxes themselves (PUT /v1/mailboxes/{address}/quota), by mailbox. */
  quotas: z.record(z.string(), QuotaSchema).default({}),
})
export type RouteSet = z.infer<typeof RouteSetSchema>
