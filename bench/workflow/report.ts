/** Renders a run as the committed `RESULTS.md`: figures side by side and Weft's ratios to the best peer. */
import type { Workload, WorkloadResult } from './measure.js';

/** One engine's figures in a run. */
export interface EngineResult {
  engine: string;
  /** Share of both cores busy with other work just before this engine ran (0–1). */
  busyBefore: number;
  results: WorkloadResult[];
  error?: string;
}

/** A whole run, as written to `results.json`. */
export interface BenchRun {
  date: string;
  machine: { cpus: number; cpuModel: string; node: string; loadAverage: number[] };
  method: string;
  options: Record<string, unknown>;
  engines: EngineResult[];
}

const PEERS = ['dbos', 'restate'];
const fmt = (x: number | undefined, digits = 1) => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(digits));

function figure(run: BenchRun, engine: string, workload: Workload): WorkloadResult | undefined {
  return run.engines.find((e) => e.engine === engine)?.results.find((r) => r.workload === workload);
}

/** Markdown for a run. */
export function renderReport(run: BenchRun): string {
  const lines = [
    '# Workflow benchmark: Weft beside DBOS Transact and Restate',
    '',
    `Run ${run.date} on ${run.machine.cpus} × ${run.machine.cpuModel}, Node ${run.machine.node}; load average at the end ${run.machine.loadAverage.map((l) => l.toFixed(1)).join(' / ')}.`,
    `Method (peers.md): ${run.method}. Workloads: **seq3** = three sequential activities, each \`x+1\`; **fan10** = ten parallel activities, summed.`,
    'Weft: the real `weft sidecar` process and an app written with `@dapr/dapr` (`WorkflowRuntime` + `DaprWorkflowClient`: schedule, then wait for completion over gRPC).',
    'Postgres 15 with its durable defaults (fsync, synchronous_commit on) for Weft-on-Postgres and DBOS; Weft-on-SQLite is WAL with synchronous=NORMAL (durable against process crashes, not power loss).',
    '',
    '| engine | workload | p50 ms | p99 ms | workflows/s | errors | machine busy before |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const e of run.engines) {
    if (e.error) lines.push(`| ${e.engine} | — | — | — | — | ${e.error} | ${Math.round(e.busyBefore * 100)}% |`);
    for (const r of e.results) {
      lines.push(`| ${e.engine} | ${r.workload} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${fmt(r.workflowsPerSecond)} | ${r.errors} | ${Math.round(e.busyBefore * 100)}% |`);
    }
  }
  lines.push('', '## Ratios (Weft ÷ best peer; throughput > 1 and latency < 1 favour Weft)', '');
  lines.push('| Weft backend | workload | best peer throughput | throughput ratio | best peer p50 | p50 ratio | target p50 ≤ 10 ms (seq3) |');
  lines.push('|---|---|---|---|---|---|---|');
  for (const weft of ['weft-sqlite', 'weft-postgres']) {
    for (const workload of ['seq3', 'fan10'] as const) {
      const w = figure(run, weft, workload);
      if (!w) continue;
      const peers = PEERS.map((p) => ({ p, r: figure(run, p, workload) })).filter((x): x is { p: string; r: WorkloadResult } => x.r !== undefined);
      const bestTput = peers.sort((a, b) => b.r.workflowsPerSecond - a.r.workflowsPerSecond)[0];
      const bestP50 = [...peers].sort((a, b) => a.r.p50Ms - b.r.p50Ms)[0];
      const target = workload === 'seq3' ? (w.p50Ms <= 10 ? 'met' : `missed (${fmt(w.p50Ms)} ms)`) : '';
      lines.push(
        `| ${weft} | ${workload} | ${bestTput ? `${bestTput.p} ${fmt(bestTput.r.workflowsPerSecond)}/s` : '—'} | ${bestTput ? fmt(w.workflowsPerSecond / bestTput.r.workflowsPerSecond, 2) : '—'} | ${bestP50 ? `${bestP50.p} ${fmt(bestP50.r.p50Ms)} ms` : '—'} | ${bestP50 ? fmt(w.p50Ms / bestP50.r.p50Ms, 2) : '—'} | ${target} |`,
      );
    }
  }
  lines.push('');
  return lines.join('\n');
}
