/**
 * Memory and CPU of the processes under test, read from Linux's /proc: VmHWM (the peak
 * resident set, which the kernel keeps per process and never lowers), VmRSS, and the
 * user + system CPU time in /proc/PID/stat. Read synchronously: these are tiny files the
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
    ppid: at(4),
    cpu: (at(14) + at(15)) / CLOCK_TICKS_PER_SECOND,
    childrenCpu: (at(16) + at(17)) / CLOCK_TICKS_PER_SECOND,
  }
}

/** `root` and every process descending from it, from one scan of /proc. */
export function processTree(root: number): number[] {
  const parents = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = readStat(Number(entry))
    if (stat) parents.set(Number(entry), stat.ppid)
  }
  const tree = new Set([root])
  // Each pass adds the children of what is already in; a tree is at most as deep as it is big.
  for (let grew = true; grew; ) {
    grew = false
    for (const [pid, ppid] of parents) {
      if (!tree.has(pid) && tree.has(ppid)) {
        tree.add(pid)
        grew = true
      }
    }
  }
  return [...tree].filter((pid) => parents.has(pid))
}

/**
 * CPU seconds used so far by `root` and its descendants: their own time, plus the time of
 * the children `root` already reaped (so a worker that exited is still counted).
 */
export function treeCpuSeconds(root: number): number {
  let total = 0
  for (const pid of processTree(root)) {
    const stat = readStat(pid)
    if (!stat) continue
    total += stat.cpu
    if (pid === root) total += stat.childrenCpu
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
 * stop(), which resolves with the largest sum seen (KiB), read once more at the end.
 */
export function samplePeakMemory(pids: () => Promise<number[]>): {
  stop(): Promise<number>
} {
  let peak = 0
  let busy: Promise<void> = Promise.resolve()
  const sample = async () => {
    try {
      let sum = 0
      for (const pid of await pids()) sum += readMemory(pid)?.hwmKiB ?? 0
      peak = Math.max(peak, sum)
    } catch {
      // A process that vanished mid-scan: the next sample sees the others.
    }
  }
  const timer = setInterval(() => {
    // One sample at a time: a slow /proc scan must not pile up.
    busy = busy.then(sample)
  }, SAMPLE_EVERY_MS)
  return {
    async stop() {
      clearInterval(timer)
      await busy
      await sample()
      return peak
    },
  }
}
