/**
 * What a message carries besides its text: the stripped reply, authentication verdicts
 * from the trusted authserv-id only, bounces and feedback reports as data, calendar invites.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { buildParsedMessage, parseMail } from '../../shared/message.ts'
import { stripReply } from '../../shared/parse/reply.ts'
import { CORPUS_DIR } from '../helpers/corpus.ts'
import { queuedMessage } from '../helpers/factories.ts'

async function parsed(raw: Buffer | string, authservId?: string) {
  const bytes = Buffer.from(raw)
  return buildParsedMessage(queuedMessage(bytes, ['a@x.test']), await parseMail(bytes), {
    authservId,
  })
}

function corpus(t: { skip(message: string): void }, path: string): Buffer | undefined {
  const file = join(CORPUS_DIR, path)
  if (existsSync(file)) return readFileSync(file)
  t.skip(`the mail corpus is not at ${CORPUS_DIR}`)
  return undefined
}

test('reply headers of Gmail, Outlook, Apple Mail and Thunderbird, in several languages', () => {
  const replies: Array<[string, string]> = [
    ['Thanks!\n\nOn Mon, Jan 1, 2024 at 10:00 AM Bob <bob@x.test> wrote:\n> hi', 'en, Gmail'],
    [
      'Thanks!\n\nOn Mon, Jan 1, 2024 at 10:00 AM Bob Example <\nbob@x.test> wrote:\n> hi',
      'wrapped',
    ],
    ['Thanks!\n\nOn 1 Jan 2024, at 10:00, Bob <bob@x.test> wrote:\n\n> hi', 'Apple Mail'],
    ['Thanks!\n\nOn 01/01/2024 10:00, Bob wrote:\n> hi', 'Thunderbird'],
    ['Thanks!\n\n-----Original Message-----\nFrom: Bob\nSent: Monday\n\nhi', 'Outlook'],
    [
      'Thanks!\n\n________________________________\nFrom: Bob <bob@x.test>\nSent: Monday\nhi',
      'OWA',
    ],
    ['Thanks!\n\nVon: Bob <bob@x.test>\nGesendet: Montag\nAn: Ann\n\nhi', 'Outlook de'],
    ['Thanks!\n\nLe lun. 1 janv. 2024 à 10:00, Bob <bob@x.test> a écrit :\n> hi', 'fr'],
    ['Thanks!\n\nAm Mo., 1. Jan. 2024 um 10:00 Uhr schrieb Bob <bob@x.test>:\n> hi', 'de'],
    ['Thanks!\n\nEl lun, 1 ene 2024 a las 10:00, Bob (<bob@x.test>) escribió:\n> hi', 'es'],
    ['Thanks!\n\n2024年1月1日(月) 10:00 Bob <bob@x.test>:\n> hi', 'no match: quote block'],
    ['Thanks!\n\n> hi\n> there', '> quoting'],
    ['Thanks!\n\n-- \nBob, CEO', 'signature'],
    ['Thanks!\n\nSent from my iPhone', 'mobile footer'],
  ]
  for (const [text, name] of replies) {
    const stripped = stripReply(text)
    if (name.startsWith('no match')) assert.match(stripped ?? '', /^Thanks!/, name)
    else assert.equal(stripped, 'Thanks!', name)
  }
  assert.equal(stripReply('Line one\n> quoted\nmy answer'), 'Line one\n> quoted\nmy answer')
})

const AUTH_MESSAGE = [
  'Authentication-Results: mx.sender-forged.test; spf=pass smtp.mailfrom=evil.test; dkim=pass header.d=bank.test',
  'Authentication-Results: mx.example.com 1; spf=fail (sender IP is 192.0.2.1) smtp.mailfrom=bank.test;',
  '  dkim=pass header.d=news.test header.s=s1; dkim=fail reason="bad signature" header.d=bank.test;',
  '  dmarc=fail (p=REJECT sp=REJECT) header.from=bank.test; arc=none',
  'Authentication-Results: mx.example.com; spf=pass smtp.mailfrom=bank.test',
  'Subject: verdicts',
  '',
  'body',
  '',
].join('\r\n')

test('verdicts come from the configured authserv-id only, the topmost of its headers', async () => {
  const message = await parsed(AUTH_MESSAGE, 'mx.example.com')
  assert.deepEqual(message.authentication, {
    authservId: 'mx.example.com',
    spf: { result: 'fail', properties: { 'smtp.mailfrom': 'bank.test' } },
    dkim: [
      { result: 'pass', properties: { 'header.d': 'news.test', 'header.s': 's1' } },
      { result: 'fail', properties: { reason: 'bad signature', 'header.d': 'bank.test' } },
    ],
    dmarc: { result: 'fail', properties: { 'header.from': 'bank.test' }, policy: 'reject' },
    arc: { result: 'none', properties: {} },
  })
})

test('a header claiming pass from anyone else is ignored', async () => {
  assert.equal((await parsed(AUTH_MESSAGE, 'mx.other.test')).authentication, null)
  assert.equal((await parsed(AUTH_MESSAGE)).authentication, null, 'no authserv-id configured')
})

test('a Postfix-style DSN becomes a bounce with recipient, action, status and diagnostic', async () => {
  const raw = [
    'From: MAILER-DAEMON@mx.example.com',
    'Subject: Undelivered Mail Returned to Sender',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="R"',
    '',
    '--R',
    'Content-Type: text/plain',
    '',
    'I could not deliver your message.',
    '--R',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.com',
    '',
    'Final-Recipient: rfc822; nobody@y.test',
    'Original-Recipient: rfc822; Nobody@y.test',
    'Action: failed',
    'Status: 5.1.1',
    'Remote-MTA: dns; mx.y.test',
    'Diagnostic-Code: smtp; 550 5.1.1 <nobody@y.test>: Recipient address rejected:',
    '    User unknown',
    '',
    '--R',
    'Content-Type: text/rfc822-headers',
    '',
    'Message-ID: <original@x.test>',
    'Subject: hello',
    '',
    '--R--',
    '',
  ].join('\r\n')
  const message = await parsed(raw)
  assert.deepEqual(message.bounce, {
    reportingMta: 'mx.example.com',
    recipients: [
      {
        recipient: 'nobody@y.test',
        originalRecipient: 'Nobody@y.test',
        action: 'failed',
        status: '5.1.1',
        diagnostic: '550 5.1.1 <nobody@y.test>: Recipient address rejected: User unknown',
        remoteMta: 'mx.y.test',
      },
    ],
    originalMessageId: '<original@x.test>',
  })
  assert.equal(message.feedback, null)
})

test('Gmail and Office 365 bounces of the corpus become bounces', async (t) => {
  const office = corpus(t, 'flanker/tests/fixtures/messages/bounce/office365.eml')
  const gmail = corpus(t, 'flanker/tests/fixtures/messages/bounce/zed.eml')
  if (!office || !gmail) return
  assert.equal((await parsed(office)).bounce?.recipients[0]?.status, '5.1.10')
  const bounce = (await parsed(gmail)).bounce
  assert.equal(bounce?.recipients[0]?.action, 'failed')
  assert.match(bounce?.recipients[0]?.diagnostic ?? '', /^550-5\.1\.1 The email account/)
})

test('an ARF complaint becomes feedback', async (t) => {
  const raw = corpus(t, 'flanker/tests/fixtures/messages/complaints/yahoo.eml')
  if (!raw) return
  const { feedback } = await parsed(raw)
  assert.equal(feedback?.feedbackType, 'abuse')
  assert.deepEqual(feedback?.originalRcptTo, ['user@yahoo.com'])
})

test('a calendar invite is flagged with its method, summary, start and end', async () => {
  const ics = [
    'BEGIN:VCALENDAR',
    'METHOD:REQUEST',
    'BEGIN:VEVENT',
    'UID:42@x.test',
    'SUMMARY:Quarterly review\\, budget',
    'DTSTART;TZID=Europe/Paris:20240105T090000',
    'DTEND:20240105T100000Z',
    'ORGANIZER;CN=Ann:mailto:ann@x.test',
    'END:VEVENT',
    'END:VCALENDAR',
  ].join('\r\n')
  const raw = `Subject: invite\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nContent-Type: text/plain\r\n\r\nJoin us\r\n--c\r\nContent-Type: text/calendar; charset=utf-8\r\n\r\n${ics}\r\n--c--\r\n`
  const { calendar } = await parsed(raw)
  assert.deepEqual(calendar, {
    method: 'REQUEST',
    summary: 'Quarterly review, budget',
    start: '20240105T090000 (Europe/Paris)',
    end: '20240105T100000Z',
    uid: '42@x.test',
    location: null,
    organizer: 'ann@x.test',
  })
})
