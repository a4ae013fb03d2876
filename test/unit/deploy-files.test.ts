/** deploy/edge.env.example is a valid config, and it says what postfix-config tells the admin to set. */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { parseEnv } from 'node:util'
import { postfixConfig } from '../../edge/ops/postfix/render-config.ts'
import { loadConfig } from '../../shared/config.ts'

test('deploy/edge.env.example loads, and its socket lines are the ones postfix-config prints', async () => {
  const text = await readFile(new URL('../../deploy/edge.env.example', import.meta.url), 'utf8')
  const env = parseEnv(text) as NodeJS.ProcessEnv
  const config = loadConfig(env)
  assert.deepEqual(config.edge.socket, {
    path: '/var/spool/postfix/private/mailbridge-lmtp',
    mode: 0o600,
    owner: 'postfix',
    group: 'postfix',
  })
  assert.equal(config.edge.tcp, undefined)

  const printed = postfixConfig({
    socketPath: config.edge.socket?.path,
    domains: config.edge.domains,
  })
  const block = printed.split('\n\n').find((b) => b.startsWith('# /etc/mailbridge/edge.env')) ?? ''
  const lines = block.split('\n').filter((l) => l && !l.startsWith('#'))
  assert.ok(lines.length > 0, `postfix-config prints an edge.env block:\n${printed}`)
  for (const line of lines) {
    const [name, value] = line.split('=', 2)
    assert.equal(env[name ?? ''], value, `deploy/edge.env.example: ${line}`)
  }
})
