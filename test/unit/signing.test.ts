import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { test } from 'node:test'
import { Webhook } from 'standardwebhooks'
import { signWebhook } from '../../functions/deliver/sign.ts'
import { newWebhookSecret } from '../../shared/store/endpoints.ts'

test('signatures verify with the standardwebhooks package', () => {
  const secret = newWebhookSecret()
  assert.match(secret, /^whsec_[A-Za-z0-9+/]{32}$/)
  const body = JSON.stringify({ type: 'message.received', data: { subject: 'grüße' } })
  const headers = signWebhook(secret, 'msg_1', new Date(), body)
  assert.deepEqual(new Webhook(secret).verify(body, { ...headers }), JSON.parse(body))
})

test('the signature is HMAC-SHA256 over id.timestamp.body with the decoded secret', () => {
  const key = Buffer.alloc(24, 7)
  const at = new Date('2026-11-25T12:00:00Z')
  const headers = signWebhook(`whsec_${key.toString('base64')}`, 'msg_2', at, '{"a":1}')
  const expected = createHmac('sha256', key).update('msg_2.1795608000.{"a":1}').digest('base64')
  assert.equal(headers['webhook-timestamp'], '1795608000')
  assert.equal(headers['webhook-signature'], `v1,${expected}`)
})

test('a changed body or another secret does not verify', () => {
  const secret = newWebhookSecret()
  const headers = signWebhook(secret, 'msg_3', new Date(), '{"a":1}')
  assert.throws(() => new Webhook(secret).verify('{"a":2}', { ...headers }))
  assert.throws(() => new Webhook(newWebhookSecret()).verify('{"a":1}', { ...headers }))
})
