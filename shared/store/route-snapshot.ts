/**
 * The published route set (routes/routes.json), read and compiled: what the edge checks
 * each RCPT against and ingest routes each message with. A read that fails keeps the last
 * good copy; before there is one, `table()` throws RoutesUnavailableError, which the edge
 * answers with 451 4.3.0. A bucket without the object has never had routes saved:
 * DEFAULT_ROUTES apply, as the store would seed them.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3'
import { parseJson } from '../contracts/parse.ts'
import { RouteSetSchema } from '../contracts/route.ts'
import { MailbridgeError } from '../errors.ts'
import type { Logger } from '../logger.ts'
import {
  DEFAULT_ROUTES,
  type Decision,
  isAccepted,
  RouteTable,
  type RoutingInput,
} from '../routing/route-table.ts'
import { ROUTES_KEY } from './keys.ts'
import type { S3Objects } from './objects.ts'

/** No route set could be read yet. */
export class RoutesUnavailableError extends MailbridgeError {
  override name = 'RoutesUnavailableError'
}

export interface RouteSnapshotOptions {
  /** Plus-address delimiters (MAILBRIDGE_RECIPIENT_DELIMITER). */
  delimiters: string
  /**
   * How old a copy may be before table() reads again (ms); Infinity for one refreshed
   * only in the background (start()), as the edge does so that no RCPT waits on a read.
   */
  maxAgeMs: number
  /** Least time between two reads that a refused recipient triggers (ms). */
  missRefreshMs?: number
  logger: Logger
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
}

export class RouteSnapshot {
  readonly #objects: S3Objects
  readonly #options: RouteSnapshotOptions
  #table: RouteTable | undefined
  #version = -1
  #etag: string | undefined
  #readAt = 0
  #triedAt = 0
  #reading: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined

  constructor(objects: S3Objects, options: RouteSnapshotOptions) {
    this.#objects = objects
    this.#options = options
  }

  /** The version of the copy held: 0 for the defaults, -1 before any. */
  get version(): number {
    return this.#version
  }

  /**
   * The compiled routes, read again when older than maxAgeMs or than `atLeast`, the
   * version a message was accepted under.
   */
  async table(atLeast = 0): Promise<RouteTable> {
    if (
      this.#table === undefined ||
      this.#version < atLeast ||
      Date.now() - this.#readAt >= this.#options.maxAgeMs
    ) {
      await this.refresh()
    }
    if (this.#table === undefined) throw new RoutesUnavailableError('no route set could be read')
    return this.#table
  }

  /**
   * The decision for a recipient. One that no route accepts is looked at again with a
   * fresh copy (at most once per missRefreshMs), so that a route just added through the
   * API is honoured at once rather than at the next periodic read.
   */
  async decide(input: RoutingInput): Promise<Decision> {
    const decision = (await this.table()).decide(input)
    if (isAccepted(decision)) return decision
    if (this.#reading) await this.#reading
    else if (Date.now() - this.#triedAt >= (this.#options.missRefreshMs ?? 1000)) {
      await this.refresh()
    } else return decision
    return (await this.table()).decide(input)
  }

  /** Reads the snapshot now (one read at a time); a failure keeps the copy held. */
  refresh(): Promise<void> {
    this.#reading ??= this.#read().finally(() => {
      this.#reading = undefined
    })
    return this.#reading
  }

  /** The plus-address delimiters it decides with (MAILBRIDGE_RECIPIENT_DELIMITER). */
  get delimiters(): string {
    return this.#options.delimiters
  }

  /** Reads every `intervalMs` in the background until stop(). */
  start(intervalMs: number): void {
    this.#timer = setInterval(() => void this.refresh(), intervalMs)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
  }

  async #read(): Promise<void> {
    const { delimiters, logger } = this.#options
    this.#triedAt = Date.now()
    try {
      const response = await this.#objects.s3.send(
        new GetObjectCommand({
          Bucket: this.#objects.bucket,
          Key: ROUTES_KEY,
          IfNoneMatch: this.#table ? this.#etag : undefined,
        }),
      )
      const text = (await response.Body?.transformToString('utf8')) ?? ''
      const set = parseJson(RouteSetSchema, text, 'route set')
      this.#readAt = Date.now()
      if (set.version === this.#version && this.#table) return
      this.#table = new RouteTable(set.routes, delimiters, set.quotas)
      this.#version = set.version
      this.#etag = response.ETag
      logger.info({ version: set.version, routes: this.#table.size }, 'routes loaded')
    } catch (error) {
      const status = statusOf(error)
      if (status === 304) {
        this.#readAt = Date.now()
        return
      }
      // Not NoSuchBucket, a 404 too: a wrong bucket is a failure, not "no routes yet".
      if ((error as { name?: string }).name === 'NoSuchKey') {
        this.#readAt = Date.now()
        if (this.#version !== 0) {
          this.#table = new RouteTable(DEFAULT_ROUTES, delimiters)
          this.#version = 0
          this.#etag = undefined
          logger.info('no routes saved yet: every recipient goes to its own mailbox')
        }
        return
      }
      // Kept: the last good copy, or none (then table() throws). Never a refusal.
      logger.warn({ err: error, held: this.#version }, 'routes could not be read')
    }
  }
}
