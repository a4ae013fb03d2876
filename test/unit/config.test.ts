import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadConfig } from '../../shared/config.ts'
import { ConfigError } from '../../shared/errors.ts'

test('defaults: LMTP on 127.0.0.1:2424, API on 8787, every domain, AWS itself', () => {
  const config = loadConfig({})
  assert.deepEqual(config.edge.tcp, { host: '127.0.0.1', port: 2424 })
  assert.equal(config.edge.socket, undefined)
  assert.deepEqual(config.edge.domains, [])
  assert.equal(config.api.port, 8787)
  assert.equal(config.aws.endpoint, undefined)
  assert.equal(config.aws.forcePathStyle, false)
  assert.equal(config.local.embedded, true)
  assert.equal(config.edge.maxRecipients, 1000)
  assert.deepEqual(config.edge.http, { host: '127.0.0.1', port: 9425 })
  assert.equal(config.edge.maxMessageBytes, 52_428_800)
  assert.equal(config.local.dataDir, join(process.cwd(), 'data'))
  assert.deepEqual(config.local.retrySeconds, { ingest: 30, webhook: 30 })
  assert.equal(config.edge.maxConnections, 100)
  // Longer than Postfix's lmtp_data_done_timeout (600 s).
  assert.equal(config.edge.transactionTimeoutSeconds, 900)
})

test('the connection limit and the transaction deadline can be set', () => {
  const config = loadConfig({
    MAILBRIDGE_MAX_CONNECTIONS: '250',
    MAILBRIDGE_TRANSACTION_TIMEOUT_SECONDS: '1200',
  })
  assert.equal(config.edge.maxConnections, 250)
  assert.equal(config.edge.transactionTimeoutSeconds, 1200)
})

test('local mode keeps its data where MAILBRIDGE_DATA_DIR says, or in memory for :memory:', () => {
  assert.equal(loadConfig({ MAILBRIDGE_DATA_DIR: '/srv/mail' }).local.dataDir, '/srv/mail')
  assert.equal(
    loadConfig({ MAILBRIDGE_DATA_DIR: 'here/data' }).local.dataDir,
    join(process.cwd(), 'here/data'),
  )
  assert.equal(loadConfig({ MAILBRIDGE_DATA_DIR: ':memory:' }).local.dataDir, undefined)
})

test('a socket alone is the only listener: TCP only when MAILBRIDGE_LMTP_PORT asks for it too', () => {
  const socket = { MAILBRIDGE_LMTP_SOCKET: '/var/spool/postfix/private/mailbridge-lmtp' }
  assert.equal(loadConfig(socket).edge.tcp, undefined)
  assert.deepEqual(loadConfig({ ...socket, MAILBRIDGE_LMTP_PORT: '2424' }).edge.tcp, {
    host: '127.0.0.1',
    port: 2424,
  })
  assert.deepEqual(loadConfig({}).edge.tcp, { host: '127.0.0.1', port: 2424 })
})

test('variables set ports, domains, socket and endpoint', () => {
  const config = loadConfig({
    MAILBRIDGE_LMTP_PORT: '2525',
    MAILBRIDGE_API_PORT: '0',
    MAILBRIDGE_DOMAINS: 'Example.com, mail.example.org',
    MAILBRIDGE_LMTP_SOCKET: '/var/spool/postfix/private/mailbridge-lmtp',
    MAILBRIDGE_LMTP_SOCKET_MODE: '0660',
    MAILBRIDGE_LMTP_SOCKET_OWNER: 'postfix',
    MAILBRIDGE_LMTP_SOCKET_GROUP: '120',
    MAILBRIDGE_MAX_RECIPIENTS: '50',
    MAILBRIDGE_EDGE_HTTP_PORT: 'off',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
  })
  assert.equal(config.edge.tcp?.port, 2525)
  assert.equal(config.api.port, 0)
  assert.deepEqual(config.edge.domains, ['example.com', 'mail.example.org'])
  assert.deepEqual(config.edge.socket, {
    path: '/var/spool/postfix/private/mailbridge-lmtp',
    mode: 0o660,
    owner: 'postfix',
    group: '120',
  })
  assert.equal(config.edge.maxRecipients, 50)
  assert.equal(config.edge.http, undefined)
  assert.equal(config.aws.endpoint, 'http://127.0.0.1:4566')
  assert.equal(
    config.aws.dynamodbEndpoint,
    'http://127.0.0.1:4566',
    'DynamoDB at the same endpoint',
  )
  assert.equal(config.aws.forcePathStyle, true)
  assert.equal(config.local.embedded, false)
})

test('DynamoDB can be at an endpoint of its own, in a table of its own', () => {
  const config = loadConfig({
    AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
    AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000',
    MAILBRIDGE_TABLE: 'mail-prod.v2',
  })
  assert.equal(config.aws.endpoint, 'http://127.0.0.1:4566')
  assert.equal(config.aws.dynamodbEndpoint, 'http://127.0.0.1:8000')
  assert.equal(config.table, 'mail-prod.v2')
  assert.equal(loadConfig({}).aws.dynamodbEndpoint, undefined, 'AWS itself by default')
})

test('a config file sets the same names; the environment wins', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailbridge-config-'))
  const file = join(dir, 'mailbridge.json')
  writeFileSync(
    file,
    JSON.stringify({ MAILBRIDGE_DOMAINS: ['a.test', 'b.test'], MAILBRIDGE_LMTP_PORT: 2600 }),
  )
  const config = loadConfig({ MAILBRIDGE_CONFIG: file, MAILBRIDGE_LMTP_PORT: '2700' })
  assert.deepEqual(config.edge.domains, ['a.test', 'b.test'])
  assert.equal(config.edge.tcp?.port, 2700)
})

test('bad values throw a ConfigError naming the variable', () => {
  for (const [name, value] of [
    ['MAILBRIDGE_LMTP_PORT', 'abc'],
    ['MAILBRIDGE_LMTP_PORT', '70000'],
    ['MAILBRIDGE_API_PORT', '-1'],
    ['MAILBRIDGE_MAX_MESSAGE_BYTES', '0'],
    // More than ingest can store: the edge must not advertise it.
    ['MAILBRIDGE_MAX_MESSAGE_BYTES', '52428801'],
    ['MAILBRIDGE_LMTP_SOCKET_MODE', '999'],
    ['MAILBRIDGE_DOMAINS', 'bad domain!'],
    ['MAILBRIDGE_S3_FORCE_PATH_STYLE', 'maybe'],
    ['MAILBRIDGE_LMTP_SOCKET_OWNER', 'post fix'],
    ['MAILBRIDGE_MAX_RECIPIENTS', '0'],
    ['MAILBRIDGE_MAX_CONNECTIONS', '0'],
    ['MAILBRIDGE_TRANSACTION_TIMEOUT_SECONDS', '0'],
    ['MAILBRIDGE_EDGE_HTTP_PORT', 'on'],
    // DynamoDB refuses these table names.
    ['MAILBRIDGE_TABLE', 'mb'],
    ['MAILBRIDGE_TABLE', 'mail bridge'],
  ]) {
    assert.throws(
      () => loadConfig({ [name as string]: value, MAILBRIDGE_LMTP_SOCKET: '/tmp/x.sock' }),
      (error: unknown) => error instanceof ConfigError && error.message.includes(name as string),
      `${name}=${value}`,
    )
  }
  assert.throws(() => loadConfig({ MAILBRIDGE_CONFIG: '/nonexistent/file.json' }), ConfigError)
  assert.throws(() => loadConfig({ MAILBRIDGE_LMTP_PORT: 'off' }), /MAILBRIDGE_LMTP_SOCKET/)
})
