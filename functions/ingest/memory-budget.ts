/**
 * How many bytes of mail ingest works on at once. The records of a batch run side by side
 * (shared/sqs-batch.ts), and each holds several copies of its message while it is parsed
 * and stored (the raw bytes, the parse, its JSON): a few times its size at the peak. Ten
 * 40 MB messages in one batch would need more than a 1.5 GB Lambda has. A budget of raw
 * bytes keeps the sum bounded: small messages still run side by side, a big one waits
 * for room, and one bigger than the whole budget runs alone.
 */
import { Semaphore } from 'async-mutex'

/** Raw message bytes ingest handles at once, per process (or local mode's thread). */
export const INGEST_BYTES_IN_FLIGHT = 64 * 1024 * 1024

// The budget is kept in units of this many bytes, each message taking at least one:
// async-mutex's weighted semaphore walks its value unit by unit when it is released.
const UNIT_BYTES = 1024 * 1024

/** What ingest needs of a budget: a task run once its bytes are free. */
export interface BytesInFlight {
  run<T>(bytes: number, task: () => Promise<T>): Promise<T>
}

export class ByteBudget implements BytesInFlight {
  readonly #semaphore: Semaphore
  readonly #units: number
  readonly #unitBytes: number

  constructor(total = INGEST_BYTES_IN_FLIGHT, unitBytes = UNIT_BYTES) {
    this.#unitBytes = unitBytes
    this.#units = Math.max(1, Math.floor(total / unitBytes))
    this.#semaphore = new Semaphore(this.#units)
  }

  /**
   * Runs `task` once `bytes` (rounded up to whole units, the whole budget at most) are free,
   * and frees them after.
   */
  run<T>(bytes: number, task: () => Promise<T>): Promise<T> {
    const units = Math.max(1, Math.ceil(bytes / this.#unitBytes))
    return this.#semaphore.runExclusive(task, Math.min(units, this.#units))
  }
}
