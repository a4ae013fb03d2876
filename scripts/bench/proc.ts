/**
 * Memory and CPU of the processes under test, read from Linux's /proc: VmHWM (the peak
 * resident set, which the kernel keeps per process and never lowers), VmRSS, and the
 * user + system CPU time in /proc/PID/stat (a process's threads included, so the edge's
 * SQS worker thread counts as the edge's). Read synchronously: these are tiny files the
 * kernel writes on the spot, and the thread-pool round trip of an async read would cost
 * the bench (whose event loop also times the probe) far more CPU than the read itself.
 */
import { readdirSync, readFileSync } from 'node:fs'

// USER_HZ, the unit of the times in /proc/PID/stat: 100 on every mainstream Linux arch.
const CLOCK_TICKS_PER_SECOND = 100
// How often a sampler reads /proc (ms): often enough to see a short-lived worker.
const SAMPLE_EVERY_MS = 100

export interface Memory {
  /** Resident set now, KiB. */
  rssKiB: number
  /** Peak resident set since the process started, KiB. */
  hwmKiB: number
}

/** VmRSS and VmHWM of a process, or undefined when it is gone. */
export function readMemory(pid: number): Memory | undefined {
  let status: string
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return undefined
  }
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1])
  const rssKiB = field('VmRSS')
  const hwmKiB = field('VmHWM')
  // A zombie has no memory lines any more.
  if (Number.isNaN(rssKiB) || Number.isNaN(hwmKiB)) return undefined
  return { rssKiB, hwmKiB }
}

interface Stat {
  /** One letter: R, S, D, Z (zombie)… */
  state: string
  ppid: number
  /** utime + stime, seconds. */
  cpu: number
  /** cutime + cstime: CPU of children it has waited for, seconds. */
  childrenCpu: number
}

function readStat(pid: number): Stat | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ')
  const at = (field: number) => Number(rest[field - 3])
  return {
    state: rest[0] ?? '',
    ppid: at(4),
    cpu: (at(14) + at(15)) / CLOCK_TICKS_PER_SECOND,
    childrenCpu: (at(16) + at(17)) / CLOCK_TICKS_PER_SECOND,
  }
}

/** CPU seconds (user + system, all its threads) one process has used so far; 0 once gone. */
export function processCpuSeconds(pid: number): number {
  return readStat(pid)?.cpu ?? 0
}

/** True while the process runs; a zombie has exited and only waits to be reaped. */
export function isAlive(pid: number): boolean {
  const stat = readStat(pid)
  return stat !== undefined && stat.state !== 'Z'
}

/** Every process on the machine at one moment: one scan of /proc. */
export type ProcessTable = Map<number, Stat>

export function scanProcesses(): ProcessTable {
  const table: ProcessTable = new Map()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = readStat(Number(entry))
    if (stat) table.set(Number(entry), stat)
  }
  return table
}

/** The `roots` that still run, and every process descending from them. */
function descendants(table: ProcessTable, roots: number[]): Set<number> {
  const tree = new Set(roots.filter((pid) => table.has(pid)))
  // Each pass adds the children of what is already in; a tree is at most as deep as it is big.
  for (let grew = true; grew; ) {
    grew = false
    for (const [pid, stat] of table) {
      if (!tree.has(pid) && tree.has(stat.ppid)) {
        tree.add(pid)
        grew = true
      }
    }
  }
  return tree
}

/** `root` and every process descending from it, from a fresh scan of /proc. */
export function processTree(root: number): number[] {
  return [...descendants(scanProcesses(), [root])]
}

/**
 * CPU seconds used so far by the `roots` and their descendants, each process counted once:
 * their own time, plus the time of the children each root already reaped (so a worker that
 * exited is still counted). A root's cutime never holds a live descendant's time, so a root
 * under another root is not counted twice.
 */
export function cpuSeconds(table: ProcessTable, roots: number[]): number {
  let total = 0
  for (const pid of descendants(table, roots)) {
    const stat = table.get(pid)
    if (!stat) continue
    total += stat.cpu
    if (roots.includes(pid)) total += stat.childrenCpu
  }
  return total
}

/**
 * CPU seconds the whole machine has been busy since boot, all CPUs together: user, nice,
 * system, irq, softirq, and steal (time a hypervisor gave to another guest).
 */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? ''
  const [user, nice, system, , , irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number)
  const busy = [user, nice, system, irq, softirq, steal].reduce<number>(
    (sum, value) => sum + (value ?? 0),
    0,
  )
  return busy / CLOCK_TICKS_PER_SECOND
}

/**
 * Samples the sum of VmHWM over the processes `pids()` lists, every SAMPLE_EVERY_MS, until
 * stop(), which returns the largest sum seen (KiB), read once more at the end.
 */
export function samplePeakMemory(pids: () => number[]): { stop(): number } {
  let peak = 0
  const sample = () => {
    let sum = 0
    // A process that vanished since pids() listed it adds nothing.
    for (const pid of pids()) sum += readMemory(pid)?.hwmKiB ?? 0
    peak = Math.max(peak, sum)
  }
  // Unref'd: a row that failed before stop() must not keep the bench running.
  const timer = setInterval(sample, SAMPLE_EVERY_MS).unref()
  return {
    stop() {
      clearInterval(timer)
      sample()
      return peak
    },
  }
}
