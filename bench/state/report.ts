/** The shape of `results.json` and its rendering as `RESULTS.md`. */
import type { BenchSettings, LoadMode, LoadSummary, OpName, StoreId } from './types.js';

/** The targets the issue sets. */
export const TARGETS = { addedP99Ms: 0.5, startupMs: 300, idleRssMB: 80 } as const;

/** Weft against the raw client for one op and load mode. */
export interface ComparedCase {
  op: OpName;
  mode: LoadMode;
  weft: LoadSummary;
  raw: LoadSummary;
  addedP50Ms: number;
  addedP99Ms: number;
  /** Weft throughput / raw throughput. */
  throughputRatio: number;
  /** addedP99Ms ≤ the target. */
  met: boolean;
}

/** One store's figures, or why it was not measured. */
export type StoreResult =
  | {
      store: StoreId;
      measured: true;
      componentType: string;
      sidecar: { startupMs: number; rssAfterIdleMB: number; rssAfterLoadMB: number; peakRssMB: number };
      cases: ComparedCase[];
    }
  | { store: StoreId; measured: false; componentType: string; reason: string };

/** Everything one run produced. */
export interface BenchResults {
  benchmark: 'state';
  date: string;
  /** The commit of the measured runtime (built dist); `dirty` when packages/ had uncommitted changes. */
  runtime: { commit: string; dirty: boolean };
  machine: {
    cpuModel: string;
    cores: number;
    memoryGiB: number;
    node: string;
    platform: string;
    kernel: string;
    /** 1-minute load average when the run started and ended: other work on the machine skews figures. */
    loadAverage: { start: number; end: number };
    /** Share of all cores busy over 3 s just before the run (other work). */
    busyBeforeStartPercent: number;
  };
  settings: BenchSettings & { startupRuns: number; idleMs: number };
  method: string[];
  startup: {
    runsMs: number[];
    medianMs: number;
    /** CPU time each sidecar had used when ready: less sensitive to other work than wall time. */
    cpuMs: number[];
    medianCpuMs: number;
    targetMs: number;
    met: boolean;
  };
  idleRss: { afterReadyMB: number; afterIdleMB: number; idleMs: number; targetMB: number; met: boolean };
  stores: StoreResult[];
  durationSec: number;
}

const fmt = (ms: number): string => ms.toFixed(3);
const ok = (met: boolean): string => (met ? 'met' : '**not met**');
const modeLabel = (r: BenchResults, mode: LoadMode): string =>
  mode === 'closed' ? `${r.settings.concurrency} in flight` : `${r.settings.openRatePerSec}/s`;

function caseRows(r: BenchResults): string[] {
  const rows: string[] = [];
  for (const s of r.stores) {
    if (!s.measured) {
      rows.push(`| ${s.store} | — | — | not measured: ${s.reason} | | | | | | | | | |`);
      continue;
    }
    for (const c of s.cases) {
      const errors = c.weft.errors + c.raw.errors + c.weft.skipped + c.raw.skipped;
      rows.push(
        `| ${s.store} | ${c.op} | ${modeLabel(r, c.mode)} | ${fmt(c.raw.p50Ms)} / ${fmt(c.raw.p99Ms)} | ` +
          `${fmt(c.weft.p50Ms)} / ${fmt(c.weft.p99Ms)} | ${fmt(c.addedP50Ms)} | **${fmt(c.addedP99Ms)}** | ` +
          `${c.raw.throughputPerSec} | ${c.weft.throughputPerSec} | ${c.weft.sidecarCpuUsPerRequest ?? '—'} | ` +
          `${c.weft.sidecarGcPer10k ? `${c.weft.sidecarGcPer10k.scavenges} / ${c.weft.sidecarGcPer10k.markCompacts}` : '—'} | ` +
          `${c.raw.machineBusyPercent ?? '—'}% / ${c.weft.machineBusyPercent ?? '—'}% | ` +
          `${ok(c.met)}${errors > 0 ? ` (${errors} errors/skipped)` : ''} |`,
      );
    }
  }
  return rows;
}

/**
 * True when other work visibly shared the machine: busy before the start, or an open-loop window
 * (whose own load keeps the cores well under half busy) with the cores more than 60% busy.
 */
function busyRun(r: BenchResults): boolean {
  const openWindows = r.stores.flatMap((s) => (s.measured ? s.cases.filter((c) => c.mode === 'open') : []));
  const busiest = Math.max(0, ...openWindows.flatMap((c) => [c.raw.machineBusyPercent ?? 0, c.weft.machineBusyPercent ?? 0]));
  return r.machine.busyBeforeStartPercent > 30 || busiest > 60;
}

/** Renders the Markdown summary committed next to results.json. */
export function renderMarkdown(r: BenchResults, notes: readonly string[]): string {
  const m = r.machine;
  const measured = r.stores.filter((s) => s.measured);
  const lines = [
    '# State API benchmark',
    '',
    `Weft at commit ${r.runtime.commit}${r.runtime.dirty ? ' (with uncommitted changes)' : ''}, run ${r.date} on ${m.cpuModel} (${m.cores} cores, ${m.memoryGiB} GiB), Node ${m.node}, ${m.platform} ${m.kernel}; ` +
      `the whole run took ${r.durationSec} s. Cores ${m.busyBeforeStartPercent}% busy with other work just before ` +
      `it; 1-minute load average ${m.loadAverage.start} at the start, ${m.loadAverage.end} at the end. ` +
      'Raw figures are in [results.json](./results.json).',
    '',
    ...(busyRun(r)
      ? [
          '> **Warning:** other work kept this machine busy during the run, so these figures overstate Weft\'s',
          '> cost and vary from run to run. Re-run on a quiet machine (`-- --wait-quiet 10`) before trusting them.',
          '',
        ]
      : []),
    '## Targets',
    '',
    '| target | measured | |',
    '| --- | --- | --- |',
    ...measured.flatMap((s) =>
      s.measured
        ? s.cases.map(
            (c) =>
              `| added p99 ≤ ${TARGETS.addedP99Ms} ms — ${s.store} ${c.op}, ${modeLabel(r, c.mode)} | ${fmt(c.addedP99Ms)} ms | ${ok(c.met)} |`,
          )
        : [],
    ),
    ...r.stores.filter((s) => !s.measured).map((s) => `| added p99 — ${s.store} | not measured | ${s.measured ? '' : s.reason} |`),
    `| sidecar start → healthz/outbound 204 ≤ ${TARGETS.startupMs} ms (median of ${r.startup.runsMs.length}) | ${r.startup.medianMs} ms | ${ok(r.startup.met)} |`,
    `| idle RSS ≤ ${TARGETS.idleRssMB} MB (after ${r.idleRss.idleMs / 1000} s idle) | ${r.idleRss.afterIdleMB} MB | ${ok(r.idleRss.met)} |`,
    '',
    '## Save and get of 1 KB values',
    '',
    'Latency in ms (p50 / p99); "added" is Weft minus raw; throughput in requests/s; sidecar CPU is',
    'the sidecar process\'s CPU time per request (µs, from /proc, 10 ms tick resolution); "cores busy" is the',
    'share of both cores in use during each window, whatever used them.',
    '',
    '| store | op | load | raw p50 / p99 | Weft p50 / p99 | added p50 | added p99 | raw req/s | Weft req/s | sidecar CPU µs/req | sidecar GC per 10k req (scavenges / mark-compacts) | cores busy raw / Weft | target |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...caseRows(r),
    '',
    '## Sidecar start and memory',
    '',
    `Start-up runs (ms, spawn → first 204): ${r.startup.runsMs.join(', ')}; median ${r.startup.medianMs}. ` +
      `CPU time the sidecar had used when ready (ms): ${r.startup.cpuMs.join(', ')}; median ${r.startup.medianCpuMs}.`,
    `Idle RSS: ${r.idleRss.afterReadyMB} MB right after ready, ${r.idleRss.afterIdleMB} MB after ${r.idleRss.idleMs / 1000} s idle.`,
    '',
    '| store | sidecar RSS after idle (MB) | RSS after load (MB) | peak RSS (MB) |',
    '| --- | --- | --- | --- |',
    ...r.stores.flatMap((s) =>
      s.measured ? [`| ${s.store} | ${s.sidecar.rssAfterIdleMB} | ${s.sidecar.rssAfterLoadMB} | ${s.sidecar.peakRssMB} |`] : [],
    ),
    '',
    '## Method',
    '',
    ...r.method.map((line) => `- ${line}`),
    '',
    ...(notes.length > 0 ? ['## Notes', '', ...notes, ''] : []),
    '## Reproduce',
    '',
    '```sh',
    'npm run build                      # the benchmark starts the built packages/cli/bin/weft.js',
    'npm run bench:state -w @weft/bench # writes bench/state/results.json and RESULTS.md',
    '```',
    '',
    'Needs Redis on 127.0.0.1:6379 and PostgreSQL on 127.0.0.1:5432 (`WEFT_TEST_REDIS_HOST` and',
    '`WEFT_TEST_POSTGRES_URL` override them, as in the tests); a store whose service is missing or whose',
    'driver is not registered is reported as not measured. Options after `--`: `--quick` (short windows, a',
    'smoke test; writes nothing here), `--stores sqlite,redis` (pick stores), `--wait-quiet 10` (first wait up',
    'to 10 minutes for the cores to be at most 15% busy with other work).',
    '',
  ];
  return lines.join('\n');
}
