/** What the numbers were measured on: CPUs, memory, and the versions of every peer. */
import { availableParallelism, cpus, release, totalmem } from 'node:os'
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
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() || 'unknown',
    memoryGiB: totalmem() / 1024 ** 3,
    kernel: release(),
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
