import assert from 'node:assert/strict'
import { test } from 'node:test'
import { rfc5322Date, traceHeaders } from '../../edge/trace-headers.ts'

const BASE = {
  id: '01KBZ3J6Q5M8V0D4XWJ3T2N6YE',
  mailFrom: 'alice@example.net',
  client: { address: '127.0.0.1', lhlo: 'mx.example.com' },
  hostname: 'mailbridge',
  receivedAt: new Date('2026-11-25T10:00:00.123Z'),
}

test('one recipient: Return-Path, Delivered-To and a Received naming it, as Dovecot writes them', () => {
  assert.equal(
    traceHeaders({ ...BASE, rcptTo: ['bob@example.com'] }),
    'Return-Path: <alice@example.net>\r\n' +
      'Delivered-To: bob@example.com\r\n' +
      'Received: from mx.example.com ([127.0.0.1])\r\n' +
      '\tby mailbridge with LMTP id 01KBZ3J6Q5M8V0D4XWJ3T2N6YE\r\n' +
      '\t(envelope-from <alice@example.net>)\r\n' +
      '\tfor <bob@example.com>; Wed, 25 Nov 2026 10:00:00 +0000\r\n',
  )
})

test('several recipients: none is named, so no mailbox learns of the others (Bcc)', () => {
  const headers = traceHeaders({ ...BASE, rcptTo: ['bob@example.com', 'carol@example.com'] })
  assert.doesNotMatch(headers, /Delivered-To|bob|carol/)
  assert.match(
    headers,
    /\t\(envelope-from <alice@example\.net>\); Wed, 25 Nov 2026 10:00:00 \+0000\r\n$/,
  )
})

test('the null sender and a UNIX-socket client without an address', () => {
  const headers = traceHeaders({ ...BASE, mailFrom: '', client: {}, rcptTo: ['b@example.com'] })
  assert.match(headers, /^Return-Path: <>\r\n/)
  assert.match(headers, /\r\nReceived: from unknown\r\n/)
})

test('control characters cannot split a header line', () => {
  const headers = traceHeaders({
    ...BASE,
    client: { address: '127.0.0.1', lhlo: 'evil\r\nX-Injected: yes' },
    rcptTo: ['b@example.com'],
  })
  assert.doesNotMatch(headers, /\r\nX-Injected/)
  assert.match(headers, /from evil\?\?X-Injected: yes /)
  // Every line ends in CRLF and no bare CR or LF is left.
  assert.equal(headers.replaceAll('\r\n', '').search(/[\r\n]/), -1)
})

test('RFC 5322 dates in UTC with two-digit days', () => {
  assert.equal(rfc5322Date(new Date('2027-01-05T03:04:05Z')), 'Tue, 05 Jan 2027 03:04:05 +0000')
})
