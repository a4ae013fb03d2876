/**
 * Real LMTP clients other than Postfix, each returning what the server answered: swaks,
 * Python's smtplib.LMTP (reading every per-recipient reply after DATA, RFC 2033 §4.2), and
 * Postfix's smtp-source load generator.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findCommand, run, runOk } from './system.ts'

// Generous for a loopback server, short enough that a hung server fails the test (s).
const CLIENT_TIMEOUT_S = 20

/** Where an LMTP server listens: TCP host and port, or a UNIX socket path. */
export type LmtpTarget = { host: string; port: number } | { socketPath: string }

/** One server reply. */
export interface Reply {
  code: number
  /** The reply text, continuation lines joined with "\n", without the code. */
  message: string
}

export interface SwaksResult {
  /** swaks's exit code: 0 when every step succeeded (see `man swaks`, EXIT CODES). */
  exitCode: number | null
  /** The session as swaks prints it ("<-" lines from the server, "->" lines from swaks). */
  transcript: string
}

export interface MessageSpec {
  from: string
  to: string[]
  data: string | Buffer
}

/**
 * One LMTP transaction with swaks: LHLO, MAIL, one RCPT per address, DATA with the message
 * read from stdin, then one reply per accepted recipient. swaks turns bare LF into CRLF and
 * expands its %TOKENS% in the data.
 */
export function swaksLmtp(target: LmtpTarget, msg: MessageSpec): Promise<SwaksResult> {
  return swaks('LMTP', target, msg)
}

/** The same with ESMTP, e.g. into a test Postfix's smtpd (`startPostfix({ smtpPort })`). */
export function swaksSmtp(target: LmtpTarget, msg: MessageSpec): Promise<SwaksResult> {
  return swaks('ESMTP', target, msg)
}

async function swaks(
  protocol: 'LMTP' | 'ESMTP',
  target: LmtpTarget,
  msg: MessageSpec,
): Promise<SwaksResult> {
  const where =
    'socketPath' in target
      ? ['--socket', target.socketPath]
      : ['--server', target.host, '--port', String(target.port)]
  const result = await run(
    'swaks',
    [
      '--protocol',
      protocol,
      ...where,
      '--from',
      msg.from,
      '--to',
      msg.to.join(','),
      '--data',
      '-',
      '--timeout',
      `${CLIENT_TIMEOUT_S}s`,
    ],
    { input: msg.data },
  )
  return { exitCode: result.exitCode, transcript: result.stdout + result.stderr }
}

export interface PythonLmtpResult {
  /** The MAIL FROM reply. */
  mail: Reply
  /** One reply per RCPT TO, in order. */
  rcpt: Reply[]
  /**
   * After the data: one reply per accepted recipient, in RCPT order. Empty when no
   * recipient was accepted (DATA is not sent); the single DATA reply when DATA was refused.
   */
  data: Reply[]
}

// Reads the spec as JSON from argv and the message bytes from a file, so any byte value
// goes through untouched. smtplib.LMTP("/path") connects to a UNIX socket; data() sends
// DATA, the dot-stuffed bytes as given (no line-ending fixes for bytes) and reads the first
// reply; the others are read with getreply().
const PYTHON_LMTP = `
import json, smtplib, sys
spec = json.loads(sys.argv[1])
with open(spec["file"], "rb") as f:
    body = f.read()
def reply(code, msg):
    return {"code": code, "message": msg.decode("utf-8", "replace")}
if "socketPath" in spec["target"]:
    client = smtplib.LMTP(spec["target"]["socketPath"], timeout=spec["timeout"])
else:
    client = smtplib.LMTP(spec["target"]["host"], spec["target"]["port"], timeout=spec["timeout"])
client.ehlo()
out = {"mail": reply(*client.mail(spec["from"])), "rcpt": [], "data": []}
accepted = 0
for rcpt in spec["to"]:
    code, msg = client.rcpt(rcpt)
    out["rcpt"].append(reply(code, msg))
    if 200 <= code < 300:
        accepted += 1
if accepted > 0:
    try:
        out["data"].append(reply(*client.data(body)))
        for _ in range(accepted - 1):
            out["data"].append(reply(*client.getreply()))
    except smtplib.SMTPDataError as err:
        out["data"].append(reply(err.smtp_code, err.smtp_error))
try:
    client.quit()
except smtplib.SMTPServerDisconnected:
    pass
print(json.dumps(out))
`

/**
 * One LMTP transaction with Python's smtplib.LMTP, reporting every RCPT reply and every
 * per-recipient reply after the data. The message bytes are sent as given (8-bit safe,
 * dot-stuffed, bare LF kept): pass CRLF line endings unless testing bare LF.
 */
export async function pythonLmtp(
  target: LmtpTarget,
  msg: { from: string; to: string[]; data: Buffer | string },
): Promise<PythonLmtpResult> {
  const dir = await mkdtemp(join(tmpdir(), 'mailbridge-pylmtp-'))
  try {
    const file = join(dir, 'message.eml')
    await writeFile(file, msg.data)
    const spec = { target, from: msg.from, to: msg.to, file, timeout: CLIENT_TIMEOUT_S }
    const python = findCommand('python3') ?? 'python3'
    const result = await runOk(python, ['-c', PYTHON_LMTP, JSON.stringify(spec)])
    return JSON.parse(result.stdout) as PythonLmtpResult
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export interface SmtpSourceOptions {
  /** Parallel sessions (-s). */
  sessions: number
  /** Messages in total (-m). */
  messages: number
  /** Body bytes per message, headers not included (-l). */
  size: number
  from: string
  /** The recipient (-t); with `recipients` > 1, smtp-source prepends a number to it. */
  to: string
  /** Send the next message over the same connection (-d). */
  reuse: boolean
  /** Recipients per transaction (-r), default 1. */
  recipients?: number
}

/**
 * Runs `smtp-source -L` against the target (`host:port` or `unix:path`). It exits non-zero
 * with "smtp-source: fatal: …" on stderr at the first unexpected reply.
 */
export async function smtpSource(
  target: LmtpTarget,
  opts: SmtpSourceOptions,
): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  const where =
    'socketPath' in target
      ? `unix:${target.socketPath}`
      : `inet:${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`
  const args = [
    '-L',
    '-s',
    String(opts.sessions),
    '-m',
    String(opts.messages),
    '-l',
    String(opts.size),
    '-f',
    opts.from,
    '-t',
    opts.to,
    ...(opts.reuse ? ['-d'] : []),
    ...(opts.recipients !== undefined ? ['-r', String(opts.recipients)] : []),
    where,
  ]
  return run(findCommand('smtp-source') ?? '/usr/sbin/smtp-source', args, { timeoutMs: 60_000 })
}

// `sessions` threads share the numbers 0..messages-1; each sends its messages over one
// connection and prints "250 NAME" the moment a message's reply after the data is 2xx,
// so what the server acknowledged is known even when it dies in the middle.
const PYTHON_BURST = `
import json, smtplib, sys, threading
spec = json.loads(sys.argv[1])
lock = threading.Lock()
numbers = iter(range(spec["messages"]))
padding = ("x" * 76 + "\\r\\n") * (spec["size"] // 78)
def say(line):
    with lock:
        print(line, flush=True)
def session():
    try:
        client = smtplib.LMTP(spec["host"], spec["port"], timeout=spec["timeout"])
        client.ehlo()
    except Exception as err:
        say("error connect " + type(err).__name__)
        return
    while True:
        with lock:
            n = next(numbers, None)
        if n is None:
            break
        name = spec["prefix"] + str(n)
        body = ("From: <" + spec["from"] + ">\\r\\nTo: <" + spec["to"] + ">\\r\\nSubject: " + name +
                "\\r\\nMessage-ID: <" + name + "@burst.test>\\r\\n\\r\\n" + padding).encode()
        try:
            client.sendmail(spec["from"], [spec["to"]], body)
            say("250 " + name)
        except smtplib.SMTPException as err:
            say("error " + name + " " + type(err).__name__)
            if isinstance(err, smtplib.SMTPServerDisconnected):
                return
        except OSError as err:
            say("error " + name + " " + type(err).__name__)
            return
    try:
        client.quit()
    except Exception:
        pass
threads = [threading.Thread(target=session) for _ in range(spec["sessions"])]
for t in threads: t.start()
for t in threads: t.join()
`

export interface LmtpBurst {
  /** Subjects of the messages the server answered 250 to, as they come. */
  acked: string[]
  /** Resolves when every session has ended: all sent, or the server went away. */
  done: Promise<void>
}

/**
 * Python's smtplib.LMTP sending `messages` messages of about `size` bytes, one recipient
 * each, over `sessions` connections at once. Each message's subject is `prefix` + its
 * number. Stops a session at its first lost connection, not at a refusal.
 */
export function pythonLmtpBurst(
  target: { host: string; port: number },
  opts: {
    sessions: number
    messages: number
    size: number
    from: string
    to: string
    prefix: string
  },
): LmtpBurst {
  const acked: string[] = []
  const spec = { ...target, ...opts, timeout: CLIENT_TIMEOUT_S }
  const python = findCommand('python3') ?? 'python3'
  let pending = ''
  const done = run(python, ['-c', PYTHON_BURST, JSON.stringify(spec)], {
    timeoutMs: 120_000,
    onSpawn: (child) =>
      child.stdout?.on('data', (chunk: Buffer) => {
        pending += chunk.toString()
        const lines = pending.split('\n')
        pending = lines.pop() ?? ''
        for (const line of lines) if (line.startsWith('250 ')) acked.push(line.slice(4))
      }),
  }).then((result) => {
    if (result.exitCode !== 0) throw new Error(`LMTP burst failed: ${result.stderr}`)
  })
  return { acked, done }
}
