import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { planDelivery, planWebhookJobs } from '../../functions/ingest/plan.ts'
import { buildParsedMessage, inMailbox, parseMail, summarize } from '../../shared/message.ts'
import { DEFAULT_ROUTES, RouteTable } from '../../shared/routing/route-table.ts'
import { buildWebhookPayload, webhookId } from '../../shared/webhook-payload.ts'
import { queuedMessage } from '../helpers/factories.ts'

const fixture = readFileSync(new URL('../fixtures/simple.eml', import.meta.url))

test('a parsed message keeps addresses, decoded subject, text and attachment metadata', async () => {
  const queued = queuedMessage(fixture, ['Bob@example.com', 'carol@example.com'])
  const parse = await parseMail(fixture)
  assert.equal(parse.error, undefined)
  const parsed = buildParsedMessage(queued, parse)
  const message = inMailbox(parsed, { mailbox: 'bob@example.com', seen: false })
  assert.deepEqual(message.from, { address: 'alice@example.net', name: 'Alice Example' })
  assert.deepEqual(
    message.to.map((a) => a.address),
    ['bob@example.com', 'carol@example.com'],
  )
  assert.deepEqual(message.cc, [{ address: 'dave@example.org', name: 'Dave, the Third' }])
  assert.equal(message.subject, 'Grüße from the fixture')
  assert.equal(message.messageId, '<fixture-simple@example.net>')
  assert.match(message.text ?? '', /Hello Bob, grüße\.\n\.a line that starts with a dot/)
  assert.deepEqual(message.attachments, [
    {
      index: 0,
      filename: 'data.bin',
      contentType: 'application/octet-stream',
      size: 10,
      contentId: null,
      disposition: 'attachment',
    },
  ])
  assert.deepEqual(message.envelope, {
    mailFrom: 'sender@example.net',
    rcptTo: ['Bob@example.com'],
  })
  assert.equal(message.headers[0]?.name, 'From')
  assert.deepEqual(parsed.envelope.rcptTo, ['Bob@example.com', 'carol@example.com'])
  const summary = summarize(parsed, 'bob@example.com')
  assert.equal(summary.snippet, 'Hello Bob, grüße. .a line that starts with a dot')
  assert.equal(summary.attachments, 1)
  assert.equal(summary.mailbox, 'bob@example.com')
  assert.equal(summary.seen, false)
})

test('a summary stays small whatever the headers: it is an item of the mailbox index', async () => {
  const to = Array.from({ length: 2000 }, (_, i) => `user${i}@example.com`).join(',\r\n ')
  const raw = Buffer.from(
    `To: ${to}\r\nSubject: ${'long '.repeat(50_000)}\r\n\r\n${'word '.repeat(100_000)}\r\n`,
  )
  const parsed = buildParsedMessage(queuedMessage(raw, ['a@x.test']), await parseMail(raw))
  assert.equal(parsed.to.length, 2000, 'the message keeps every address')

  const summary = summarize(parsed, 'a@x.test')

  assert.equal(summary.to.length, 50)
  assert.equal(summary.subject?.length, 998)
  assert.equal(summary.snippet.length, 200)
  assert.ok(Buffer.byteLength(JSON.stringify(summary)) < 16 * 1024)
})

test('bytes that are no MIME at all still give a stored message', async () => {
  const raw = Buffer.from([0, 255, 10, 13, 0x80, 0x41])
  const message = buildParsedMessage(queuedMessage(raw, ['a@x.test']), await parseMail(raw))
  assert.equal(message.size, 6)
  assert.equal(message.subject, null)
})

test('base64: text after the padding on its line is not data; padding on every line is', async () => {
  // As in the corpus's thirdparty/002: mail-parser and Stalwart stop at the `=`; decoding
  // " ignored" appended garbage bytes, the part was no longer UTF-8 and read as windows-1252.
  const trailing = Buffer.from(
    'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
      'ecO2dMOkIHZhYW4uCg== ignored\r\n',
  )
  assert.equal((await parseMail(trailing)).email.text, 'yötä vaan.\n')
  // Some mailers pad each line: every unit decodes, in order.
  const perLine = Buffer.from(
    'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
      `${Buffer.from('yötä ').toString('base64')}\r\n${Buffer.from('vaan.').toString('base64')}\r\n`,
  )
  assert.equal((await parseMail(perLine)).email.text, 'yötä vaan.')
})

test('recipients group by mailbox, each once; each endpoint gets one job for its mailboxes', () => {
  const routes = new RouteTable(DEFAULT_ROUTES, '+')
  const envelope = {
    mailFrom: 'alice@example.net',
    rcptTo: [
      'Bob@example.com',
      'bob@example.com',
      'bob+news@example.com',
      'carol@example.com',
      'BOB@example.com',
    ],
  }
  const plan = planDelivery(routes, envelope, [])
  assert.deepEqual(
    [...plan.mailboxes],
    [
      [
        'bob@example.com',
        { rcptTo: ['Bob@example.com', 'bob+news@example.com'], mailboxHash: null },
      ],
      ['carol@example.com', { rcptTo: ['carol@example.com'], mailboxHash: null }],
    ],
  )
  const subscribers = new Map([
    ['carol@example.com', ['carol', 'all']],
    ['dave@example.com', ['nobody']],
  ])
  const jobs = planWebhookJobs('01JDQ7Z8X9K2M3N4P5Q6R7S8T9', plan, subscribers, ['all'])
  assert.deepEqual(
    jobs.map((job) => [job.endpointId, job.mailboxes, job.rcptTo]),
    [
      [
        'all',
        ['bob@example.com', 'carol@example.com'],
        ['Bob@example.com', 'bob+news@example.com', 'carol@example.com'],
      ],
      ['carol', ['carol@example.com'], ['carol@example.com']],
    ],
  )
})

test('the webhook payload carries the message, its mailboxes and API links', async () => {
  const queued = queuedMessage(fixture, ['bob@example.com'])
  const message = buildParsedMessage(queued, await parseMail(fixture))
  const payload = buildWebhookPayload(message, ['bob@example.com'], ['bob@example.com'])
  assert.equal(payload.type, 'message.received')
  assert.equal(payload.timestamp, queued.receivedAt)
  assert.equal(payload.data.id, queued.id)
  assert.equal(payload.data.subject, 'Grüße from the fixture')
  assert.deepEqual(payload.data.mailboxes, ['bob@example.com'])
  assert.equal(payload.data.links?.raw, `/v1/mailboxes/bob%40example.com/messages/${queued.id}/raw`)
  assert.equal(payload.data.mailboxHash, null)
  assert.equal('mailbox' in payload.data, false)
  // The parsed fields ride along: stripped reply, charsets, verdicts and reports.
  assert.equal(payload.data.strippedText, message.strippedText)
  assert.deepEqual(payload.data.charsets, message.charsets)
  for (const key of ['authentication', 'bounce', 'feedback', 'calendar'] as const) {
    assert.ok(key in payload.data, key)
  }
  assert.equal(webhookId(queued.id, 'wh_1'), `msg_${queued.id}_wh_1`)
})
