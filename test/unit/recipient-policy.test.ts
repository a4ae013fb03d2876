import assert from 'node:assert/strict'
import { test } from 'node:test'
import { acceptsRecipient } from '../../edge/recipient-policy.ts'
import { domainOf } from '../../shared/routing/address.ts'

test('an empty domain list accepts every domain', () => {
  assert.equal(acceptsRecipient('a@anything.test', []), true)
})

test('domains compare case-insensitively and exactly', () => {
  const domains = ['example.com', 'mail.example.org']
  assert.equal(acceptsRecipient('Bob@EXAMPLE.COM', domains), true)
  assert.equal(acceptsRecipient('x@mail.example.org', domains), true)
  assert.equal(acceptsRecipient('x@example.org', domains), false)
  assert.equal(acceptsRecipient('x@sub.example.com', domains), false)
  assert.equal(acceptsRecipient('x@example.com.evil.test', domains), false)
})

test('a recipient without a domain is refused', () => {
  assert.equal(acceptsRecipient('postmaster', []), false)
  assert.equal(domainOf('"a@b"@example.com'), 'example.com')
})
