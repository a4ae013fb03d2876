/**
 * `npm run send-test -- [--lmtp HOST:PORT | --socket PATH] [--to ADDR]... [--from ADDR]`:
 * sends one small test message over LMTP (nodemailer's LMTP client) and prints what the
 * server answered for each recipient.
 */
import { connect } from 'node:net'
import { parseArgs } from 'node:util'
import nodemailer from 'nodemailer'
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js'

const { values } = parseArgs({
  options: {
    lmtp: { type: 'string', default: '127.0.0.1:2424' },
    socket: { type: 'string' },
    to: { type: 'string', multiple: true, default: ['test@example.com'] },
    from: { type: 'string', default: 'sender@example.net' },
  },
})

const [host = '127.0.0.1', port = '2424'] = values.lmtp.split(/:(?=\d+$)/)
const socketPath = values.socket
const transport = nodemailer.createTransport({
  lmtp: true,
  host,
  port: Number(port),
  ignoreTLS: true,
  name: 'send-test.local',
  ...(socketPath && {
    getSocket: ((_options, callback) =>
      callback(null, {
        connection: connect(socketPath),
      })) satisfies SMTPTransport.Options['getSocket'],
  }),
})

try {
  const info = await transport.sendMail({
    from: values.from,
    to: values.to,
    subject: `mailbridge test ${new Date().toISOString()}`,
    text: 'Hello from mailbridge send-test.\n',
    html: '<p>Hello from <b>mailbridge</b> send-test.</p>',
    attachments: [{ filename: 'hello.txt', content: 'an attachment\n' }],
  })
  console.log(`accepted: ${info.accepted.join(', ') || '-'}`)
  console.log(`rejected: ${info.rejected.join(', ') || '-'}`)
  console.log(`reply:    ${info.response}`)
} catch (error) {
  console.error(`send failed: ${(error as Error).message}`)
  process.exitCode = 1
}
