import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import type { OpenAPIHono } from '@hono/zod-openapi'
import { createApp } from '../../functions/api/app.ts'
import type { Problem } from '../../functions/api/problem.ts'
import type { MessageSummary, StoredMessage } from '../../shared/contracts/message.ts'
import type { QueuedMessage } from '../../shared/contracts/queue.ts'
import { newMessageId } from '../../shared/message-id.ts'
import { type Emulator, ingestMessages, readMessage, startEmulator } from '../helpers/emulator.ts'
import { buildTnef, messageWithTnef } from '../helpers/tnef.ts'

interface MessagePage {
  messages: MessageSummary[]
  nextCursor: string | null
}

const API_KEY = 'test-key-messages'
const AUTH = { Authorization: `Bearer ${API_KEY}` }
// The PDF attachment of api-attachment.eml, decoded: includes NUL, 0xFF and a bare CRLF.
const PDF_HEX = '255044462d312e340a00fffe800d0a010a2525454f460a'

/** A response body, typed as the route declares it. */
async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T
}

function fixture(name: string): Buffer {
  return readFileSync(new URL(`../fixtures/${name}`, import.meta.url))
}

/** Stores a fixture in one mailbox through ingest. */
async function store(
  emulator: Emulator,
  file: string,
  mailbox: string,
  receivedAt = new Date(),
): Promise<{ raw: Buffer; message: StoredMessage }> {
  const raw = fixture(file)
  const queued: QueuedMessage = {
    v: 1,
    id: newMessageId(receivedAt.getTime()),
    receivedAt: receivedAt.toISOString(),
    envelope: { mailFrom: 'alice@example.org', rcptTo: [mailbox] },
    size: raw.byteLength,
    raw: { base64: raw.toString('base64') },
  }
  await ingestMessages(emulator, queued)
  const message = await readMessage(emulator, mailbox, queued.id)
  assert.ok(message, 'stored')
  return { raw, message }
}

async function assertProblem(res: Response, status: number): Promise<Problem> {
  assert.equal(res.status, status)
  assert.equal(res.headers.get('content-type'), 'application/problem+json')
  const body = (await res.json()) as Problem
  assert.equal(body.status, status)
  assert.equal(body.type, 'about:blank')
  assert.equal(typeof body.title, 'string')
  assert.equal(typeof body.detail, 'string')
  return body
}

describe('api: mailboxes and messages', () => {
  let emulator: Emulator
  let app: OpenAPIHono
  const get = (path: string) => app.request(path, { headers: AUTH })

  before(async () => {
    emulator = await startEmulator()
    app = createApp({ stores: emulator.root.stores, apiKey: API_KEY })
  })
  after(() => emulator.stop())

  it('lists mailboxes with their message counts', async () => {
    await store(emulator, 'api-plain.eml', 'count-a@example.com')
    await store(emulator, 'api-plain.eml', 'count-a@example.com')
    await store(emulator, 'api-plain.eml', 'count-b@example.com')

    const size = fixture('api-plain.eml').byteLength
    const res = await get('/v1/mailboxes')

    assert.equal(res.status, 200)
    const { mailboxes: list } = await json<{ mailboxes: { address: string }[] }>(res)
    assert.deepEqual(
      list.filter((entry) => entry.address.startsWith('count-')),
      [
        { address: 'count-a@example.com', messages: 2, bytes: 2 * size, unseen: 2 },
        { address: 'count-b@example.com', messages: 1, bytes: size, unseen: 1 },
      ],
    )
  })

  it('pages newest first with a cursor, whatever the case of the address', async () => {
    const mailbox = 'paging@example.com'
    const base = Date.UTC(2025, 2, 4, 10, 0, 0)
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      ids.push(
        (await store(emulator, 'api-plain.eml', mailbox, new Date(base + i * 1000))).message.id,
      )
    }
    const newestFirst = [...ids].reverse()
    const path = '/v1/mailboxes/Paging%40Example.COM/messages'

    const pages: string[][] = []
    let cursor: string | null = null
    do {
      const query: string = cursor === null ? '?limit=2' : `?limit=2&cursor=${cursor}`
      const res = await get(path + query)
      assert.equal(res.status, 200)
      const page = await json<MessagePage>(res)
      pages.push(page.messages.map((summary) => summary.id))
      cursor = page.nextCursor
    } while (cursor !== null)

    assert.deepEqual(pages, [
      newestFirst.slice(0, 2),
      newestFirst.slice(2, 4),
      newestFirst.slice(4),
    ])
    const all = await json<MessagePage>(await get(path))
    assert.deepEqual(
      all.messages.map((summary) => summary.id),
      newestFirst,
    )
    assert.equal(all.nextCursor, null)
    assert.deepEqual(Object.keys(all.messages[0] ?? {}).sort(), [
      'attachments',
      'date',
      'from',
      'id',
      'mailbox',
      'mailboxHash',
      'receivedAt',
      'seen',
      'size',
      'snippet',
      'subject',
      'to',
    ])
    assert.equal(all.messages[0]?.snippet, 'Hi Bob, Shall we have lunch on Friday at noon? Alice')
  })

  it('marks a message read and unread, and the counters follow', async () => {
    const { message } = await store(emulator, 'api-plain.eml', 'seen@example.com')
    const path = `/v1/mailboxes/seen%40example.com/messages/${message.id}`
    const patch = (seen: unknown) =>
      app.request(path, {
        method: 'PATCH',
        headers: { ...AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ seen }),
      })
    const unseen = async () => {
      const { mailboxes: list } = await json<{ mailboxes: { address: string; unseen: number }[] }>(
        await get('/v1/mailboxes?limit=200'),
      )
      return list.find((entry) => entry.address === 'seen@example.com')?.unseen
    }
    assert.equal(message.seen, false)
    assert.equal(await unseen(), 1)

    const read = await patch(true)
    assert.equal(read.status, 200)
    assert.equal((await json<MessageSummary>(read)).seen, true)
    assert.equal((await patch(true)).status, 200, 'marking it read again is no change')
    assert.equal(await unseen(), 0)
    assert.equal((await json<StoredMessage>(await get(path))).seen, true)

    assert.equal((await patch(false)).status, 200)
    assert.equal(await unseen(), 1)
    await assertProblem(await patch('yes'), 400)
    await assertProblem(
      await app.request(path.replace(message.id, newMessageId()), {
        method: 'PATCH',
        headers: { ...AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ seen: true }),
      }),
      404,
    )
  })

  it('answers an empty page for a mailbox that never got mail', async () => {
    const res = await get('/v1/mailboxes/nobody%40example.com/messages')

    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { messages: [], nextCursor: null })
  })

  it('refuses a bad limit, cursor or address with 400', async () => {
    const path = '/v1/mailboxes/paging%40example.com/messages'
    for (const query of ['?limit=0', '?limit=201', '?limit=abc', '?limit=1.5', '?limit=']) {
      const problem = await assertProblem(await get(path + query), 400)
      assert.match(problem.detail, /limit/, query)
    }
    const problem = await assertProblem(await get(`${path}?cursor=not-a-cursor`), 400)
    assert.match(problem.detail, /cursor/)
    const long = await assertProblem(await get(`/v1/mailboxes/${'a'.repeat(321)}/messages`), 400)
    assert.match(long.detail, /^param\.address: /)
  })

  it('returns a message as JSON', async () => {
    const { message } = await store(emulator, 'api-plain.eml', 'shape@example.com')

    const res = await get(`/v1/mailboxes/shape%40example.com/messages/${message.id}`)

    assert.equal(res.status, 200)
    const body = await json<StoredMessage>(res)
    assert.deepEqual(body, message)
    assert.equal(body.mailbox, 'shape@example.com')
    assert.deepEqual(body.envelope, {
      mailFrom: 'alice@example.org',
      rcptTo: ['shape@example.com'],
    })
    assert.deepEqual(body.from, { address: 'alice@example.org', name: 'Alice Example' })
    assert.deepEqual(body.to, [{ address: 'bob@example.com', name: 'Bob' }])
    assert.deepEqual(body.cc, [{ address: 'carol@example.net', name: '' }])
    assert.equal(body.subject, 'Lunch on Friday?')
    assert.equal(body.date, '2025-03-04T10:15:00.000Z')
    assert.equal(body.messageId, '<lunch-1@example.org>')
    assert.match(body.text ?? '', /lunch on Friday at noon/)
    assert.ok(body.headers.some((header) => header.name === 'Subject'))
    assert.deepEqual(body.attachments, [])
  })

  it('returns the raw message byte for byte', async () => {
    const { raw, message } = await store(emulator, 'api-attachment.eml', 'raw@example.com')

    const res = await get(`/v1/mailboxes/raw%40example.com/messages/${message.id}/raw`)

    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'message/rfc822')
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), raw)
  })

  it('serves attachments decoded, with safe Content-Disposition', async () => {
    const { message } = await store(emulator, 'api-attachment.eml', 'files@example.com')
    const base = `/v1/mailboxes/files%40example.com/messages/${message.id}`

    const stored = await json<StoredMessage>(await get(base))
    assert.deepEqual(
      stored.attachments.map((a) => [a.filename, a.contentType, a.size]),
      [
        ['Résumé "final".pdf', 'application/pdf', PDF_HEX.length / 2],
        ['notes.txt', 'text/plain', 18],
      ],
    )
    assert.equal(stored.attachments[1]?.contentId, 'notes@example.org')

    const pdf = await get(`${base}/attachments/0`)
    assert.equal(pdf.status, 200)
    assert.equal(pdf.headers.get('content-type'), 'application/pdf')
    assert.equal(
      pdf.headers.get('content-disposition'),
      `attachment; filename="R_sum_ _final_.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.pdf`,
    )
    assert.equal(Buffer.from(await pdf.arrayBuffer()).toString('hex'), PDF_HEX)

    const notes = await get(`${base}/attachments/1`)
    assert.equal(notes.headers.get('content-type'), 'text/plain')
    assert.equal(
      notes.headers.get('content-disposition'),
      `attachment; filename="notes.txt"; filename*=UTF-8''notes.txt`,
    )
    assert.equal(await notes.text(), 'line one\nline two\n')

    for (const index of ['2', '01', '-1', 'x']) {
      await assertProblem(await get(`${base}/attachments/${index}`), 404)
    }
  })

  it('serves the files unpacked from a winmail.dat after the attachments, and the original', async () => {
    const csv = Buffer.from('a,b\r\n1,2\r\n')
    const tnef = buildTnef(
      [{ title: 'REPORT~1.CSV', longName: 'report.csv', mimeTag: 'text/csv', data: csv }],
      '{\\rtf1 Hi}',
    )
    const raw = messageWithTnef(tnef)
    const queued: QueuedMessage = {
      v: 1,
      id: newMessageId(Date.now()),
      receivedAt: new Date().toISOString(),
      envelope: { mailFrom: 'ann@example.org', rcptTo: ['tnef@example.com'] },
      size: raw.byteLength,
      raw: { base64: raw.toString('base64') },
    }
    await ingestMessages(emulator, queued)
    const base = `/v1/mailboxes/tnef%40example.com/messages/${queued.id}`

    const stored = await json<StoredMessage>(await get(base))
    assert.deepEqual(
      stored.attachments.map((a) => [a.index, a.filename, a.contentType, a.size, a.parent]),
      [
        [0, 'winmail.dat', 'application/ms-tnef', tnef.byteLength, undefined],
        [1, 'report.csv', 'text/csv', csv.byteLength, 0],
        [2, 'body.rtf', 'application/rtf', 10, 0],
      ],
    )
    const original = await get(`${base}/attachments/0`)
    assert.deepEqual(Buffer.from(await original.arrayBuffer()), tnef)
    const report = await get(`${base}/attachments/1`)
    assert.equal(report.headers.get('content-type'), 'text/csv')
    assert.deepEqual(Buffer.from(await report.arrayBuffer()), csv, 'byte for byte, CRLFs kept')
    const rtf = await get(`${base}/attachments/2`)
    assert.equal(await rtf.text(), '{\\rtf1 Hi}')
    await assertProblem(await get(`${base}/attachments/3`), 404)
  })

  it('deletes a message, then no longer finds it', async () => {
    const { message } = await store(emulator, 'api-plain.eml', 'delete@example.com')
    const path = `/v1/mailboxes/delete%40example.com/messages/${message.id}`

    const res = await app.request(path, { method: 'DELETE', headers: AUTH })

    assert.equal(res.status, 204)
    assert.equal(await res.text(), '')
    await assertProblem(await get(path), 404)
    await assertProblem(await get(`${path}/raw`), 404)
    await assertProblem(await app.request(path, { method: 'DELETE', headers: AUTH }), 404)
    const page = await json<MessagePage>(await get('/v1/mailboxes/delete%40example.com/messages'))
    assert.deepEqual(page.messages, [])
  })

  it('answers 404 for unknown and malformed message ids', async () => {
    const { message } = await store(emulator, 'api-attachment.eml', 'missing@example.com')
    const unknown = newMessageId()
    const paths = [
      `/v1/mailboxes/missing%40example.com/messages/${unknown}`,
      `/v1/mailboxes/missing%40example.com/messages/${unknown}/raw`,
      `/v1/mailboxes/missing%40example.com/messages/${unknown}/attachments/0`,
      `/v1/mailboxes/other%40example.com/messages/${message.id}`,
      '/v1/mailboxes/missing%40example.com/messages/not-an-id',
      `/v1/mailboxes/missing%40example.com/messages/${message.id.toLowerCase()}`,
    ]
    for (const path of paths) await assertProblem(await get(path), 404)
    await assertProblem(await app.request(paths[4] ?? '', { method: 'DELETE', headers: AUTH }), 404)
  })
})
