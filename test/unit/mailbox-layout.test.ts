import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  deliveryKey,
  incomingRawKey,
  indexKey,
  mailboxFromPrefix,
  mailboxName,
  mailboxPrefix,
  messageKey,
  rawKey,
  receivedKey,
  webhookKey,
} from '../../shared/mailbox-layout.ts'

const id = '01JDQ7Z8X9K2M3N4P5Q6R7S8T9'

test('keys of one message live under its mailbox', () => {
  assert.equal(mailboxPrefix('Bob@Example.com'), 'mailboxes/bob%40example.com/')
  assert.equal(rawKey('bob@example.com', id), `mailboxes/bob%40example.com/messages/${id}.eml`)
  assert.equal(messageKey('bob@example.com', id), `mailboxes/bob%40example.com/messages/${id}.json`)
  assert.equal(
    indexKey('bob@example.com', id),
    'mailboxes/bob%40example.com/index/ZYDJ8R0Q2PCXBWAV9T8S7R6Q5P.json',
  )
  assert.equal(incomingRawKey(id), `incoming/${id}.eml`)
  assert.equal(webhookKey('wh_1'), 'webhooks/wh_1.json')
  assert.equal(deliveryKey(id, 'wh_1'), `deliveries/${id}/wh_1.json`)
  assert.equal(receivedKey('Bob@example.com', 'ab12'), 'received/bob%40example.com/ab12.json')
})

test('an address cannot add a path segment of its own', () => {
  const prefix = mailboxPrefix('../../evil/x@example.com')
  assert.equal(prefix, 'mailboxes/..%2F..%2Fevil%2Fx%40example.com/')
  assert.equal(prefix.split('/').length, 3)
  assert.equal(mailboxFromPrefix(prefix), '../../evil/x@example.com')
})

test('mailbox names are lower-cased addresses, and prefixes map back to them', () => {
  assert.equal(mailboxName('  Bob+Tag@EXAMPLE.com '), 'bob+tag@example.com')
  assert.equal(mailboxFromPrefix(mailboxPrefix('bob+tag@example.com')), 'bob+tag@example.com')
  assert.equal(mailboxFromPrefix('webhooks/'), undefined)
  assert.equal(mailboxFromPrefix('mailboxes/a/b/'), undefined)
  assert.equal(mailboxFromPrefix('mailboxes/%E0%A4%A/'), undefined)
})
