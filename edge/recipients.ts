/**
 * The RCPT-time check: is this recipient's mail wanted here? Its domain must be accepted
 * (MAILBRIDGE_DOMAINS), some route must want it (550 5.1.1 otherwise, as Dovecot answers
 * for an unknown user, so Postfix bounces at once rather than after queueing), and no
 * quota of the mailboxes it would land in may be used up (452 4.2.2 or 552 5.2.2).
 *
 * The edge never refuses mail because of a network problem: routes it cannot read are
 * its last good copy, and a quota it cannot read is not enforced. Only before it ever
 * had routes does it answer 451 4.3.0, so that Postfix tries again.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { S3Client } from '@aws-sdk/client-s3'
import type { Config } from '../shared/config.ts'
import type { Mailbox } from '../shared/contracts/message.ts'
import type { Logger } from '../shared/logger.ts'
import { isAccepted } from '../shared/routing/route-table.ts'
import { MailboxStore } from '../shared/store/mailboxes.ts'
import { S3Objects } from '../shared/store/objects.ts'
import { RouteSnapshot, RoutesUnavailableError } from '../shared/store/route-snapshot.ts'
import { Table } from '../shared/store/table.ts'
import { LmtpError, OverQuotaError, UnknownDomainError, UnknownRecipientError } from './errors.ts'
import { acceptsRecipient } from './recipient-policy.ts'

export interface RecipientCheckOptions {
  /** Accepted domains, lower-case; empty accepts every domain. */
  domains: readonly string[]
  /** The published routes; without them every recipient of an accepted domain is wanted. */
  routes?: RouteSnapshot
  /** A mailbox's counters, for quotas (MailboxStore.counters). */
  counters?: (mailbox: string) => Promise<Pick<Mailbox, 'messages' | 'bytes'>>
  logger: Logger
}

export class RecipientCheck {
  readonly #options: RecipientCheckOptions

  constructor(options: RecipientCheckOptions) {
    this.#options = options
  }

  /** The version of the routes held (see QueuedMessage.routesVersion); undefined without routes. */
  get routesVersion(): number | undefined {
    const version = this.#options.routes?.version
    return version === undefined || version < 0 ? undefined : version
  }

  /**
   * The plus-address delimiters the routes were decided with (see QueuedMessage.delimiters);
   * undefined without routes.
   */
  get delimiters(): string | undefined {
    return this.#options.routes?.delimiters
  }

  /** Undefined when the recipient is wanted, else the error to answer RCPT with. */
  async check(recipient: string, sender: string): Promise<LmtpError | undefined> {
    const { domains, routes, counters, logger } = this.#options
    if (!acceptsRecipient(recipient, domains)) {
      return new UnknownDomainError(recipient)
    }
    if (routes === undefined) return undefined
    let decision: Awaited<ReturnType<RouteSnapshot['decide']>>
    try {
      decision = await routes.decide({ recipient, sender })
    } catch (error) {
      if (!(error instanceof RoutesUnavailableError)) throw error
      return new LmtpError(451, 'Routes not loaded yet, try again later')
    }
    if (!isAccepted(decision)) {
      return new UnknownRecipientError(recipient, 'no route accepts this recipient')
    }
    if (counters === undefined) return undefined
    for (const { mailbox, quotas } of decision.stores) {
      const limits = quotas.filter((q) => q.messages !== undefined || q.bytes !== undefined)
      if (limits.length === 0) continue
      let used: Pick<Mailbox, 'messages' | 'bytes'>
      try {
        used = await counters(mailbox)
      } catch (error) {
        logger.warn({ err: error, mailbox }, 'quota not checked: counters could not be read')
        continue
      }
      const full = limits.find(
        (quota) =>
          (quota.messages !== undefined && used.messages >= quota.messages) ||
          (quota.bytes !== undefined && used.bytes >= quota.bytes),
      )
      if (full) return new OverQuotaError(recipient, full.reply === 'permanent')
    }
    return undefined
  }
}

/**
 * The check a running edge uses: the published routes, read now and then every
 * `config.routing.refreshMs` in the background (so no RCPT waits on a read), and the
 * mailboxes' counters for quotas. It reads one object and the counters, nothing else.
 */
export async function startRecipientCheck(options: {
  config: Pick<Config, 'bucket' | 'table' | 'routing' | 'edge'>
  s3: S3Client
  dynamodb: DynamoDBClient
  logger: Logger
}): Promise<{ check: RecipientCheck; routes: RouteSnapshot }> {
  const { config, logger } = options
  const routes = new RouteSnapshot(new S3Objects(options.s3, config.bucket), {
    delimiters: config.routing.delimiters,
    maxAgeMs: Number.POSITIVE_INFINITY,
    logger,
  })
  await routes.refresh()
  routes.start(config.routing.refreshMs)
  const mailboxes = new MailboxStore(new Table(options.dynamodb, config.table), logger)
  const check = new RecipientCheck({
    domains: config.edge.domains,
    routes,
    counters: (mailbox) => mailboxes.counters(mailbox),
    logger,
  })
  return { check, routes }
}
