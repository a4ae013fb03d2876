/**
 * The composition root: the clients and stores every stage needs, built from config in
 * one place. Each Lambda handler.ts, local mode, the bench and the tests build them here,
 * so that a new store or client is wired once.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { S3Client } from '@aws-sdk/client-s3'
import type { SQSClient } from '@aws-sdk/client-sqs'
import { createDynamoDbClient, createS3Client, createSqsClient } from './aws-clients.ts'
import type { Config } from './config.ts'
import { createLogger } from './logger.ts'
import { AttemptStore } from './store/attempts.ts'
import { DeliveryStore } from './store/deliveries.ts'
import { EndpointStore } from './store/endpoints.ts'
import { FingerprintStore } from './store/fingerprints.ts'
import { MailboxStore } from './store/mailboxes.ts'
import { MessageStore } from './store/messages.ts'
import { S3Objects } from './store/objects.ts'
import { RouteStore } from './store/routes.ts'
import { Table } from './store/table.ts'

export interface Clients {
  s3: S3Client
  sqs: SQSClient
  dynamodb: DynamoDBClient
}

export interface Stores {
  /** The bucket's objects, for what the edge stages under incoming/. */
  objects: S3Objects
  messages: MessageStore
  mailboxes: MailboxStore
  endpoints: EndpointStore
  deliveries: DeliveryStore
  /** Attempts at webhooks and failed events, per endpoint. */
  attempts: AttemptStore
  fingerprints: FingerprintStore
  routes: RouteStore
}

/** What every stage is built from. */
export interface Root {
  config: Config
  clients: Clients
  stores: Stores
}

export function createClients(aws: Config['aws']): Clients {
  return {
    s3: createS3Client(aws),
    sqs: createSqsClient(aws),
    dynamodb: createDynamoDbClient(aws),
  }
}

export function createStores(config: Pick<Config, 'bucket' | 'table'>, clients: Clients): Stores {
  const objects = new S3Objects(clients.s3, config.bucket)
  const table = new Table(clients.dynamodb, config.table)
  const mailboxes = new MailboxStore(table, createLogger('store'))
  return {
    objects,
    messages: new MessageStore(objects, table),
    mailboxes,
    endpoints: new EndpointStore(table, mailboxes),
    deliveries: new DeliveryStore(table),
    attempts: new AttemptStore(table),
    fingerprints: new FingerprintStore(table),
    routes: new RouteStore(table, objects, createLogger('routes')),
  }
}

/** The root of `config`, on its own clients unless given some. */
export function compose(config: Config, clients = createClients(config.aws)): Root {
  return { config, clients, stores: createStores(config, clients) }
}

/** Closes the clients' sockets. */
export function destroyClients(clients: Clients): void {
  clients.s3.destroy()
  clients.sqs.destroy()
  clients.dynamodb.destroy()
}
