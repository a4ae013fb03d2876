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
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb'
import type { TableKey } from './keys.ts'

// How long a new table may take to become ACTIVE (s).
const TABLE_WAIT_SECONDS = 120
// The most items one query of a filtered read evaluates (Table.query).
const FILTERED_READ_MAX = 1000
// BatchGetItem reads at most 100 keys per call; BatchWriteItem writes at most 25 items.
const BATCH_GET_KEYS = 100
const BATCH_WRITE_ITEMS = 25

/** The attribute DynamoDB's TTL reads (epoch seconds); reads skip what has passed it. */
export const TTL_ATTRIBUTE = 'expiresAt'

export type Item = Record<string, unknown>

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

  /**
   * The items at `keys` that exist, in one BatchGetItem per 100 keys; the keys DynamoDB
   * leaves unread under load are asked for again.
   */
  async getMany(keys: TableKey[], projection?: string): Promise<Item[]> {
    const items: Item[] = []
    for (let start = 0; start < keys.length; start += BATCH_GET_KEYS) {
      let pending: Item[] | undefined = keys
        .slice(start, start + BATCH_GET_KEYS)
        .map((key) => ({ ...key }))
      while (pending?.length) {
        const result: BatchGetCommandOutput = await this.doc.send(
          new BatchGetCommand({
            RequestItems: { [this.name]: { Keys: pending, ProjectionExpression: projection } },
          }),
        )
        items.push(...(result.Responses?.[this.name] ?? []))
        pending = result.UnprocessedKeys?.[this.name]?.Keys
      }
    }
    return items
  }

  /**
   * Puts `items` (unconditional, each key once), in one BatchWriteItem per 25; the items
   * DynamoDB leaves unwritten under load are written again.
   */
  async putMany(items: Item[]): Promise<void> {
    for (let start = 0; start < items.length; start += BATCH_WRITE_ITEMS) {
      let pending: { PutRequest: { Item: Item } }[] | undefined = items
        .slice(start, start + BATCH_WRITE_ITEMS)
        .map((Item) => ({ PutRequest: { Item } }))
      while (pending?.length) {
        const result: BatchWriteCommandOutput = await this.doc.send(
          new BatchWriteCommand({ RequestItems: { [this.name]: pending } }),
        )
        pending = result.UnprocessedItems?.[this.name] as typeof pending
      }
    }
  }

  /**
   * The items of a query, up to `count` (all by default). A query answers at most 1 MB, so
   * it is asked again from where it stopped until there are `count` items or no more: an
   * answer taken as the last one would hide everything after it.
   *
   * DynamoDB applies `Limit` before a FilterExpression, so a filtered query can come back
   * short with more to read (a page of a mailbox behind many tombstones): each further
   * query then reads four times as many items as the one before, up to FILTERED_READ_MAX,
   * so that n items filtered out cost a few queries, not n / count.
   */
  async query(
    input: Omit<QueryCommandInput, 'TableName' | 'Limit'>,
    count = Number.POSITIVE_INFINITY,
  ): Promise<Item[]> {
    const items: Item[] = []
    let start = input.ExclusiveStartKey
    let read = count
    do {
      const page: QueryCommandOutput = await this.doc.send(
        new QueryCommand({
          ...input,
          TableName: this.name,
          Limit: Number.isFinite(count) ? read : undefined,
          ExclusiveStartKey: start,
        }),
      )
      items.push(...(page.Items ?? []))
      start = page.LastEvaluatedKey
      const wanted = count - items.length
      read =
        input.FilterExpression === undefined
          ? wanted
          : Math.max(wanted, Math.min(read * 4, FILTERED_READ_MAX))
    } while (start !== undefined && items.length < count)
    return items.slice(0, count)
  }
}

/** An item without its table key: the record it holds. */
export function withoutKey(item: Item): Item {
  const { pk: _pk, sk: _sk, ...record } = item
  return record
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
