/**
 * Standard Webhooks signing (https://www.standardwebhooks.com), over the bytes sent:
 *
 * - `v1`: HMAC-SHA256 with the `whsec_` secret (base64 after the prefix);
 * - `v1a`: ed25519 with a `whsk_` key, verified by receivers with the `whpk_` public key,
 *   so they hold nothing that could forge a webhook.
 *
 * Both sign `{webhook-id}.{webhook-timestamp}.{body}`. Signing bytes rather than a string
 * lets the `raw` format send a message that is not UTF-8 and still verify. Several keys
 * (a rotation's old and new) give several space-separated signatures in one header, as
 * the spec allows; a receiver accepts the request when any one verifies.
 */
import { createHmac, createPrivateKey, sign } from 'node:crypto'

export interface SignedHeaders {
  'webhook-id': string
  'webhook-timestamp': string
  'webhook-signature': string
}

/** The keys that sign one request, newest first. */
export interface SigningKeys {
  /** `whsec_` secrets, for `v1`. */
  v1: string[]
  /** `whsk_` private keys, for `v1a`. */
  v1a: string[]
}

// PKCS#8 DER prefix of an ed25519 private key, before its 32-byte seed (RFC 8410).
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

function signedContent(id: string, timestamp: string, body: Uint8Array | string): Buffer {
  return Buffer.concat([Buffer.from(`${id}.${timestamp}.`), Buffer.from(body)])
}

function hmacSignature(secret: string, content: Buffer): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64')
  return `v1,${createHmac('sha256', key).update(content).digest('base64')}`
}

function ed25519Signature(privateKey: string, content: Buffer): string {
  const seed = Buffer.from(privateKey.replace(/^whsk_/, ''), 'base64')
  const key = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  })
  return `v1a,${sign(null, content, key).toString('base64')}`
}

/** The three headers that let a receiver verify `body`, sent byte for byte as signed. */
export function signWebhook(
  keys: SigningKeys,
  id: string,
  at: Date,
  body: Uint8Array | string,
): SignedHeaders {
  const timestamp = String(Math.floor(at.getTime() / 1000))
  const content = signedContent(id, timestamp, body)
  const signatures = [
    ...keys.v1.map((secret) => hmacSignature(secret, content)),
    ...keys.v1a.map((key) => ed25519Signature(key, content)),
  ]
  return {
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': signatures.join(' '),
  }
}
