/** What the numbers were measured on: CPUs, memory, and the versions of every peer. */

import { readFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { findCommand, run } from './processes.ts'

export interface Machine {
  cpus: number
  cpuModel: string
  memoryGiB: number
  kernel: string
  node: string
  dovecot: string
  postfix: string
}

async function output(command: string, args: string[]): Promise<string | undefined> {
  const path = findCommand(command)
  if (!path) return undefined
  const result = await run(path, args)
  return result.exitCode === 0 ? result.stdout.trim() : undefined
}

export async function describeMachine(): Promise<Machine> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8')
  const meminfo = await readFile('/proc/meminfo', 'utf8')
  const memKiB = Number(/^MemTotal:\s+(\d+) kB/m.exec(meminfo)?.[1] ?? 0)
  return {
    cpus: availableParallelism(),
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    memoryGiB: memKiB / 1024 / 1024,
    kernel: (await output('uname', ['-r'])) ?? 'unknown',
    node: process.version,
    dovecot: (await output('dovecot', ['--version'])) ?? 'unknown',
    // Without /etc/postfix/main.cf (postfix installed with "No configuration") postconf
    // fails; -d reads the compiled-in default, which is the same version.
    postfix:
      (await output('postconf', ['-h', 'mail_version'])) ??
      (await output('postconf', ['-d', '-h', 'mail_version'])) ??
      'unknown',
  }
}

export function formatMachine(machine: Machine): string {
  return [
    `machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB.toFixed(1)} GiB RAM, Linux ${machine.kernel}`,
    `versions: node ${machine.node}, dovecot ${machine.dovecot}, postfix ${machine.postfix}`,
  ].join('\n')
}
