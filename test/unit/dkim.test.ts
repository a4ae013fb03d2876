/**
 * Ingest's own DKIM check (shared/parse/dkim.ts, mailauth) with its key lookups served from
 * memory: the corpus's signed messages against their signers' published keys (RFC 8463's
 * example, Gmail's archived 20120113 key), and messages signed here with keys made here,
 * passing, then tampered with.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import {
  buildParsedMessage,
  parseMail,
  type TxtResolver,
  verifyDkim,
} from '../../shared/message.ts'
import { DKIM_MAX_LOOKUPS, hasDkimSignature } from '../../shared/parse/dkim.ts'
import { CORPUS_DIR } from '../helpers/corpus.ts'
import { signWithNewKey } from '../helpers/dkim.ts'
import { queuedMessage } from '../helpers/factories.ts'
import { inCi } from '../helpers/system.ts'

// The key records the corpus's signers published. RFC 8463 Appendix A.2 gives the two of
// its example; Gmail's 20120113 key, long revoked, is archived by every DKIM test suite
// (MimeKit's, dkimpy's) that verifies its old messages.
const PUBLISHED_KEYS: Record<string, string> = {
  'brisbane._domainkey.football.example.com':
    'v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=',
  'test._domainkey.football.example.com':
    'v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB',
  '20120113._domainkey.gmail.com':
    'k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA1Kd87/UeJjenpabgbFwh+eBCsSTrqmwIYYvywlbhbqoo2DymndFkbjOVIPIldNs/m40KF+yzMn1skyoxcTUGCQs8g3FgD2Ap3ZB5DekAo5wMmk4wimDO+U8QzI3SD07y2+07wlNWwIt8svnxgdxGkVbbhzY8i+RQ9DpSVpPbF7ykQxtKXkv/ahW3KjViiAH+ghvvIhkx4xYSIc9oSwVmAl5OctMEeWUwg8Istjqz8BZeTWbf41fbNhte7Y+YqZOwq1Sd0DbvYAD9NOZK9vlfuac0598HY+vtSBczUiKERHv1yRbcaQtZFh5wtiRrN04BLUTD21MycBX5jYchHjPY/wIDAQAB',
}

/** A resolver answering from `records`, as `dns.resolve(name, 'TXT')` would; counts its lookups. */
function resolverOf(records: Record<string, string>): TxtResolver & { lookups: string[] } {
  const lookups: string[] = []
  const resolve = async (name: string) => {
    lookups.push(name)
    const record = records[name]
    if (record === undefined) {
      throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' })
    }
    return [[record]]
  }
  return Object.assign(resolve, { lookups })
}

function corpus(t: { skip(message: string): void }, path: string): Buffer | undefined {
  const file = join(CORPUS_DIR, path)
  if (existsSync(file)) return readFileSync(file)
  const message = `the mail corpus is not at ${CORPUS_DIR} (it sits beside the repository)`
  if (inCi()) throw new Error(message)
  t.skip(message)
  return undefined
}

test('the corpus signatures verify against their published keys: Ed25519 and RSA', async (t) => {
  const cases: Array<[string, Array<[string, string, string]>]> = [
    [
      'mimekit/UnitTests/TestData/dkim/rfc8463-example.msg',
      [
        ['football.example.com', 'brisbane', 'ed25519-sha256'],
        ['football.example.com', 'test', 'rsa-sha256'],
      ],
    ],
    ['mimekit/UnitTests/TestData/dkim/gmail.msg', [['gmail.com', '20120113', 'rsa-sha256']]],
    ['mimekit/UnitTests/TestData/dkim/related.msg', [['gmail.com', '20120113', 'rsa-sha256']]],
    [
      'mimekit/UnitTests/TestData/dkim/multipart-no-end-boundary.msg',
      [['gmail.com', '20120113', 'rsa-sha256']],
    ],
  ]
  for (const [path, signatures] of cases) {
    const raw = corpus(t, path)
    if (!raw) return
    const results = await verifyDkim(raw, { resolver: resolverOf(PUBLISHED_KEYS) })
    assert.deepEqual(
      results,
      signatures.map(([domain, selector, algorithm]) => ({
        domain,
        selector,
        algorithm,
        result: 'pass',
        comment: null,
        aligned: true,
      })),
      path,
    )
    // The same bytes with one word of the body changed: the body hash no longer matches.
    const text = raw.toString('latin1')
    const tampered = Buffer.from(
      text.replace(/(\r?\n\r?\n[\s\S]*?)([A-Za-z]{4,})/, '$1X$2'),
      'latin1',
    )
    assert.notDeepEqual(tampered, raw)
    for (const result of (await verifyDkim(tampered, { resolver: resolverOf(PUBLISHED_KEYS) })) ??
      []) {
      assert.equal(result.result, 'neutral', `${path}: tampered body`)
      assert.equal(result.comment, 'body hash did not verify')
    }
  }
})

test('a signed real-world bounce whose body was rewritten on the way is not a pass', async (t) => {
  // Office 365's copy: the signature of the original message, its body since re-encoded.
  const raw = corpus(t, 'flanker/tests/fixtures/messages/bounce/office365.eml')
  if (!raw) return
  const [result] = (await verifyDkim(raw, { resolver: resolverOf({}) })) ?? []
  assert.equal(result?.domain, 'examplenorge.onmicrosoft.com')
  assert.notEqual(result?.result, 'pass')
})

// A message signed here, with a key made here, served by the test's resolver.
const MESSAGE = [
  'From: Ann <ann@mail.example.org>',
  'To: bob@example.com',
  'Subject: Quarterly figures',
  'Date: Mon, 6 Jan 2025 10:00:00 +0000',
  'Message-ID: <q1@mail.example.org>',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Revenue was 1,204 units.',
  '',
].join('\r\n')

async function signed(algorithm: 'rsa' | 'ed25519', domain = 'example.org') {
  const { raw, name, record } = await signWithNewKey(MESSAGE, algorithm, domain)
  return { raw, resolver: resolverOf({ [name]: record }) }
}

test('a message signed with a key made here: pass, and not once tampered with', async () => {
  for (const algorithm of ['rsa', 'ed25519'] as const) {
    const { raw, resolver } = await signed(algorithm)
    const [pass] = (await verifyDkim(raw, { resolver })) ?? []
    assert.deepEqual(pass, {
      domain: 'example.org',
      selector: 'sel',
      algorithm: `${algorithm}-sha256`,
      result: 'pass',
      comment: null,
      // mail.example.org and example.org share their organizational domain.
      aligned: true,
    })
    assert.deepEqual(resolver.lookups, ['sel._domainkey.example.org'])

    const body = Buffer.from(raw.toString().replace('1,204', '9,204'))
    const [altered] = (await verifyDkim(body, { resolver })) ?? []
    assert.deepEqual([altered?.result, altered?.comment], ['neutral', 'body hash did not verify'])

    const header = Buffer.from(raw.toString().replace('Quarterly figures', 'Quarterly figure$'))
    const [forged] = (await verifyDkim(header, { resolver })) ?? []
    assert.deepEqual([forged?.result, forged?.comment], ['fail', 'bad signature'])
  }
})

test('a signature of another domain than From is not aligned; a missing key is no pass', async () => {
  const { raw, resolver } = await signed('ed25519', 'bulk-sender.test')
  const [result] = (await verifyDkim(raw, { resolver })) ?? []
  assert.deepEqual([result?.result, result?.aligned], ['pass', false])

  const [missing] = (await verifyDkim(raw, { resolver: resolverOf({}) })) ?? []
  assert.deepEqual([missing?.result, missing?.comment], ['neutral', 'no key'])
})

test('a key lookup that never answers is a temperror, not a stuck ingest', async () => {
  const { raw } = await signed('ed25519')
  const silent: TxtResolver = () => new Promise(() => {})
  const started = performance.now()
  const [result] = (await verifyDkim(raw, { resolver: silent, lookupTimeoutMs: 50 })) ?? []
  assert.equal(result?.result, 'temperror')
  assert.ok(performance.now() - started < 2000)
})

test('a message with many signatures costs a bounded number of lookups', async () => {
  const { raw } = await signed('ed25519')
  const text = raw.toString()
  const [signature = ''] = text.split(/\r\n(?=[^ \t])/)
  const many = Array.from({ length: 20 }, (_, i) =>
    signature.replace('d=example.org', `d=d${i}.test`),
  )
  const resolver = resolverOf({})
  const results =
    (await verifyDkim(Buffer.from(`${many.join('\r\n')}\r\n${text}`), { resolver })) ?? []
  assert.equal(results.length, 21)
  assert.ok(resolver.lookups.length <= DKIM_MAX_LOOKUPS, `${resolver.lookups.length} lookups`)
  assert.ok(results.every((r) => r.result !== 'pass'))
})

test('an unsigned message: no check and no lookup', async () => {
  const resolver = resolverOf(PUBLISHED_KEYS)
  const raw = Buffer.from(MESSAGE)
  assert.equal(hasDkimSignature(raw), false)
  assert.equal(await verifyDkim(raw, { resolver }), null)
  assert.deepEqual(resolver.lookups, [])
  // A DKIM-Signature in the body is not one of the message's header fields.
  const quoted = Buffer.from(`${MESSAGE}DKIM-Signature: v=1; d=x.test\r\n`)
  assert.equal(hasDkimSignature(quoted), false)
})

test('the stored message: ingest’s own verdicts beside the MTA’s, even with no trusted header', async () => {
  const { raw, resolver } = await signed('rsa')
  const dkim = await verifyDkim(raw, { resolver })
  const queued = queuedMessage(raw, ['bob@example.com'])
  const parse = await parseMail(raw)

  const alone = buildParsedMessage(queued, parse, { dkim })
  assert.deepEqual(alone.authentication, {
    authservId: null,
    spf: null,
    dkim: [],
    dmarc: null,
    arc: null,
    dkimVerified: dkim,
  })

  const trusted = Buffer.from(
    `Authentication-Results: mx.example.com; dkim=pass header.d=example.org\r\n${raw}`,
  )
  const both = buildParsedMessage(queued, await parseMail(trusted), {
    authservId: 'mx.example.com',
    dkim,
  })
  assert.equal(both.authentication?.authservId, 'mx.example.com')
  assert.equal(both.authentication?.dkim[0]?.result, 'pass')
  assert.equal(both.authentication?.dkimVerified?.[0]?.result, 'pass')

  const unsigned = buildParsedMessage(queued, parse, { dkim: null })
  assert.equal(unsigned.authentication, null, 'nothing to say')
})
