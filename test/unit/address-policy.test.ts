import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  LOCAL_POLICY,
  refusalOf,
  STRICT_POLICY,
  urlRefusal,
} from '../../functions/deliver/address-policy.ts'
import { AddressRefusedError, checkedAddress } from '../../functions/deliver/http-client.ts'

test('every special-purpose address class is refused in production', () => {
  const refused = [
    '127.0.0.1',
    '127.255.0.9',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.251',
    '255.255.255.255',
    '::1',
    '::',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:169.254.169.254',
    '::ffff:10.0.0.1',
    '64:ff9b::7f00:1',
    '64:ff9b::a9fe:a9fe',
    '64:ff9b:1::a00:1',
    // Local-use NAT64 anywhere in its /48, whatever it embeds.
    '64:ff9b:1:abcd::7f00:1',
    '64:ff9b:1::808:808',
    '2002:7f00:1::1',
    '::127.0.0.1',
    '64:ff9b::169.254.169.254',
    '2002:a9fe:a9fe::',
    'fe80::1%eth0',
    '2001:db8::1',
  ]
  for (const address of refused) {
    assert.ok(refusalOf(address, STRICT_POLICY), `${address} should be refused`)
  }
  const reachable = [
    '93.184.216.34',
    '8.8.8.8',
    '2606:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ]
  for (const address of reachable) {
    assert.equal(refusalOf(address, STRICT_POLICY), undefined, `${address} should pass`)
  }
  assert.equal(refusalOf('64:ff9b::7f00:1', STRICT_POLICY), 'a loopback address, written as IPv6')
  assert.equal(refusalOf('example.com', STRICT_POLICY), 'not an IP address')
})

test('loopback passes only when allowed; metadata and link-local never', () => {
  assert.equal(refusalOf('127.0.0.1', LOCAL_POLICY), undefined)
  assert.equal(refusalOf('::1', LOCAL_POLICY), undefined)
  assert.equal(refusalOf('::ffff:127.0.0.1', LOCAL_POLICY), undefined)
  assert.match(refusalOf('169.254.169.254', LOCAL_POLICY) ?? '', /link-local/)
  assert.match(refusalOf('10.0.0.1', LOCAL_POLICY) ?? '', /private/)
  assert.equal(refusalOf('10.0.0.1', { ...LOCAL_POLICY, allowPrivate: true }), undefined)
})

test('URLs that can never pass are refused at creation, in every spelling', () => {
  const never = [
    ['http://example.com/hook', /https/],
    ['https://user:pass@example.com/', /user name or password/],
    ['https://127.0.0.1/', /loopback/],
    ['https://2130706433/', /127\.0\.0\.1.*loopback/],
    ['https://0x7f.0.0.1/', /loopback/],
    ['https://0177.0.0.1/', /loopback/],
    ['https://017700000001/', /loopback/],
    ['https://169.254.169.254/latest/meta-data/', /link-local/],
    ['https://[::ffff:169.254.169.254]/', /link-local/],
    ['https://[::1]/', /loopback/],
    ['https://[fd00::1]/', /unique local/],
    ['https://localhost/', /this machine/],
    ['https://api.localhost/', /this machine/],
    ['https://intranet/', /not a public domain/],
  ] as const
  for (const [url, why] of never) {
    assert.match(urlRefusal(url, STRICT_POLICY) ?? '(passed)', why, url)
  }
  assert.equal(urlRefusal('https://app.example.com/hooks', STRICT_POLICY), undefined)
  assert.equal(urlRefusal('http://127.0.0.1:9000/in', LOCAL_POLICY), undefined)
  assert.equal(urlRefusal('http://localhost:9000/in', LOCAL_POLICY), undefined)
  assert.match(urlRefusal('http://u:p@127.0.0.1/', LOCAL_POLICY) ?? '', /password/)
})

test('a host name is refused when any address it resolves to is, with no network', async () => {
  const table: Record<string, string[]> = {
    'loop.test': ['127.0.0.1'],
    'meta.test': ['169.254.169.254'],
    'mapped.test': ['::ffff:127.0.0.1'],
    'private.test': ['10.0.0.1'],
    'six.test': ['::1'],
    'mixed.test': ['93.184.216.34', '10.0.0.1'],
    'public.test': ['93.184.216.34'],
  }
  const resolve = async (host: string) =>
    (table[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  for (const host of Object.keys(table).filter((name) => name !== 'public.test')) {
    await assert.rejects(checkedAddress(host, STRICT_POLICY, resolve), AddressRefusedError, host)
  }
  await assert.rejects(checkedAddress('[::1]', STRICT_POLICY, resolve), /loopback/)
  await assert.rejects(checkedAddress('nothing.test', STRICT_POLICY, resolve), /no address/)
  assert.equal(await checkedAddress('public.test', STRICT_POLICY, resolve), '93.184.216.34')
})
