import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ParsedMessage } from '../../shared/contracts/message.ts'
import { parseWebhookJob, type WebhookJob } from '../../shared/contracts/webhook-job.ts'
import { buildParsedMessage, parseMail } from '../../shared/message.ts'
import { INLINE_JOB_BYTES, jobBody } from '../../shared/webhook-queue.ts'
import { queuedMessage } from '../helpers/factories.ts'

/** A message parsed as ingest parses it: its text `size` ASCII characters, an X-Pad header `pad`. */
async function parsed(size: number, pad = 'p'): Promise<ParsedMessage> {
  const raw = `Subject: inline\r\nX-Pad: ${pad}\r\nContent-Type: text/plain\r\n\r\n${'x'.repeat(size)}`
  const queued = queuedMessage(raw, ['inline@example.com'])
  return buildParsedMessage(queued, await parseMail(Buffer.from(raw)))
}

const inlineBytes = (message: ParsedMessage) => jobBody(jobFor(message), message).length

function jobFor(message: ParsedMessage): WebhookJob {
  return {
    v: 1,
    messageId: message.id,
    endpointId: 'wh_0123456789abcdef0123',
    mailboxes: ['inline@example.com'],
    rcptTo: ['inline@example.com'],
    sole: true,
  }
}

test('a job carries its parsed message up to INLINE_JOB_BYTES exactly, and not a byte beyond', async () => {
  // A character of text is two bytes (`text` and `strippedText`), one of X-Pad one (in
  // `headers`): text to a few bytes short of the limit, then the pad that fills the rest.
  const size = 1000 + Math.floor((INLINE_JOB_BYTES - inlineBytes(await parsed(1000))) / 2) - 8
  const pad = 'p'.repeat(1 + INLINE_JOB_BYTES - inlineBytes(await parsed(size)))
  const atLimit = await parsed(size, pad)
  const body = jobBody(jobFor(atLimit), atLimit)
  assert.equal(body.length, INLINE_JOB_BYTES)
  assert.deepEqual(parseWebhookJob(body).message, atLimit)

  const over = await parsed(size, `${pad}p`)
  const without = jobBody(jobFor(over), over)
  assert.equal(parseWebhookJob(without).message, undefined, 'one byte over: read from S3')
  assert.deepEqual(parseWebhookJob(without), jobFor(over))
})

test('a job sent without a message, or with text beyond the limit, is the job alone', async () => {
  const message = await parsed(10)
  assert.deepEqual(parseWebhookJob(jobBody(jobFor(message))), jobFor(message))
  const big = await parsed(INLINE_JOB_BYTES + 1)
  assert.equal(jobBody(jobFor(big), big), jobBody(jobFor(big)))
})
