import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { Ajv } from 'ajv'
import { buildPostmarkPayload } from '../../functions/deliver/formats/postmark.ts'
import { renderWebhook } from '../../functions/deliver/render.ts'
import { buildParsedMessage, parseMail } from '../../shared/message.ts'
import { CORPUS_DIR, corpusMessages, corpusPresent } from '../helpers/corpus.ts'
import { queuedMessage } from '../helpers/factories.ts'
import { buildTnef, messageWithTnef } from '../helpers/tnef.ts'

const SCHEMA = join(CORPUS_DIR, 'webhook-schemas/postmark-inbound.schema.json')

async function parsed(raw: Buffer, rcptTo = ['bob+orders@example.com']) {
  const queued = queuedMessage(raw, rcptTo)
  const parse = await parseMail(raw)
  const contents = parse.email.attachments.map((a) =>
    typeof a.content === 'string'
      ? Buffer.from(a.content)
      : new Uint8Array(a.content as ArrayBuffer),
  )
  return { message: buildParsedMessage(queued, parse), contents, rcptTo }
}

const withAttachment = Buffer.from(
  [
    'From: "Ann Example" <ann@example.net>',
    'To: "Bob" <bob+orders@example.com>, carol@example.com',
    'Cc: dave@example.org',
    'Reply-To: replies@example.net',
    'Subject: Invoice',
    'Date: Fri, 1 Aug 2014 16:45:32 -0400',
    'Message-ID: <abc@example.net>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary=b',
    '',
    '--b',
    'Content-Type: text/plain',
    '',
    'Hello',
    '--b',
    'Content-Type: application/octet-stream; name=small.bin',
    'Content-Disposition: attachment; filename=small.bin',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('tiny').toString('base64'),
    '--b',
    'Content-Type: application/octet-stream; name=big.bin',
    'Content-Disposition: attachment; filename=big.bin',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.alloc(3000, 1).toString('base64'),
    '--b--',
    '',
  ].join('\r\n'),
)

test('postmark: field for field as Postmark sends it', async () => {
  const { message, contents, rcptTo } = await parsed(withAttachment)
  const payload = buildPostmarkPayload(message, rcptTo, contents)
  assert.equal(payload.From, 'ann@example.net')
  assert.equal(payload.FromName, 'Ann Example')
  assert.deepEqual(payload.FromFull, {
    Email: 'ann@example.net',
    Name: 'Ann Example',
    MailboxHash: '',
  })
  assert.equal(payload.To, '"Bob" <bob+orders@example.com>, carol@example.com')
  assert.deepEqual(payload.ToFull[0], {
    Email: 'bob+orders@example.com',
    Name: 'Bob',
    MailboxHash: 'orders',
  })
  assert.equal(payload.Cc, 'dave@example.org')
  assert.equal(payload.OriginalRecipient, 'bob+orders@example.com')
  assert.equal(payload.MailboxHash, 'orders')
  assert.equal(payload.ReplyTo, 'replies@example.net')
  assert.equal(payload.Date, 'Fri, 1 Aug 2014 16:45:32 -0400')
  assert.equal(payload.MessageID, message.id)
  assert.equal(payload.TextBody.trim(), 'Hello')
  // No Tag and the default stream, as Postmark sends them; the reply as parsing stripped it.
  assert.deepEqual([payload.Tag, payload.MessageStream], ['', 'inbound'])
  assert.equal(payload.StrippedTextReply, message.strippedText ?? '')
  assert.equal(payload.StrippedTextReply, 'Hello')
  assert.ok(payload.Headers.some((h) => h.Name === 'Message-ID'))
  assert.ok(!payload.Headers.some((h) => h.Name === 'Subject'))
  assert.deepEqual(
    payload.Attachments.map((a) => [
      a.Name,
      a.ContentLength,
      Buffer.from(a.Content, 'base64').length,
    ]),
    [
      ['small.bin', 4, 4],
      ['big.bin', 3000, 3000],
    ],
  )
  const none = buildPostmarkPayload({ ...message, strippedText: undefined }, rcptTo, contents)
  assert.equal(none.StrippedTextReply, '')
})

test('mailbridge: attachments inline up to the endpoint’s size, links above it', async () => {
  const { message, rcptTo } = await parsed(withAttachment)
  const rendered = await renderWebhook(
    { format: 'mailbridge', inlineAttachmentBytes: 1000 },
    {
      message,
      mailboxes: ['bob@example.com'],
      rcptTo,
      event: 'message.received',
      loadRaw: async () => withAttachment,
    },
  )
  const payload = JSON.parse(String(rendered.body))
  const [small, big] = payload.data.attachments
  assert.equal(Buffer.from(small.content, 'base64').toString(), 'tiny')
  assert.equal(big.content, undefined)
  assert.equal(big.link, `/v1/mailboxes/bob%40example.com/messages/${message.id}/attachments/1`)
  assert.equal(payload.data.mailboxHash, 'orders')
  // A mailboxHash routing worked out wins over the one read from the recipient.
  const routed = await renderWebhook(
    { format: 'mailbridge', inlineAttachmentBytes: 0 },
    {
      message: { ...message, mailboxHash: null },
      mailboxes: ['bob@example.com'],
      rcptTo,
      event: 'message.received',
      loadRaw: async () => undefined,
    },
  )
  assert.equal(JSON.parse(String(routed.body)).data.mailboxHash, null)
})

test('raw: the message byte for byte as message/rfc822, the envelope in headers', async () => {
  const bytes = Buffer.concat([withAttachment, Buffer.from([0xff, 0xfe])])
  const { message, rcptTo } = await parsed(bytes, ['bøb+x@example.com'])
  const rendered = await renderWebhook(
    { format: 'raw', inlineAttachmentBytes: 0 },
    {
      message,
      mailboxes: ['bøb+x@example.com'],
      rcptTo,
      event: 'message.received',
      loadRaw: async () => bytes,
    },
  )
  assert.deepEqual(Buffer.from(rendered.body as Uint8Array), bytes)
  assert.equal(rendered.headers['content-type'], 'message/rfc822')
  assert.equal(rendered.headers['mailbridge-message-id'], message.id)
  assert.equal(rendered.headers['mailbridge-mail-from'], 'sender@example.net')
  assert.equal(rendered.headers['mailbridge-rcpt-to'], 'b%C3%B8b+x@example.com')
  assert.equal(rendered.headers['mailbridge-mailbox-hash'], 'x')
})

test('postmark: the payload of every corpus message validates against Postmark’s schema', async (t) => {
  if (!corpusPresent()) {
    t.skip(`corpus absent: ${CORPUS_DIR} (see ../shared/corpus/README.md)`)
    return
  }
  const validate = new Ajv({ strict: false }).compile(JSON.parse(readFileSync(SCHEMA, 'utf8')))
  const messages = corpusMessages()
  assert.ok(messages.length > 100, `${messages.length} corpus messages`)
  const failures: string[] = []
  for (const { name, bytes } of messages) {
    const { message, contents, rcptTo } = await parsed(bytes)
    const payload = JSON.parse(JSON.stringify(buildPostmarkPayload(message, rcptTo, contents)))
    if (!validate(payload))
      failures.push(`${name}: ${JSON.stringify(validate.errors?.slice(0, 2))}`)
  }
  assert.deepEqual(failures, [])
})

// Found in review: deliver cut the attachments' contents from the MIME parts alone, so the
// files unpacked from a winmail.dat (listed after it, as ingest and the API list them) got
// no content: Postmark's Content was "".
test('the files unpacked from a winmail.dat get their bytes, in both JSON formats', async () => {
  const report = Buffer.from('quarterly figures\n')
  const raw = messageWithTnef(
    buildTnef([{ title: 'REPORT.TXT', data: report, longName: 'report.txt' }]),
  )
  const { message, rcptTo } = await parsed(raw, ['bob@example.com'])
  assert.deepEqual(
    message.attachments.map((a) => a.filename),
    ['winmail.dat', 'report.txt'],
  )
  const render = (format: 'mailbridge' | 'postmark') =>
    renderWebhook(
      { format, inlineAttachmentBytes: 256 * 1024 },
      {
        message,
        mailboxes: ['bob@example.com'],
        rcptTo,
        event: 'message.received',
        loadRaw: async () => raw,
      },
    )
  const postmark = JSON.parse(String((await render('postmark')).body)) as {
    Attachments: { Name: string; Content: string }[]
  }
  const unpacked = postmark.Attachments.find((a) => a.Name === 'report.txt')
  assert.deepEqual(Buffer.from(unpacked?.Content ?? '', 'base64'), report)
  const mailbridge = JSON.parse(String((await render('mailbridge')).body)) as {
    data: { attachments: { filename: string; content?: string }[] }
  }
  const inline = mailbridge.data.attachments.find((a) => a.filename === 'report.txt')
  assert.deepEqual(Buffer.from(inline?.content ?? '', 'base64'), report)
})
