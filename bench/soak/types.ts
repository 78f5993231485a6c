/** Shapes of the soak's results (`results.json`). */

/** The soak's request kinds, sent in turn. */
export type OpName = 'invoke' | 'stateSave' | 'stateGet' | 'publish';

/** Latency and counts of one kind of request (or all) in one minute. */
export interface OpStats {
  /** Requests that succeeded (their latencies are the percentiles). */
  requests: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** One measured minute. */
export interface MinuteRecord extends OpStats {
  minute: number;
  /** Requests not sent because `maxInFlight` were outstanding. */
  skipped: number;
  perOp: Record<OpName, OpStats>;
  /** Median of the 5 s samples taken in the minute (RSS saw-tooths with garbage collection). */
  rssMB: { a: number; b: number };
  /** V8 heap in use at the end of the minute (`nodejs_heap_size_used_bytes` from each sidecar's metrics), to tell a heap leak from native growth. */
  heapUsedMB: { a: number; b: number };
  /** Highest 5 s sample in the minute. */
  peakRssMB: { a: number; b: number };
  /** CPU used in the minute, in cores: each sidecar, and the whole machine's busy share (0–1). */
  cpuShare: { a: number; b: number; machine: number };
  firstError?: string;
}

/** A whole soak run. */
export interface SoakResult {
  when: string;
  machine: { cpus: number; model: string; node: string; busyBeforeRun: number };
  settings: { backend: string; ratePerSec: number; minutes: number; warmupSeconds: number; maxInFlight: number; mix: string };
  totals: {
    requests: number;
    errors: number;
    skipped: number;
    published: number;
    publishedOk: number;
    delivered: number;
    deliveredUnique: number;
    /** Accepted publishes the app never saw. */
    lost: number;
  };
  /**
   * Resident memory of sidecar A and B: before load, and the medians of the first and last measured
   * minutes' 5 s samples (single readings swing ±20 % with garbage collection).
   */
  rssMB: { idle: { a: number; b: number }; start: { a: number; b: number }; end: { a: number; b: number }; samples: { atS: number; a: number; b: number }[] };
  minutes: MinuteRecord[];
}
