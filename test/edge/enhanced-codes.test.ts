/**
 * A handler's LmtpError carries its own enhanced status code (RFC 3463) onto the wire:
 * patches/smtp-server+3.21.6.patch, at MAIL, at RCPT and in the per-recipient replies
 * after DATA (RFC 2033 §4.2). smtp-server in LMTP mode on a real socket, our errors.
 */
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import { SMTPServer } from 'smtp-server'
import { LmtpError } from '../../edge/errors.ts'
import { RawLmtp } from '../helpers/raw-lmtp.ts'

/** What each address gets at RCPT (by its local part), else 250. */
const AT_RCPT: Record<string, LmtpError> = {
  full: new LmtpError(452, 'mailbox full', { enhancedCode: '4.2.2' }),
  over: new LmtpError(552, 'mailbox over quota', { enhancedCode: '5.2.2' }),
  many: new LmtpError(452, 'too many recipients', { enhancedCode: '4.5.3' }),
  // Its class disagrees with the reply code: the default of 550 applies.
  mismatch: new LmtpError(550, 'no such user', { enhancedCode: '4.1.1' }),
  // Not an enhanced code at all: the default of 452.
  malformed: new LmtpError(452, 'later', { enhancedCode: '4.x.1' }),
  plain: new LmtpError(550, 'no such user'),
}

let server: SMTPServer
let target: { host: string; port: number }

before(async () => {
  server = new SMTPServer({
    lmtp: true,
    hideENHANCEDSTATUSCODES: false,
    disabledCommands: ['AUTH', 'STARTTLS'],
    authOptional: true,
    disableReverseLookup: true,
    logger: false,
    onMailFrom(address, _session, callback) {
      if (address.address.startsWith('blocked@'))
        return callback(new LmtpError(550, 'sender blocked', { enhancedCode: '5.7.1' }))
      callback()
    },
    onRcptTo(address, _session, callback) {
      callback(AT_RCPT[address.address.split('@')[0] ?? ''])
    },
    onData(stream, session, callback) {
      stream.resume()
      stream.on('end', () =>
        // One reply per recipient: 4.2.2 for the first, 5.2.2 for the second, 250 after.
        callback(
          null,
          session.envelope.rcptTo.map((_, i) =>
            i === 0
              ? new LmtpError(452, 'quota', { enhancedCode: '4.2.2' })
              : i === 1
                ? new LmtpError(552, 'quota', { enhancedCode: '5.2.2' })
                : Object.assign(new Error('Ok'), { responseCode: 250 }),
          ) as never,
        ),
      )
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  target = { host: '127.0.0.1', port: (server.server.address() as AddressInfo).port }
})

after(() => new Promise<void>((resolve) => server.close(resolve)))

test('MAIL and RCPT replies carry the enhanced code of the handler error', async () => {
  const client = await RawLmtp.greeted(target)
  const mail = await client.command('MAIL FROM:<blocked@example.net>')
  assert.equal((await client.command('MAIL FROM:<s@example.net>')).code, 250)
  const rcpt: string[] = []
  for (const name of Object.keys(AT_RCPT)) {
    const reply = await client.command(`RCPT TO:<${name}@example.com>`)
    rcpt.push(`${reply.code} ${reply.message.split(' ')[0]}`)
  }
  client.close()
  assert.equal(`${mail.code} ${mail.message.split(' ')[0]}`, '550 5.7.1')
  assert.deepEqual(rcpt, [
    '452 4.2.2',
    '552 5.2.2',
    '452 4.5.3',
    '550 5.1.1',
    '452 4.2.2',
    '550 5.1.1',
  ])
})

test('the replies after DATA carry each recipient error its own enhanced code', async () => {
  const client = await RawLmtp.greeted(target)
  const { data } = await client.transaction(
    's@example.net',
    ['a@example.com', 'b@example.com', 'c@example.com'],
    'Subject: x\r\n\r\nx\r\n',
  )
  client.close()
  assert.deepEqual(
    data.map((reply) => `${reply.code} ${reply.message.split(' ')[0]}`),
    ['452 4.2.2', '552 5.2.2', '250 2.0.0'],
  )
})
