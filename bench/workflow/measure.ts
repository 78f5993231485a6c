/**
 * The two measurements every engine gets, exactly as peers.md describes them: latency is 200
 * workflows one at a time, start to result; throughput is 32 in flight for a fixed window after a
 * warm-up, counting workflows that completed inside the window.
 */
import os from 'node:os';
import type { ProcessRoles } from './cpu.js';
import { sample } from './cpu.js';


/**
 * The engines this bench knows. `-2w`: two worker processes; `-100k`: 100,000 finished instances in
 * the store before the run.
 */
export const ENGINES = ['weft-sqlite', 'weft-postgres', 'dbos', 'restate', 'weft-sqlite-100k', 'weft-postgres-100k', 'weft-sqlite-2w', 'weft-postgres-2w'] as const;
/** One of {@link ENGINES}. */
export type EngineName = (typeof ENGINES)[number];

/** The workloads: three sequential `x+1` steps, and ten parallel steps summed. */
export type Workload = 'seq3' | 'fan10';

/** The expected result of a workload for input `n`, so every engine is checked the same way. */
export function expected(workload: Workload, n: number): number {
  if (workload === 'seq3') return n + 3;
  let sum = 0;
  for (let i = 0; i < 10; i++) sum += n + i;
  return sum;
}

/** An engine under test: runs one workflow to completion and returns its result. */
export interface BenchEngine {
  /** Starts workflow `id` of `workload` with input `n` and resolves with its output. */
  run(workload: Workload, id: string, n: number): Promise<number>;
  close(): Promise<void>;
  /** Its processes by role, for CPU per workflow (looked up at the start of the throughput window). */
  processes?(): Promise<ProcessRoles>;
}

/** Figures of one engine on one workload. */
export interface WorkloadResult {
  workload: Workload;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  workflowsPerSecond: number;
  completedInWindow: number;
  windowSeconds: number;
  errors: number;
  /** CPU milliseconds per workflow completed in the window, by process role, and their total. */
  cpuMsPerWorkflow?: Record<string, number>;
  /** 1-minute load average at the start and the end of the throughput window (the machine is shared). */
  loadAverage?: [number, number];
}

/** Measurement sizes; the defaults are peers.md's. */
export interface MeasureOptions {
  latencyCount: number;
  inFlight: number;
  warmupSeconds: number;
  windowSeconds: number;
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

const round = (x: number) => Math.round(x * 100) / 100;

/** Runs latency then throughput for one workload. */
export async function measure(engine: BenchEngine, workload: Workload, prefix: string, o: MeasureOptions): Promise<WorkloadResult> {
  // From 1: the Dapr SDK drops a falsy input (0) on the way in.
  let counter = 1;
  let errors = 0;
  const one = async (): Promise<void> => {
    const n = counter++;
    const out = await engine.run(workload, `${prefix}-${workload}-${n}`, n);
    if (out !== expected(workload, n)) throw new Error(`${workload}(${n}) returned ${out}, expected ${expected(workload, n)}`);
  };
  // A few untimed runs first: connections, prepared statements, JIT.
  for (let i = 0; i < 20; i++) await one();
  const latencies: number[] = [];
  for (let i = 0; i < o.latencyCount; i++) {
    const t0 = performance.now();
    await one();
    latencies.push(performance.now() - t0);
  }
  latencies.sort((a, b) => a - b);

  let windowStart = Number.POSITIVE_INFINITY;
  let windowEnd = Number.POSITIVE_INFINITY;
  let completed = 0;
  const started = performance.now();
  windowStart = started + o.warmupSeconds * 1000;
  windowEnd = windowStart + o.windowSeconds * 1000;
  const lane = async (): Promise<void> => {
    while (performance.now() < windowEnd) {
      try {
        await one();
        const t = performance.now();
        if (t >= windowStart && t < windowEnd) completed++;
      } catch (err) {
        errors++;
        if (errors <= 3) process.stderr.write(`${workload}: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
  };
  // CPU of the engine's processes over exactly the window.
  let cpu: Record<string, number> | undefined;
  let load0 = 0;
  const cpuWindow = (async () => {
    await new Promise((r) => setTimeout(r, Math.max(0, windowStart - performance.now())));
    load0 = os.loadavg()[0] ?? 0;
    const roles = engine.processes ? await engine.processes() : undefined;
    if (!roles) return;
    const before = sample(roles);
    await new Promise((r) => setTimeout(r, Math.max(0, windowEnd - performance.now())));
    const after = sample(roles);
    cpu = {};
    for (const role of Object.keys(before)) cpu[role] = (after[role] ?? 0) - (before[role] ?? 0);
  })();
  await Promise.all([...Array.from({ length: o.inFlight }, lane), cpuWindow]);
  const load1 = os.loadavg()[0] ?? 0;
  let cpuMsPerWorkflow: Record<string, number> | undefined;
  if (cpu && completed > 0) {
    cpuMsPerWorkflow = {};
    let total = 0;
    for (const [role, ms] of Object.entries(cpu)) {
      cpuMsPerWorkflow[role] = round(ms / completed);
      total += ms;
    }
    cpuMsPerWorkflow['total'] = round(total / completed);
  }
  return {
    ...(cpuMsPerWorkflow ? { cpuMsPerWorkflow } : {}),
    loadAverage: [round(load0), round(load1)],
    workload,
    p50Ms: round(percentile(latencies, 0.5)),
    p99Ms: round(percentile(latencies, 0.99)),
    meanMs: round(latencies.reduce((a, b) => a + b, 0) / latencies.length),
    workflowsPerSecond: round(completed / o.windowSeconds),
    completedInWindow: completed,
    windowSeconds: o.windowSeconds,
    errors,
  };
}
