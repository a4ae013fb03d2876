/**
 * Webhook endpoints and the state of each notification, kept in the bucket beside the
 * mailboxes (private and encrypted at rest, like the mail itself).
 */
import { randomBytes } from 'node:crypto'
import type { S3Client } from '@aws-sdk/client-s3'
import { deliveryKey, WEBHOOKS_PREFIX, webhookKey } from './mailbox-layout.ts'
import { S3Objects } from './s3-objects.ts'

export interface WebhookEndpoint {
  /** `wh_` and 20 random hex digits. */
  id: string
  url: string
  /** The one mailbox this endpoint hears about, or null for every mailbox. */
  mailbox: string | null
  /** Standard Webhooks signing secret: `whsec_` and base64 of 24 random bytes. */
  secret: string
  createdAt: string
}

/** Where one notification (a message for an endpoint) stands. */
export interface DeliveryRecord {
  messageId: string
  endpointId: string
  status: 'queued' | 'delivered'
  /** Attempts made so far. */
  attempts: number
  updatedAt: string
  /** HTTP status or error of the last attempt. */
  lastResult?: string
}

export function newEndpointId(): string {
  return `wh_${randomBytes(10).toString('hex')}`
}

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`
}

export class WebhookStore {
  readonly objects: S3Objects

  constructor(s3: S3Client, bucket: string) {
    this.objects = new S3Objects(s3, bucket)
  }

  async create(input: { url: string; mailbox: string | null }): Promise<WebhookEndpoint> {
    const endpoint: WebhookEndpoint = {
      id: newEndpointId(),
      url: input.url,
      mailbox: input.mailbox,
      secret: newWebhookSecret(),
      createdAt: new Date().toISOString(),
    }
    await this.objects.putJson(webhookKey(endpoint.id), endpoint)
    return endpoint
  }

  get(id: string): Promise<WebhookEndpoint | undefined> {
    if (!/^wh_[0-9a-f]{20}$/.test(id)) return Promise.resolve(undefined)
    return this.objects.getJson<WebhookEndpoint>(webhookKey(id))
  }

  async list(): Promise<WebhookEndpoint[]> {
    const keys: string[] = []
    for await (const key of this.objects.listAll(WEBHOOKS_PREFIX)) keys.push(key)
    const endpoints = await Promise.all(
      keys.map((key) => this.objects.getJson<WebhookEndpoint>(key)),
    )
    return endpoints
      .filter((endpoint): endpoint is WebhookEndpoint => endpoint !== undefined)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
  }

  async delete(id: string): Promise<boolean> {
    if ((await this.get(id)) === undefined) return false
    await this.objects.delete(webhookKey(id))
    return true
  }

  getDelivery(messageId: string, endpointId: string): Promise<DeliveryRecord | undefined> {
    return this.objects.getJson<DeliveryRecord>(deliveryKey(messageId, endpointId))
  }

  putDelivery(record: DeliveryRecord): Promise<void> {
    return this.objects.putJson(deliveryKey(record.messageId, record.endpointId), record)
  }
}
