/**
 * Webhooks over https through the checked client: it dials the address the policy checked,
 * while TLS keeps the host name for SNI and for the certificate check, and it keeps the
 * connection alive between webhooks. A real TLS server on loopback, with a certificate
 * made by openssl for `hooks.test`; the resolver is injected, so no network is used.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { TLSSocket } from 'node:tls'
import type { AddressPolicy } from '../../functions/deliver/address-policy.ts'
import {
  createWebhookAgent,
  postWebhook,
  type Resolver,
} from '../../functions/deliver/http-client.ts'
import { findCommand } from '../../shared/commands.ts'
import { inCi } from '../helpers/system.ts'

const POLICY: AddressPolicy = { allowHttp: false, allowLoopback: true, allowPrivate: false }
const resolve: Resolver = async () => [{ address: '127.0.0.1', family: 4 }]

const OPENSSL = findCommand('openssl')
const MISSING = 'openssl is not installed (.ci/run installs it): it makes the test certificate'
// Outside CI a missing package skips these tests, saying so; in CI it fails them.
const skip = OPENSSL === undefined && !inCi() ? MISSING : false

let server: Server
let port: number
let cert: Buffer
const serverNames: string[] = []
let connections = 0

before(async () => {
  if (skip) return
  const openssl = OPENSSL
  if (openssl === undefined) throw new Error(MISSING)
  const dir = mkdtempSync(join(tmpdir(), 'mailbridge-tls-'))
  try {
    execFileSync(
      openssl,
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=hooks.test',
        '-addext',
        'subjectAltName=DNS:hooks.test',
      ],
      { stdio: 'ignore' },
    )
    cert = readFileSync(join(dir, 'cert.pem'))
    server = createServer(
      { key: readFileSync(join(dir, 'key.pem')), cert },
      (request, response) => {
        serverNames.push((request.socket as TLSSocket).servername || '')
        request.resume()
        request.on('end', () => response.writeHead(200).end('ok'))
      },
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  server.on('secureConnection', () => connections++)
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  port = (server.address() as AddressInfo).port
})

after(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())))

test('https: the checked address is dialled, the name is sent as SNI, the connection is kept', {
  skip,
}, async () => {
  const agent = createWebhookAgent({ policy: POLICY, resolve, ca: cert })
  try {
    for (let i = 0; i < 2; i++) {
      const answer = await postWebhook(agent, `https://hooks.test:${port}/in`, {}, '{}', 5000)
      assert.equal(answer.status, 200)
      assert.equal(answer.body, 'ok')
    }
    assert.deepEqual(serverNames.slice(-2), ['hooks.test', 'hooks.test'])
    assert.equal(connections, 1, 'the second webhook went over the first connection')
  } finally {
    agent.close()
  }
})

test('https: the certificate is checked, against the name in the URL', { skip }, async () => {
  const untrusted = createWebhookAgent({ policy: POLICY, resolve })
  const trusting = createWebhookAgent({ policy: POLICY, resolve, ca: cert })
  try {
    await assert.rejects(
      postWebhook(untrusted, `https://hooks.test:${port}/in`, {}, '{}', 5000),
      /self[- ]signed/i,
    )
    // Dialled at the same address, but the certificate names hooks.test, not other.test.
    await assert.rejects(
      postWebhook(trusting, `https://other.test:${port}/in`, {}, '{}', 5000),
      (error: NodeJS.ErrnoException) => error.code === 'ERR_TLS_CERT_ALTNAME_INVALID',
    )
  } finally {
    untrusted.close()
    trusting.close()
  }
})
