/** Standard Webhooks signing (https://www.standardwebhooks.com), via the reference library. */
import { Webhook } from 'standardwebhooks'

export interface SignedHeaders {
  'webhook-id': string
  'webhook-timestamp': string
  'webhook-signature': string
}

/**
 * Headers that let the receiver verify `body` with its `whsec_` secret: the signature is
 * HMAC-SHA256 over `id.timestamp.body`, so the body must be sent byte for byte as signed.
 */
export function signWebhook(secret: string, id: string, at: Date, body: string): SignedHeaders {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
  }
}
