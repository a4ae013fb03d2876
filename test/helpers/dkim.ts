/**
 * DKIM signing for tests: keys made here, signed with mailauth, and the TXT record that
 * publishes the key, for a test's resolver to serve.
 */
import { generateKeyPairSync } from 'node:crypto'
import { dkimSign } from 'mailauth/lib/dkim/sign.js'

// mailauth's sign.d.ts declares the signing domain, selector and key at the top of the
// options, but its signer reads them from `signatureData` (lib/dkim/dkim-signer.js).
const sign = dkimSign as unknown as (
  message: string,
  options: {
    signatureData: Array<{
      signingDomain: string
      selector: string
      privateKey: string
      algorithm: string
    }>
  },
) => Promise<{ signatures: string }>

export interface SignedMessage {
  /** The DKIM-Signature field, then the message. */
  raw: Buffer
  /** The key record's name, `{selector}._domainkey.{domain}`. */
  name: string
  /** The key record, as published in DNS. */
  record: string
}

/** `message` signed by `domain` with a new key of `algorithm`, and that key's record. */
export async function signWithNewKey(
  message: string,
  algorithm: 'rsa' | 'ed25519',
  domain: string,
  selector = 'sel',
): Promise<SignedMessage> {
  const keys =
    algorithm === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ed25519')
  const privateKey = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const spki = keys.publicKey.export({ type: 'spki', format: 'der' })
  // RFC 8463 §4.2: an Ed25519 record holds the bare 32-byte key, an RSA one the
  // SubjectPublicKeyInfo.
  const p = (algorithm === 'ed25519' ? spki.subarray(-32) : spki).toString('base64')
  const { signatures } = await sign(message, {
    signatureData: [
      { signingDomain: domain, selector, privateKey, algorithm: `${algorithm}-sha256` },
    ],
  })
  if (!signatures) throw new Error(`mailauth made no signature for ${domain}`)
  return {
    raw: Buffer.from(signatures + message),
    name: `${selector}._domainkey.${domain}`,
    record: `v=DKIM1; k=${algorithm}; p=${p}`,
  }
}
