/**
 * The edge's Prometheus metrics (prom-client), in a registry of its own so that two edges
 * in one process (tests, local mode) do not share counters.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

// Hand-off latency buckets (s): a few ms for an inline message to a nearby queue, up to
// the send timeout for a staged 50 MB message over a slow link.
const HANDOFF_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20]

export class EdgeMetrics {
  readonly registry = new Registry()

  /** Messages queued: one per transaction, however many recipients it had. */
  readonly accepted = new Counter({
    name: 'mailbridge_edge_messages_accepted_total',
    help: 'Messages handed off to SQS and answered 250',
    registers: [this.registry],
  })

  readonly rejected = new Counter({
    name: 'mailbridge_edge_rejected_total',
    help: 'Recipients and messages refused, by reply code (550, 452 at RCPT; 451, 552 after DATA)',
    labelNames: ['code'] as const,
    registers: [this.registry],
  })

  readonly bytes = new Counter({
    name: 'mailbridge_edge_received_bytes_total',
    help: 'Bytes of messages handed off, trace headers included',
    registers: [this.registry],
  })

  readonly handoffSeconds = new Histogram({
    name: 'mailbridge_edge_handoff_seconds',
    help: 'From the last byte of DATA to the acknowledgement of SQS',
    buckets: HANDOFF_BUCKETS,
    registers: [this.registry],
  })

  readonly inFlight = new Gauge({
    name: 'mailbridge_edge_handoffs_in_flight',
    help: 'Messages being received or handed off right now',
    registers: [this.registry],
  })

  readonly sessions = new Gauge({
    name: 'mailbridge_edge_sessions',
    help: 'Open LMTP connections',
    registers: [this.registry],
  })

  constructor(options: { processMetrics?: boolean } = {}) {
    // Memory, CPU and event-loop lag of the process, for the one edge that owns it.
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry })
  }
}
