/**
 * Load generators: a closed loop (N requests always in flight) and an open loop (a fixed rate).
 * Every request's latency is recorded (no sampling, no histogram buckets) and percentiles are read
 * from the sorted samples by nearest rank.
 */
import { performance } from 'node:perf_hooks';
import type { LoadSummary } from './types.js';

/** One request; `seq` picks the key. Throws on any failure, which counts as an error. */
export type Operation = (seq: number) => Promise<void>;

/** A growable array of latencies in milliseconds. */
class Samples {
  private data = new Float64Array(1 << 16);
  length = 0;

  add(ms: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = ms;
  }

  sorted(): Float64Array {
    return this.data.slice(0, this.length).sort();
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

function summarise(samples: Samples, errors: number, skipped: number, durationMs: number, firstError?: string): LoadSummary {
  const sorted = samples.sorted();
  let total = 0;
  for (const ms of sorted) total += ms;
  return {
    requests: samples.length,
    errors,
    skipped,
    durationMs: Math.round(durationMs),
    throughputPerSec: Math.round((samples.length / durationMs) * 1000),
    meanMs: round(total / Math.max(1, sorted.length)),
    p50Ms: round(percentile(sorted, 50)),
    p90Ms: round(percentile(sorted, 90)),
    p99Ms: round(percentile(sorted, 99)),
    p999Ms: round(percentile(sorted, 99.9)),
    maxMs: round(sorted[sorted.length - 1] ?? Number.NaN),
    ...(firstError !== undefined ? { firstError } : {}),
  };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Keeps `concurrency` requests in flight for `durationMs`; each worker starts its next request as its last ends. */
export async function closedLoop(op: Operation, options: { concurrency: number; durationMs: number }): Promise<LoadSummary> {
  const samples = new Samples();
  let errors = 0;
  let firstError: string | undefined;
  let seq = 0;
  const start = performance.now();
  const deadline = start + options.durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        await op(seq++);
      } catch (err) {
        errors++;
        firstError ??= describe(err);
      }
      samples.add(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return summarise(samples, errors, 0, performance.now() - start, firstError);
}

/**
 * Sends `ratePerSec` requests per second for `durationMs` (paced on a 1 ms timer, so requests leave
 * in small bursts), never more than `maxInFlight` at once. Latency is measured from each request's
 * actual start; a due request that finds `maxInFlight` busy is skipped and counted, so a store that
 * cannot keep up shows as skipped requests rather than as hidden queueing.
 */
export async function openLoop(
  op: Operation,
  options: { ratePerSec: number; maxInFlight: number; durationMs: number },
): Promise<LoadSummary> {
  const samples = new Samples();
  let errors = 0;
  let skipped = 0;
  let firstError: string | undefined;
  let inFlight = 0;
  let issued = 0;
  let seq = 0;
  const pending = new Set<Promise<void>>();
  const start = performance.now();
  const send = (): void => {
    inFlight++;
    const t0 = performance.now();
    const request = op(seq++).then(
      () => undefined,
      (err: unknown) => {
        errors++;
        firstError ??= describe(err);
      },
    );
    const tracked = request.then(() => {
      samples.add(performance.now() - t0);
      inFlight--;
      pending.delete(tracked);
    });
    pending.add(tracked);
  };
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = Math.min(performance.now() - start, options.durationMs);
      const due = Math.floor((elapsed * options.ratePerSec) / 1000) - issued;
      for (let i = 0; i < due; i++) {
        issued++;
        if (inFlight >= options.maxInFlight) skipped++;
        else send();
      }
      if (elapsed >= options.durationMs) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  await Promise.all(pending);
  return summarise(samples, errors, skipped, options.durationMs, firstError);
}
