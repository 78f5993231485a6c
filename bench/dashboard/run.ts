/**
 * The dashboard benchmark (issue 17's "Done when"): 100,000 workflow instances in the store, the
 * workflow list's first page and an instance page must each load in under 300 ms. For the embedded
 * SQLite default and for Postgres it seeds the store (see seed.ts), starts a real `weft sidecar` on it
 * and a real `weft dashboard --sidecar` in front of it, then times what the browser asks for, through
 * the dashboard server as the browser does:
 *
 * - list-first-page: the list's first page (25) and the counts per status, in parallel (the page's two queries);
 * - list-filtered: the same with a status and a workflow-name filter;
 * - list-deep-page: a page 80,000 instances in (a continuation token), with the counts;
 * - instance-page: an instance and its history, in parallel, over a spread of 1,000+ instances;
 * - instance-page-largest: the instance with the longest history (a 100-way fan-out);
 * - health-overview: the status × name table over the last hour;
 * - browser-*: optionally, the whole page in headless Chromium (playwright-core), from navigation until
 *   the table with its counts (list) or the instance's facts (instance page) are on screen.
 *
 *   npm run bench:dashboard --prefix bench [-- --samples 300 --only sqlite --no-browser]
 *
 * Needs `npm run build` (the real `weft` binary) and, for Postgres, POSTGRES_URL
 * (default postgres://postgres@127.0.0.1:5432/test). Writes results.json and RESULTS.md beside itself.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WEFT_BIN, freePort, startWeftSidecar } from '../../test/support/weft-process.js';
import type { WeftProcess } from '../../test/support/weft-process.js';
import { dropPostgresApp, seedPostgres, seedSqlite } from './seed.js';
import type { SeedSummary } from './seed.js';
import { renderReport } from './report.js';
import type { BackendResult, BenchResults, Scenario } from './report.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '100000' },
    samples: { type: 'string', default: '300' },
    'browser-samples': { type: 'string', default: '40' },
    warmup: { type: 'string', default: '20' },
    only: { type: 'string', default: 'sqlite,postgres' },
    'no-browser': { type: 'boolean', default: false },
    out: { type: 'string', default: here },
  },
});

const count = Number(values.count);
const samples = Number(values.samples);
const warmup = Number(values.warmup);
const browserSamples = values['no-browser'] ? 0 : Number(values['browser-samples']);
const postgresUrl = process.env['POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();

/** Summary statistics of `ms` (nearest-rank percentiles). */
export function stats(ms: number[]): Omit<Scenario, 'name' | 'what'> {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length))) - 1]!;
  const r = (x: number) => Math.round(x * 10) / 10;
  return { samples: s.length, p50: r(at(50)), p90: r(at(90)), p99: r(at(99)), mean: r(s.reduce((a, b) => a + b, 0) / s.length), max: r(s.at(-1)!) };
}

/** GETs a path of the dashboard server and reads the whole body; throws on non-2xx. */
async function get(base: string, p: string): Promise<unknown> {
  const res = await fetch(base + p);
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${p}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as unknown;
}

async function startDashboard(sidecarUrl: string, registryDir: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [WEFT_BIN, 'dashboard', '--port', String(port), '--sidecar', sidecarUrl, '--no-discover'], {
    env: { ...process.env, WEFT_REGISTRY_DIR: registryDir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 20_000; ; ) {
    if (child.exitCode !== null) throw new Error(`weft dashboard exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/api/sidecars`).then(
      async (r) => r.ok && ((await r.json()) as { sidecars: { healthy: boolean }[] }).sidecars.some((s) => s.healthy),
      () => false,
    );
    if (ok) return { url, child };
    if (Date.now() > deadline) throw new Error('weft dashboard did not see the sidecar');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function benchBackend(backend: 'sqlite' | 'postgres'): Promise<BackendResult> {
  const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'weft-bench-dash-'));
  const appId = 'dashboard-bench';
  const t0 = performance.now();
  let seed: SeedSummary;
  const args = ['--app-id', appId, '--data-dir', dataDir, '--log-level', 'warn'];
  if (backend === 'postgres') {
    seed = await seedPostgres(postgresUrl, appId, count);
    const resources = path.join(dataDir, 'resources');
    await fsp.mkdir(resources);
    await fsp.writeFile(
      path.join(resources, 'statestore.yaml'),
      `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: statestore
spec:
  type: state.postgresql
  version: v1
  metadata:
    - name: connectionString
      value: "${postgresUrl}"
    - name: actorStateStore
      value: "true"
    - name: tableName
      value: dashboard_bench_state
`,
    );
    args.push('--resources-path', resources);
  } else {
    seed = await seedSqlite(path.join(dataDir, 'workflows.sqlite'), appId, count);
  }
  const seedMs = Math.round(performance.now() - t0);
  process.stderr.write(`[${backend}] seeded ${seed.count} instances, ${seed.historyEvents} history events in ${seedMs} ms\n`);
  const registryDir = path.join(dataDir, 'registry');
  let sidecar: WeftProcess | undefined;
  let dashboard: { url: string; child: ChildProcess } | undefined;
  try {
    sidecar = await startWeftSidecar(args, { env: { WEFT_REGISTRY_DIR: registryDir }, timeoutMs: 60_000 });
    dashboard = await startDashboard(`http://127.0.0.1:${sidecar.httpPort}`, registryDir);
    const base = dashboard.url;
    const id = encodeURIComponent(`127.0.0.1:${sidecar.httpPort}`);
    const W = `/api/sidecars/${id}/proxy/v1.0/workflows/dapr`;
    const counts = (q = '') => get(base, `/api/sidecars/${id}/workflow-counts${q ? `?${q}` : ''}`);
    const loadAfter = uptime();

    // The counts must be exact: the dashboard's total equals what was seeded.
    const all = (await counts()) as { total: number; counts: Record<string, number>; capped: boolean };
    if (all.total !== seed.count || all.capped || JSON.stringify(Object.entries(all.counts).sort()) !== JSON.stringify(Object.entries(seed.counts).sort())) {
      throw new Error(`counts differ from the seed: ${JSON.stringify(all)} vs ${JSON.stringify(seed.counts)}`);
    }
    // A continuation token 80,000 instances in.
    let deepToken = '';
    for (let walked = 0; walked < Math.min(80_000, seed.count - 100); walked += 1000) {
      const page = (await get(base, `${W}?pageSize=1000${deepToken ? `&continuationToken=${deepToken}` : ''}`)) as { continuationToken?: string };
      deepToken = page.continuationToken ?? '';
    }
    const ids = seed.sampleIds;
    const plan: { name: string; what: string; run: (i: number) => Promise<unknown> }[] = [
      { name: 'list-first-page', what: 'list (25) + counts per status, in parallel', run: () => Promise.all([get(base, `${W}?pageSize=25`), counts()]) },
      { name: 'list-only', what: 'the list request alone', run: () => get(base, `${W}?pageSize=25`) },
      { name: 'counts-only', what: 'the counts request alone (status counters)', run: () => counts() },
      {
        name: 'list-filtered',
        what: 'status=FAILED & name=payment: list + counts (index)',
        run: () => Promise.all([get(base, `${W}?pageSize=25&status=FAILED&name=payment`), counts('name=payment')]),
      },
      { name: 'list-deep-page', what: 'a page 80,000 instances in + counts', run: () => Promise.all([get(base, `${W}?pageSize=25&continuationToken=${deepToken}`), counts()]) },
      {
        name: 'instance-page',
        what: `instance + history, over ${ids.length} instances`,
        run: (i) => {
          const iid = encodeURIComponent(ids[i % ids.length]!);
          return Promise.all([get(base, `${W}/${iid}`), get(base, `${W}/${iid}/history`)]);
        },
      },
      {
        name: 'instance-page-largest',
        what: `instance + history of the largest (${seed.largestEvents} events)`,
        run: () => {
          const iid = encodeURIComponent(seed.largestId);
          return Promise.all([get(base, `${W}/${iid}`), get(base, `${W}/${iid}/history`)]);
        },
      },
      { name: 'health-overview', what: 'status × name p50/p90/p99 over the last hour', run: () => get(base, `/api/sidecars/${id}/proxy/v1.0-weft/admin/workflows/health`) },
    ];
    // Round-robin: each round samples every scenario once, so a burst of load elsewhere on the
    // machine spreads over all of them instead of landing on one.
    for (let i = 0; i < warmup; i++) for (const p of plan) await p.run(i);
    const ms = plan.map(() => [] as number[]);
    for (let i = 0; i < samples; i++) {
      for (const [k, p] of plan.entries()) {
        const t0 = performance.now();
        await p.run(i);
        ms[k]!.push(performance.now() - t0);
      }
    }
    const scenarios: Scenario[] = plan.map((p, k) => ({ name: p.name, what: p.what, ...stats(ms[k]!) }));
    for (const sc of scenarios) process.stderr.write(`[${backend}] ${JSON.stringify(sc)}\n`);
    if (browserSamples > 0) scenarios.push(...(await browserScenarios(base, decodeURIComponent(id), ids, backend)));
    const { sampleIds: _ids, ...kept } = seed;
    return { backend, seed: { ...kept, seedMs }, loadAtStart: loadAfter, scenarios };
  } finally {
    if (dashboard) await stopChild(dashboard.child);
    await sidecar?.stop();
    await fsp.rm(dataDir, { recursive: true, force: true });
    // The database is shared: leave it as it was.
    if (backend === 'postgres') await dropPostgresApp(postgresUrl, appId);
  }
}

/** Whole page loads in headless Chromium: navigation until the data is on screen. */
async function browserScenarios(base: string, sidecarId: string, ids: string[], backend: string): Promise<Scenario[]> {
  const { launchBrowser } = await import('../../test/support/browser.js');
  const b = await launchBrowser();
  try {
    const page = await b.context.newPage();
    const listUrl = `${base}/workflows?app=${encodeURIComponent(sidecarId)}`;
    const loadList = async () => {
      await page.goto('about:blank');
      const t0 = performance.now();
      await page.goto(listUrl);
      await page.waitForSelector('table.instances tbody tr');
      // A string: this function runs in the page (no DOM types in the bench's compile).
      await page.waitForFunction(`/^\\d+$/.test(document.querySelector('[data-testid="count-ALL"]')?.textContent?.trim() ?? '')`);
      return performance.now() - t0;
    };
    const loadInstance = async (i: number) => {
      await page.goto('about:blank');
      const iid = ids[(i * 7) % ids.length]!;
      const t0 = performance.now();
      await page.goto(`${base}/workflows/${encodeURIComponent(sidecarId)}/${encodeURIComponent(iid)}`);
      await page.waitForSelector('[data-testid="instance-id"]');
      return performance.now() - t0;
    };
    const out: Scenario[] = [];
    for (const [name, what, load] of [
      ['browser-list-page', 'Chromium: navigation → table rows and the total count shown', loadList],
      ['browser-instance-page', 'Chromium: navigation → the instance facts shown', loadInstance],
    ] as const) {
      for (let i = 0; i < 3; i++) await load(i);
      const ms: number[] = [];
      for (let i = 0; i < browserSamples; i++) ms.push(await load(i));
      out.push({ name, what, ...stats(ms) });
      process.stderr.write(`[${backend}] ${name}: ${JSON.stringify(out.at(-1))}\n`);
    }
    return out;
  } finally {
    await b.close();
  }
}

async function main(): Promise<void> {
  const loadBefore = uptime();
  const backends: BackendResult[] = [];
  for (const backend of values.only.split(',') as ('sqlite' | 'postgres')[]) backends.push(await benchBackend(backend));
  const results: BenchResults = {
    at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '', node: process.version, loadBefore, loadAfter: uptime() },
    instances: count,
    targetMs: 300,
    backends,
  };
  fs.writeFileSync(path.join(values.out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  fs.writeFileSync(path.join(values.out, 'RESULTS.md'), renderReport(results));
  process.stdout.write(renderReport(results));
}

await main();
