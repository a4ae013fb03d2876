/**
 * The DynamoDB table behind the stores: the document client and the table's name, with
 * the few helpers every store needs. Writes are conditional where a redelivered record
 * or a racing invocation could repeat them; nothing here reads and then writes.
 */
import {
  CreateTableCommand,
  type DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'

// How long a new table may take to become ACTIVE (s).
const TABLE_WAIT_SECONDS = 120

/** The attribute DynamoDB's TTL reads (epoch seconds); reads skip what has passed it. */
export const TTL_ATTRIBUTE = 'expiresAt'

export class Table {
  readonly doc: DynamoDBDocumentClient

  constructor(
    client: DynamoDBClient,
    readonly name: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    })
  }
}

/** True when a conditional write found its condition false: someone did it first. */
export function isConditionFailed(error: unknown): boolean {
  return (error as { name?: string }).name === 'ConditionalCheckFailedException'
}

/** Epoch seconds `ms` from now, for TTL_ATTRIBUTE. */
export function expiresIn(ms: number, now = Date.now()): number {
  return Math.floor((now + ms) / 1000)
}

/**
 * True for an item whose TTL has passed. DynamoDB deletes such items within a few days,
 * not at once, and an emulator (dynalite) never does: every read must ignore them.
 */
export function isExpired(item: Record<string, unknown>, now = Date.now()): boolean {
  const at = item[TTL_ATTRIBUTE]
  return typeof at === 'number' && at * 1000 <= now
}

/**
 * Creates the table as serverless.yml declares it (pk + sk, on demand), for local mode
 * and tests; one that exists is left alone. TTL is AWS's to enforce: the emulator has no
 * UpdateTimeToLive, and reads ignore expired items anyway.
 */
export async function ensureTable(client: DynamoDBClient, name: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    )
  } catch (error) {
    if ((error as { name?: string }).name !== 'ResourceInUseException') throw error
  }
  // DynamoDB creates a table in seconds, answering before it is ACTIVE; dynalite at once.
  await waitUntilTableExists({ client, maxWaitTime: TABLE_WAIT_SECONDS }, { TableName: name })
}
