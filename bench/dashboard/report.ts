/** The dashboard benchmark's result types and its RESULTS.md rendering. */

/** One timed scenario, in milliseconds. */
export interface Scenario {
  name: string;
  what: string;
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
}

/** One backend's run. */
export interface BackendResult {
  backend: 'sqlite' | 'postgres';
  seed: { count: number; historyEvents: number; counts: Record<string, number>; names: Record<string, number>; largestId: string; largestEvents: number; seedMs: number };
  /** `uptime` once the sidecar and dashboard were up, before sampling. */
  loadAtStart: string;
  scenarios: Scenario[];
}

/** The whole run. */
export interface BenchResults {
  at: string;
  machine: { cpus: number; model: string; node: string; loadBefore: string; loadAfter: string };
  instances: number;
  targetMs: number;
  backends: BackendResult[];
}

/** The scenarios the target applies to. */
const TARGETED = new Set(['list-first-page', 'instance-page', 'browser-list-page', 'browser-instance-page']);

/** Whether other work loaded the machine when the run began (1-minute load above half the cores). */
function loadNote(r: BenchResults): string[] {
  const before = Number(/load average: ([\d.]+)/.exec(r.machine.loadBefore)?.[1] ?? Number.NaN);
  if (before > r.machine.cpus / 2) {
    return [
      `Other work loaded the machine when the run began (1-minute load ${before} on ${r.machine.cpus} cores), so these`,
      'figures are upper bounds of what an idle laptop shows.',
    ];
  }
  return [
    `The machine was otherwise idle when the run began (1-minute load ${before} on ${r.machine.cpus} cores); the load`,
    "during the run is the benchmark's own processes (sidecar, dashboard server, Postgres, Chromium).",
  ];
}

/** Renders RESULTS.md. */
export function renderReport(r: BenchResults): string {
  const lines = [
    '# Dashboard benchmark: 100,000 workflow instances',
    '',
    `Run ${r.at} on ${r.machine.cpus} × ${r.machine.model}, Node ${r.machine.node}, by \`npm run bench:dashboard --prefix bench\` (bench/dashboard/run.ts).`,
    '',
    `Machine load (\`uptime\`) before: \`${r.machine.loadBefore}\`; after: \`${r.machine.loadAfter}\`.`,
    ...loadNote(r),
    '',
    `Each row: a real \`weft sidecar\` on the store, a real \`weft dashboard --sidecar\` in front of it, the`,
    "requests the page makes sent to the dashboard server (as the browser does, through its proxy), timed",
    'from the first request to the last byte of the slowest; sequential samples after a warm-up, taken',
    'round-robin (each round samples every scenario once). Target:',
    `the list's first page and the instance page under ${r.targetMs} ms (✅ when p99 is under it).`,
    '',
    'What keeps them flat at this size (see docs/admin-api.md):',
    '',
    '- the list pages by keyset over `(app_id, created_at, instance_id)` (a row-value seek, no OFFSET), with',
    '  per-status and per-name indexes for filtered pages;',
    '- counts per status are exact: unfiltered from counters the store keeps by trigger (SQLite: a totals',
    '  table; Postgres: append-only deltas folded into totals), filtered by an index scan — before, the',
    '  dashboard paged through the list API and stopped at 50,000;',
    '- the instance page reads one row and one history range by primary key.',
    '',
    'The browser rows are optional context: headless Chromium on the same loaded 2-core machine, timed from',
    'navigation until the data is on screen, so they include parsing and rendering the app under load.',
    '',
  ];
  for (const b of r.backends) {
    const seeded = Object.entries(b.seed.counts)
      .sort((x, y) => y[1] - x[1])
      .map(([k, v]) => `${k} ${v.toLocaleString('en')}`)
      .join(', ');
    lines.push(
      `## ${b.backend === 'sqlite' ? 'Embedded SQLite (the default)' : 'PostgreSQL'}`,
      '',
      `${b.seed.count.toLocaleString('en')} instances (${seeded}) of ${Object.keys(b.seed.names).length} workflows over 7 days, ${b.seed.historyEvents.toLocaleString('en')} history events; seeded in ${(b.seed.seedMs / 1000).toFixed(1)} s. Load when sampling began: \`${b.loadAtStart}\`.`,
      '',
      '| Scenario | What | Samples | p50 ms | p90 ms | p99 ms | max ms | Target |',
      '|---|---|---:|---:|---:|---:|---:|:---:|',
      ...b.scenarios.map(
        (s) => `| ${s.name} | ${s.what} | ${s.samples} | ${s.p50} | ${s.p90} | ${s.p99} | ${s.max} | ${TARGETED.has(s.name) ? (s.p99 < r.targetMs ? '✅' : '❌') : ''} |`,
      ),
      '',
    );
  }
  return lines.join('\n');
}

// `tsx report.ts`: re-renders RESULTS.md from results.json (after editing the text above).
if (process.argv[1]?.endsWith('report.ts')) {
  const fs = await import('node:fs');
  const dir = new URL('.', import.meta.url);
  const results = JSON.parse(fs.readFileSync(new URL('results.json', dir), 'utf8')) as BenchResults;
  fs.writeFileSync(new URL('RESULTS.md', dir), renderReport(results));
}
