/**
 * The workflow benchmark: Weft on SQLite and on Postgres (durable commits), DBOS Transact and
 * Restate, the same two workloads, measured the same way in one run, each engine in its own process.
 * Writes `results.json` and `RESULTS.md` beside this file.
 *
 *   npm run bench:all --prefix bench/workflow      (installs the peers, builds weft, runs every engine)
 *   npm run bench --prefix bench/workflow [-- --window 12 --only weft-sqlite,restate]
 *
 * Needs `npm run build` (the real `weft` binary) and Postgres at POSTGRES_URL
 * (default postgres://postgres@127.0.0.1:5432/test).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ENGINES } from './measure.js';
import type { MeasureOptions, WorkloadResult } from './measure.js';
import { renderReport } from './report.js';
import type { BenchRun, EngineResult } from './report.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    window: { type: 'string', default: '12' },
    warmup: { type: 'string', default: '3' },
    latency: { type: 'string', default: '200' },
    'in-flight': { type: 'string', default: '32' },
    only: { type: 'string' },
    'wait-quiet': { type: 'string', default: '0' },
  },
});

/** Busy share of all cores over `ms`, from `/proc/stat`. */
async function busyShare(ms: number): Promise<number> {
  const ticks = () => {
    const v = (fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: total - (v[3] ?? 0) - (v[4] ?? 0), total };
  };
  const a = ticks();
  await new Promise((r) => setTimeout(r, ms));
  const b = ticks();
  return b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0;
}

/** Runs `engines` (one, or an engine and its `-100k` twin) in one child process; results by engine. */
function runEngines(engines: string[], options: MeasureOptions & { postgresUrl: string }): Promise<Map<string, WorkloadResult[]>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'child.ts'), engines.join(','), JSON.stringify(options)], {
      cwd: here,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, RESTATE_LOGGING: 'WARN' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      const lines = out.split('\n').filter((l) => l.startsWith('RESULT '));
      if (code !== 0 || lines.length !== engines.length) reject(new Error(`${engines.join(',')} exited with ${code}`));
      else resolve(new Map(lines.map((l) => JSON.parse(l.slice(7)) as { engine: string; results: WorkloadResult[] }).map((r) => [r.engine, r.results])));
    });
  });
}

/**
 * The order of runs: each `X-100k` runs together with `X` when both are asked for (a pair measured
 * back to back, so the "within 10 % of empty" ratio compares like with like), in `X`'s place.
 */
function groupRuns(engines: string[]): string[][] {
  const groups: string[][] = [];
  for (const engine of engines) {
    const twin = `${engine}-100k`;
    if (engine.endsWith('-100k') && engines.includes(engine.slice(0, -'-100k'.length))) continue;
    groups.push(engines.includes(twin) ? [engine, twin] : [engine]);
  }
  return groups;
}

async function main(): Promise<void> {
  const postgresUrl = process.env['POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
  const options: MeasureOptions & { postgresUrl: string } = {
    latencyCount: Number(values.latency),
    inFlight: Number(values['in-flight']),
    warmupSeconds: Number(values.warmup),
    windowSeconds: Number(values.window),
    postgresUrl,
  };
  const engines = values.only ? values.only.split(',') : [...ENGINES];
  const maxBusy = Number(values['wait-quiet']) / 100;
  const results: EngineResult[] = [];
  for (const group of groupRuns(engines)) {
    let busyBefore = await busyShare(2000);
    for (let waited = 0; maxBusy > 0 && busyBefore > maxBusy && waited < 60; waited += 5) busyBefore = await busyShare(5000);
    process.stderr.write(`== ${group.join(' + ')} (machine ${Math.round(busyBefore * 100)}% busy before)\n`);
    try {
      const byEngine = await runEngines(group, options);
      for (const engine of group) results.push({ engine, busyBefore: Math.round(busyBefore * 100) / 100, results: byEngine.get(engine) ?? [] });
    } catch (err) {
      process.stderr.write(`${group.join(',')} failed: ${String(err)}\n`);
      for (const engine of group) results.push({ engine, busyBefore, results: [], error: String(err) });
    }
  }
  const run: BenchRun = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, loadAverage: os.loadavg() },
    method: options.latencyCount + ' one at a time for latency; ' + options.inFlight + ' in flight for ' + options.windowSeconds + ' s after ' + options.warmupSeconds + ' s warm-up for throughput',
    options: { ...options, postgresUrl: undefined },
    engines: results,
  };
  fs.writeFileSync(path.join(here, 'results.json'), JSON.stringify(run, null, 2) + '\n');
  fs.writeFileSync(path.join(here, 'RESULTS.md'), renderReport(run));
  process.stdout.write(renderReport(run));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
