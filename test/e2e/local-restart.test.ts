/**
 * Local mode keeps the promise of every 250 through a crash and through a stop: a burst
 * of real LMTP clients (Python's smtplib.LMTP), the process killed in the middle, then
 * started again on the same data directory. Every message that got a 250 must be in its
 * mailbox exactly once.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { pythonLmtpBurst } from '../helpers/lmtp-clients.ts'
import { type LocalMode, startLocalMode } from '../helpers/local-mode.ts'
import { needCommands } from '../helpers/system.ts'

const MAILBOX = 'burst@local.test'
// Messages acknowledged before the stop: enough that ingest is behind the edge.
const ACKED_BEFORE_STOP = 60
// How long the restarted bridge may take to store what was queued (ms).
const CATCH_UP_MS = 60_000

interface Summary {
  id: string
  subject: string | null
}

/** Every summary in the mailbox, all pages. */
async function listAll(local: LocalMode): Promise<Summary[]> {
  const out: Summary[] = []
  let cursor: string | null = null
  do {
    const query: string = cursor ? `&cursor=${cursor}` : ''
    const response = await local.request(
      `/v1/mailboxes/${encodeURIComponent(MAILBOX)}/messages?limit=100${query}`,
    )
    assert.equal(response.status, 200)
    const page = (await response.json()) as { messages: Summary[]; nextCursor: string | null }
    out.push(...page.messages)
    cursor = page.nextCursor
  } while (cursor)
  return out
}

async function waitForAll(local: LocalMode, acked: string[]): Promise<Summary[]> {
  const deadline = Date.now() + CATCH_UP_MS
  for (;;) {
    const stored = await listAll(local)
    const subjects = new Set(stored.map((summary) => summary.subject))
    const missing = acked.filter((subject) => !subjects.has(subject))
    if (missing.length === 0) return stored
    if (Date.now() > deadline) {
      assert.fail(
        `${missing.length} of ${acked.length} acknowledged messages never stored: ${missing.slice(0, 5).join(', ')}…`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

async function stopMidBurst(t: TestContext, signal: NodeJS.Signals): Promise<void> {
  if (!needCommands(t, ['python3'])) return
  const dataDir = await mkdtemp(join(tmpdir(), 'mailbridge-data-'))
  // In-flight records come back 2 s after a restart instead of 30.
  const env = {
    MAILBRIDGE_DATA_DIR: dataDir,
    MAILBRIDGE_DOMAINS: 'local.test',
    MAILBRIDGE_LOCAL_INGEST_RETRY_SECONDS: '2',
  }
  let local = await startLocalMode(env)
  try {
    const burst = pythonLmtpBurst(local.lmtp, {
      sessions: 8,
      messages: 400,
      size: 10_000,
      from: 'sender@burst.test',
      to: MAILBOX,
      prefix: `${signal}-`,
    })
    while (burst.acked.length < ACKED_BEFORE_STOP) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const code = await local.stop(signal)
    if (signal === 'SIGTERM') assert.equal(code, 0, local.output())
    await burst.done
    const acked = [...burst.acked]
    assert.ok(acked.length >= ACKED_BEFORE_STOP && acked.length < 400, `${acked.length} acked`)

    local = await startLocalMode(env)
    const stored = await waitForAll(local, acked)
    const bySubject = new Map<string | null, number>()
    for (const summary of stored) {
      bySubject.set(summary.subject, (bySubject.get(summary.subject) ?? 0) + 1)
    }
    const twice = [...bySubject].filter(([, count]) => count > 1)
    assert.deepEqual(twice, [], 'a message stored more than once')
    // What was not acknowledged may or may not be there (the client retries it): never twice.
    t.diagnostic(`${acked.length} acknowledged, ${stored.length} stored after the restart`)
  } finally {
    await local.stop('SIGKILL')
    await rm(dataDir, { recursive: true, force: true })
  }
}

test('SIGKILL in the middle of a burst: after a restart every 250 is in its mailbox once', (t) =>
  stopMidBurst(t, 'SIGKILL'))

test('SIGTERM in the middle of a burst: exits 0, and every 250 is in its mailbox once', (t) =>
  stopMidBurst(t, 'SIGTERM'))
