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

/** The peer best on `workload` by `key` (lowest first). */
function bestPeer(run: BenchRun, workload: Workload, key: (r: WorkloadResult) => number): { p: string; r: WorkloadResult } | undefined {
  const peers = PEERS.map((p) => ({ p, r: figure(run, p, workload) })).filter((x): x is { p: string; r: WorkloadResult } => x.r !== undefined);
  return peers.sort((a, b) => key(a.r) - key(b.r))[0];
}

/** Cores busy before an engine started (0–1) above which the run counts as loaded by other work. */
const QUIET_BEFORE = 0.1;

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
    'Every figure carries the 1-minute load average at the start and the end of its throughput window: the machine may be shared, and a busy one lowers every engine\'s figures.',
    'CPU ms per workflow: user + system time of each process of the engine over the throughput window (`/proc/<pid>/stat`), divided by the workflows completed in it. Postgres: the backends serving the engine\'s own connections (from `pg_stat_activity`). The load driver shares the app process (Weft, DBOS) or the endpoint process (Restate).',
    '',
    '| engine | workload | p50 ms | p99 ms | workflows/s | CPU ms/workflow (by process) | CPU total | errors | load avg (start→end) |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const e of run.engines) {
    if (e.error) lines.push(`| ${e.engine} | — | — | — | — | — | — | ${e.error} | — |`);
    for (const r of e.results) {
      const cpu = r.cpuMsPerWorkflow;
      const parts = cpu ? Object.entries(cpu).filter(([k]) => k !== 'total').map(([k, v]) => `${k} ${fmt(v, 2)}`).join(', ') : '—';
      const load = r.loadAverage ? `${fmt(r.loadAverage[0])}→${fmt(r.loadAverage[1])}` : '—';
      lines.push(`| ${e.engine} | ${r.workload} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${fmt(r.workflowsPerSecond)} | ${parts} | ${fmt(cpu?.['total'], 2)} | ${r.errors} | ${load} |`);
    }
  }
  lines.push('', '## Ratios (Weft ÷ best peer; throughput > 1 and latency < 1 favour Weft)', '');
  lines.push('| Weft backend | workload | best peer throughput | throughput ratio | best peer p50 | p50 ratio |');
  lines.push('|---|---|---|---|---|---|');
  for (const weft of ['weft-sqlite', 'weft-postgres', 'weft-sqlite-2w', 'weft-postgres-2w']) {
    for (const workload of ['seq3', 'fan10'] as const) {
      const w = figure(run, weft, workload);
      if (!w) continue;
      const bestTput = bestPeer(run, workload, (r) => -r.workflowsPerSecond);
      const bestP50 = bestPeer(run, workload, (r) => r.p50Ms);
      lines.push(
        `| ${weft} | ${workload} | ${bestTput ? `${bestTput.p} ${fmt(bestTput.r.workflowsPerSecond)}/s` : '—'} | ${bestTput ? fmt(w.workflowsPerSecond / bestTput.r.workflowsPerSecond, 2) : '—'} | ${bestP50 ? `${bestP50.p} ${fmt(bestP50.r.p50Ms)} ms` : '—'} | ${bestP50 ? fmt(w.p50Ms / bestP50.r.p50Ms, 2) : '—'} |`,
      );
    }
  }
  lines.push('', '## Targets (issue 10)', '', '| target | figure | met |', '|---|---|---|');
  const target = (what: string, value: number | undefined, bound: number, atMost: boolean, show: (v: number) => string) => {
    if (value === undefined || Number.isNaN(value)) return lines.push(`| ${what} | not measured | — |`);
    const ok = atMost ? value <= bound : value >= bound;
    lines.push(`| ${what} | ${show(value)} | ${ok ? 'met' : 'missed'} |`);
  };
  const ratio = (v: number) => `${fmt(v, 2)}×`;
  for (const workload of ['seq3', 'fan10'] as const) {
    const w = figure(run, 'weft-sqlite', workload);
    const best = bestPeer(run, workload, (r) => -r.workflowsPerSecond);
    target(`Weft-SQLite ${workload} throughput ≥ 1.25× best peer (${best?.p ?? '—'})`, w && best ? w.workflowsPerSecond / best.r.workflowsPerSecond : undefined, 1.25, false, ratio);
  }
  for (const workload of ['seq3', 'fan10'] as const) {
    const w = figure(run, 'weft-postgres', workload);
    const d = figure(run, 'dbos', workload);
    target(`Weft-Postgres ${workload} throughput ≥ 1.0× DBOS`, w && d ? w.workflowsPerSecond / d.workflowsPerSecond : undefined, 1, false, ratio);
  }
  for (const weft of ['weft-sqlite', 'weft-postgres']) {
    for (const workload of ['seq3', 'fan10'] as const) {
      const w = figure(run, weft, workload);
      const best = bestPeer(run, workload, (r) => r.p50Ms);
      target(`${weft} ${workload} p50 ≤ best peer's (${best ? `${best.p} ${fmt(best.r.p50Ms)} ms` : '—'})`, w && best ? w.p50Ms / best.r.p50Ms : undefined, 1, true, (v) => `${fmt(w?.p50Ms)} ms (${ratio(v)})`);
    }
  }
  for (const weft of ['weft-sqlite', 'weft-postgres']) {
    target(`${weft} sidecar CPU per seq3 workflow ≤ 1.5 ms`, figure(run, weft, 'seq3')?.cpuMsPerWorkflow?.['sidecar'], 1.5, true, (v) => `${fmt(v, 2)} ms`);
  }
  for (const weft of ['weft-sqlite', 'weft-postgres']) {
    for (const workload of ['seq3', 'fan10'] as const) {
      const empty = figure(run, weft, workload);
      const full = figure(run, `${weft}-100k`, workload);
      target(`${weft} ${workload} with 100,000 finished instances within 10 % of empty`, empty && full ? full.workflowsPerSecond / empty.workflowsPerSecond : undefined, 0.9, false, ratio);
    }
  }
  const load = Math.max(...run.engines.flatMap((e) => e.results.flatMap((r) => r.loadAverage ?? [0])));
  // The load average counts the engines' own processes too, so other work is judged by how busy the
  // cores were just before each engine started.
  const busiest = Math.max(...run.engines.map((e) => e.busyBefore));
  const quiet = busiest <= QUIET_BEFORE;
  lines.push(
    '',
    '## Reading these figures',
    '',
    `- Other work: the cores were at most ${Math.round(busiest * 100)} % busy just before each engine started. ` +
      `Highest 1-minute load average during a throughput window: ${fmt(load)} on ${run.machine.cpus} cores, which counts the engine's own processes (load driver, app, sidecar, database) on the same cores.` +
      (quiet
        ? ''
        : ' Other work loaded the machine during this run: every engine lost throughput and latency to it, unevenly, so ratios between rows (including the 100k rows against the empty ones) carry that noise. Re-run on a quiet machine (`npm run bench:all --prefix bench/workflow`, about 10 minutes) for figures to compare with the targets.'),
    '- Flat as history grows, independent of load: `history-scan.json` (`npx tsx bench/workflow/history-scan.ts`) times the next-wake-up query, the stuck scan, a list page and a retention batch on an empty store and with 100,000 finished instances, and records the Postgres plans (index scans).',
    '- Store transactions per workflow, independent of load: `calls-per-workflow.md` (`npx tsx bench/workflow/calls-per-workflow.ts --postgres`).',
    '- The app column is the `@dapr/dapr` SDK (worker and client in one process): where it is as large as the sidecar\'s, the SDK bounds Weft as much as the engine does.',
    '',
  );
  return lines.join('\n');
}
