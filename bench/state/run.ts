/**
 * The state benchmark: Weft's HTTP state API against each store's own client library, sidecar
 * start-up time and idle memory. Writes `results.json` and `RESULTS.md` beside this file.
 *
 * Usage: `npm run bench:state -w @weft/bench [-- --quick] [--stores sqlite,redis,postgres] [--wait-quiet MIN]`;
 * `-- --render` only rewrites RESULTS.md from results.json.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { waitForQuiet } from './machine.js';
import { TARGETS, renderMarkdown } from './report.js';
import type { BenchResults, ComparedCase, StoreResult } from './report.js';
import { REPO_ROOT, memoryOf, startSidecar } from './sidecar.js';
import { STORE_NAME, storeSetup } from './stores.js';
import type { StoreSetup } from './stores.js';
import type { BenchSettings, CaseResult, StoreId } from './types.js';
import { LoadWorker } from './workers.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ALL_STORES: readonly StoreId[] = ['sqlite', 'redis', 'postgres'];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const storesArg = args[args.indexOf('--stores') + 1];
const waitQuietMin = args.includes('--wait-quiet') ? Number(args[args.indexOf('--wait-quiet') + 1] ?? 10) : 0;
const stores = (args.includes('--stores') && storesArg ? storesArg.split(',') : ALL_STORES) as StoreId[];

const settings: BenchSettings & { startupRuns: number; idleMs: number } = {
  valueBytes: 1024,
  keys: 1000,
  concurrency: 16,
  openRatePerSec: 1000,
  openMaxInFlight: 16,
  durationMs: quick ? 500 : 4000,
  warmupMs: quick ? 400 : 2000,
  startupRuns: quick ? 3 : 10,
  idleMs: quick ? 500 : 3000,
};

const METHOD = [
  'Every measured loop runs in its own freshly forked Node process (one for the raw client, one for Weft), ' +
    'while the orchestrator sleeps: the raw loop gets the same kind of process and event loop as the Weft ' +
    'loop, and neither inherits the other\'s heap, JIT state or sockets. The raw loop runs in the client ' +
    'process, as an app using the library directly would; the Weft loop sends HTTP/1.1 to a separate ' +
    '`weft sidecar` process (the built CLI) over an undici keep-alive Pool with one socket per in-flight request. ' +
    'The two processes take turns case by case (raw, then Weft, for each op and load), never measuring at once.',
  'The machine has 2 cores, shared by the load generator, the sidecar and the database server. With Weft ' +
    'there is one more process on them (the sidecar) than with the raw client, so added latency here ' +
    'includes CPU contention a deployment with spare cores would not see.',
  `Values are ${settings.valueBytes}-byte JSON strings (the same bytes are stored both ways), written and read ` +
    `round-robin over ${settings.keys} pre-filled keys. Each process warms up for ${settings.warmupMs / 1000} s ` +
    `(closed loop, save then get) before measuring.`,
  `"${settings.concurrency} in flight": a closed loop that keeps ${settings.concurrency} requests outstanding for ` +
    `${settings.durationMs / 1000} s; its latency includes queueing behind the other ${settings.concurrency - 1}, ` +
    'so it mostly measures per-request CPU cost (latency ≈ in-flight / throughput).',
  `"${settings.openRatePerSec}/s": an open loop at a fixed ${settings.openRatePerSec} requests/s for ` +
    `${settings.durationMs / 1000} s (at most ${settings.openMaxInFlight} in flight), the load Dapr's published ` +
    'state benchmark uses (1000 qps, 1 KB, Postgres: +1.52 ms p99 over the raw store, gRPC).',
  'Latency is measured per request in the client (performance.now around the awaited call, response body ' +
    'read and its length checked); percentiles are nearest-rank over all samples.',
  `Start-up: ${settings.startupRuns} sequential starts of \`node packages/cli/bin/weft.js sidecar\` with the ` +
    'SQLite component, timed from spawn to the first 204 of GET /v1.0/healthz/outbound (polled every 2 ms ' +
    'on a fresh connection). Idle RSS: VmRSS from /proc/<pid>/status of the SQLite sidecar after ' +
    `${settings.idleMs / 1000} s idle, before any load.`,
];

const NOTES = [
  '- Closed-loop latency is dominated by queueing: with 16 requests in flight, each waits for the others ' +
    'to be served by a single-threaded sidecar, so "added p99" there is roughly 16 × the sidecar\'s CPU per ' +
    'request plus client-side HTTP cost. The open-loop rows are the like-for-like comparison with Dapr\'s ' +
    'published figure.',
  '- "Sidecar CPU µs/req" is the figure other work on the machine moves least. Its reciprocal bounds what one ' +
    'sidecar can serve on one core, and at low load Weft\'s added latency is roughly that CPU time plus the ' +
    'client\'s HTTP cost and a loopback round trip.',
  '- Each Weft request needs three processes to run in turn (client, sidecar, database) where the raw client ' +
    'needs two. When other work holds a core, a request can wait for a time slice at every hop, and that is what ' +
    'the p99 of a run on a busy machine mostly shows.',
  '- At 1000/s the sidecar is mostly idle and each request wakes its event loop on its own (nothing to batch ' +
    'reads and writes with), so its CPU per request there is two to three times the closed-loop figure.',
];

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round1 = (n: number): number => Math.round(n * 10) / 10;
const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/** The commit the measured runtime was built from, and whether packages/ had uncommitted changes. */
function runtimeVersion(): { commit: string; dirty: boolean } {
  try {
    const git = (...a: string[]): string => execFileSync('git', a, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    return { commit: git('rev-parse', '--short', 'HEAD'), dirty: git('status', '--porcelain', '--', 'packages') !== '' };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

/** State component types the built runtime registers (what the `weft` binary will accept). */
async function registeredStateTypes(): Promise<string[]> {
  const dist = pathToFileURL(path.join(REPO_ROOT, 'packages/runtime/dist/index.js')).href;
  const runtime = (await import(dist)) as { builtinRegistry(): { supportedTypes(kind?: string): string[] } };
  return runtime.builtinRegistry().supportedTypes('state');
}

function compare(raw: readonly CaseResult[], weft: readonly CaseResult[]): ComparedCase[] {
  return weft.map((w) => {
    const r = raw.find((c) => c.op === w.op && c.mode === w.mode);
    if (!r) throw new Error(`no raw figure for ${w.op}/${w.mode}`);
    const addedP99Ms = round3(w.summary.p99Ms - r.summary.p99Ms);
    return {
      op: w.op,
      mode: w.mode,
      weft: w.summary,
      raw: r.summary,
      addedP50Ms: round3(w.summary.p50Ms - r.summary.p50Ms),
      addedP99Ms,
      throughputRatio: round3(w.summary.throughputPerSec / r.summary.throughputPerSec),
      met: addedP99Ms <= TARGETS.addedP99Ms && w.summary.errors === 0 && w.summary.skipped === 0,
    };
  });
}

async function benchStore(setup: StoreSetup, runId: string, workDir: string): Promise<StoreResult> {
  const base = { store: setup.id, componentType: setup.componentType };
  const unreachable = await setup.unreachable();
  if (unreachable) return { ...base, measured: false, reason: unreachable };
  const resourcesDir = path.join(workDir, 'resources');
  fs.mkdirSync(resourcesDir, { recursive: true });
  fs.writeFileSync(path.join(resourcesDir, 'bench.yaml'), setup.componentYaml);
  let raw: LoadWorker | undefined;
  let weft: LoadWorker | undefined;
  try {
    log(`${setup.id}: raw client set-up and warm-up`);
    raw = await LoadWorker.start({ target: 'raw', keyPrefix: `raw-${runId}-`, raw: setup.raw, settings });
    const sidecar = await startSidecar({ appId: `bench-${runId}`, resourcesDir, dataDir: path.join(workDir, 'data') });
    try {
      await sleep(settings.idleMs);
      const idle = memoryOf(sidecar.pid);
      log(`${setup.id}: Weft client set-up and warm-up`);
      weft = await LoadWorker.start({
        target: 'weft',
        keyPrefix: 'k-',
        weft: { httpPort: sidecar.httpPort, storeName: STORE_NAME, pid: sidecar.pid },
        settings,
      });
      // Raw and Weft alternate case by case, so drifting background load hits both alike.
      const rawCases: CaseResult[] = [];
      const weftCases: CaseResult[] = [];
      for (const op of ['save', 'get'] as const) {
        for (const mode of ['closed', 'open'] as const) {
          log(`${setup.id}: ${op}, ${mode} loop`);
          rawCases.push(await raw.runCase(op, mode));
          const gcBefore = sidecar.gcCounts();
          const weftCase = await weft.runCase(op, mode);
          const gcAfter = sidecar.gcCounts();
          const per10k = (n: number) => round1((n * 10_000) / Math.max(1, weftCase.summary.requests));
          weftCase.summary.sidecarGcPer10k = {
            scavenges: per10k(gcAfter.scavenges - gcBefore.scavenges),
            markCompacts: per10k(gcAfter.markCompacts - gcBefore.markCompacts),
          };
          weftCases.push(weftCase);
        }
      }
      const loaded = memoryOf(sidecar.pid);
      return {
        ...base,
        measured: true,
        sidecar: { startupMs: round1(sidecar.startupMs), rssAfterIdleMB: idle.rssMB, rssAfterLoadMB: loaded.rssMB, peakRssMB: loaded.peakRssMB },
        cases: compare(rawCases, weftCases),
      };
    } finally {
      await weft?.close();
      await sidecar.stop();
    }
  } finally {
    await raw?.close();
    await setup.cleanup();
  }
}

async function startupAndIdle(workDir: string, runId: string): Promise<Pick<BenchResults, 'startup' | 'idleRss'>> {
  const setup = storeSetup('sqlite', `${runId}_start`, workDir);
  const resourcesDir = path.join(workDir, 'resources');
  fs.mkdirSync(resourcesDir, { recursive: true });
  fs.writeFileSync(path.join(resourcesDir, 'bench.yaml'), setup.componentYaml);
  const dataDir = path.join(workDir, 'data');
  const runsMs: number[] = [];
  const cpuMs: number[] = [];
  let idleRss: BenchResults['idleRss'] | undefined;
  try {
    for (let i = 0; i < settings.startupRuns; i++) {
      const sidecar = await startSidecar({ appId: `bench-${runId}`, resourcesDir, dataDir });
      runsMs.push(round1(sidecar.startupMs));
      cpuMs.push(sidecar.startupCpuMs);
      if (i === settings.startupRuns - 1) {
        const afterReady = memoryOf(sidecar.pid).rssMB;
        await sleep(settings.idleMs);
        const afterIdle = memoryOf(sidecar.pid).rssMB;
        idleRss = { afterReadyMB: afterReady, afterIdleMB: afterIdle, idleMs: settings.idleMs, targetMB: TARGETS.idleRssMB, met: afterIdle <= TARGETS.idleRssMB };
      }
      await sidecar.stop();
    }
  } finally {
    await setup.cleanup();
  }
  if (!idleRss) throw new Error('no start-up run');
  const medianMs = round1(median(runsMs));
  return {
    startup: { runsMs, medianMs, cpuMs, medianCpuMs: median(cpuMs), targetMs: TARGETS.startupMs, met: medianMs <= TARGETS.startupMs },
    idleRss,
  };
}

function log(message: string): void {
  process.stderr.write(`[bench:state] ${message}\n`);
}

/** `--render`: rewrites RESULTS.md from the committed results.json (after editing the report's text). */
function renderOnly(): void {
  const report = JSON.parse(fs.readFileSync(path.join(HERE, 'results.json'), 'utf8')) as BenchResults;
  fs.writeFileSync(path.join(HERE, 'RESULTS.md'), renderMarkdown(report, NOTES));
  log('RESULTS.md rewritten from results.json');
}

async function main(): Promise<void> {
  const busyBefore = await waitForQuiet(0.15, waitQuietMin * 60_000, log);
  log(`machine ${Math.round(busyBefore * 100)}% busy before the run`);
  const t0 = performance.now();
  const loadAtStart = round1(os.loadavg()[0] ?? NaN);
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-bench-state-'));
  try {
    const registered = await registeredStateTypes();
    log(`start-up: ${settings.startupRuns} runs`);
    const { startup, idleRss } = await startupAndIdle(path.join(workRoot, 'startup'), runId);
    log(`start-up median ${startup.medianMs} ms, idle RSS ${idleRss.afterIdleMB} MB`);
    const results: StoreResult[] = [];
    for (const id of stores) {
      const workDir = path.join(workRoot, id);
      fs.mkdirSync(workDir, { recursive: true });
      const setup = storeSetup(id, runId, workDir);
      if (!registered.includes(setup.componentType)) {
        const reason = `${setup.componentType} is not registered in packages/runtime/src/components/builtin.ts (built dist)`;
        log(`${id}: skipped, ${reason}`);
        results.push({ store: id, measured: false, componentType: setup.componentType, reason });
        continue;
      }
      results.push(await benchStore(setup, runId, workDir));
    }
    const cpus = os.cpus();
    const report: BenchResults = {
      benchmark: 'state',
      date: new Date().toISOString(),
      runtime: runtimeVersion(),
      machine: {
        cpuModel: cpus[0]?.model ?? 'unknown',
        cores: cpus.length,
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
        node: process.version,
        platform: os.platform(),
        kernel: os.release(),
        loadAverage: { start: loadAtStart, end: round1(os.loadavg()[0] ?? NaN) },
        busyBeforeStartPercent: Math.round(busyBefore * 100),
      },
      settings,
      method: METHOD,
      startup,
      idleRss,
      stores: results,
      durationSec: Math.round((performance.now() - t0) / 1000),
    };
    const outDir = quick ? path.join(workRoot, 'out') : HERE;
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
    fs.writeFileSync(path.join(outDir, 'RESULTS.md'), renderMarkdown(report, NOTES));
    process.stdout.write(renderMarkdown(report, NOTES));
    log(`done in ${report.durationSec} s${quick ? ' (quick run: results not written to bench/state)' : ''}`);
  } finally {
    fs.rmSync(workRoot, { recursive: true, force: true });
  }
}

(args.includes('--render') ? Promise.resolve().then(renderOnly) : main()).catch((err: unknown) => {
  process.stderr.write(`[bench:state] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
