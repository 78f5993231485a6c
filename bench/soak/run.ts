/**
 * Soak: mixed load through two real `weft sidecar` processes for a long stretch, to show that Weft
 * neither leaks nor degrades. App "soak-a" is this process talking to sidecar A; sidecar B fronts the
 * callee app (`app.mjs`). Each request is, in turn:
 *   invoke   POST /v1.0/invoke/soak-b/method/echo      (sidecar A → sidecar B → app)
 *   state    POST /v1.0/state/statestore, then GET of the key just written (alternating)
 *   publish  POST /v1.0/publish/pubsub/orders           (delivered by sidecar B to the app)
 * at a fixed total rate (open loop). After a warm-up that is not counted, every minute records count,
 * errors and p50/p99 per operation, and the sidecars' RSS is sampled every 5 s. At the end every
 * published event must have reached the app.
 *
 *   npx tsx bench/soak/run.ts [--minutes 10] [--rate 1000] [--warmup 30] [--backend embedded|redis] [--out dir]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { busyBetween, cpuTicks, processCpuMs, waitForQuiet } from '../state/machine.js';
import { freePort, memoryOf, startSidecar } from '../state/sidecar.js';
import type { BenchSidecar } from '../state/sidecar.js';
import { renderReport } from './report.js';
import type { MinuteRecord, OpName, OpStats, SoakResult } from './types.js';

const here = path.dirname(fileURLToPath(import.meta.url));

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : (process.argv[i + 1] ?? fallback);
}

const MINUTES = Number(flag('minutes', '10'));
const RATE = Number(flag('rate', '1000'));
const WARMUP_S = Number(flag('warmup', '30'));
const BACKEND = flag('backend', 'embedded');
const OUT_DIR = path.resolve(flag('out', here));
/** A request due while this many are outstanding is skipped (and counted): queueing shows as skips. */
const MAX_IN_FLIGHT = 1000;
const KEYS = 1000;
const OPS: readonly OpName[] = ['invoke', 'stateSave', 'stateGet', 'publish'];

/** Redis resources for `--backend redis`: the production-style setting. */
const REDIS_RESOURCES = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: statestore}
spec:
  type: state.redis
  version: v1
  metadata: [{name: redisHost, value: "127.0.0.1:6379"}]
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: pubsub}
spec:
  type: pubsub.redis
  version: v1
  metadata: [{name: redisHost, value: "127.0.0.1:6379"}]
`;

class Bucket {
  readonly latencies = new Map<OpName, number[]>(OPS.map((op) => [op, []]));
  readonly errors = new Map<OpName, number>(OPS.map((op) => [op, 0]));
  skipped = 0;
  firstError: string | undefined;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}
const round2 = (n: number): number => Math.round(n * 100) / 100;

/** `nodejs_heap_size_used_bytes` of a sidecar, in MB, from its Prometheus endpoint. */
async function heapUsedMB(sidecar: BenchSidecar): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${sidecar.metricsPort}/metrics`)).text();
  const bytes = Number(/^nodejs_heap_size_used_bytes\S* ([\d.e+]+)$/m.exec(text)?.[1] ?? Number.NaN);
  return Math.round((bytes / 1048576) * 10) / 10;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Median and peak of one minute's RSS samples. */
function rssOfMinute(samples: { a: number; b: number }[]): { rssMB: { a: number; b: number }; peakRssMB: { a: number; b: number } } {
  const a = samples.map((x) => x.a);
  const b = samples.map((x) => x.b);
  return { rssMB: { a: median(a), b: median(b) }, peakRssMB: { a: Math.max(...a), b: Math.max(...b) } };
}

function statsOf(latencies: number[], errors: number): OpStats {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { requests: sorted.length, errors, p50Ms: round2(percentile(sorted, 50)), p99Ms: round2(percentile(sorted, 99)), maxMs: round2(sorted.at(-1) ?? Number.NaN) };
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-soak-'));
  const env = { WEFT_REGISTRY_DIR: path.join(work, 'registry') };
  let resourcesDir: string | undefined;
  if (BACKEND === 'redis') {
    resourcesDir = path.join(work, 'resources');
    fs.mkdirSync(resourcesDir);
    fs.writeFileSync(path.join(resourcesDir, 'components.yaml'), REDIS_RESOURCES);
  } else if (BACKEND !== 'embedded') {
    throw new Error(`--backend must be embedded or redis, not ${BACKEND}`);
  }

  const appPort = await freePort();
  const app = spawn(process.execPath, [path.join(here, 'app.mjs')], { env: { ...process.env, APP_PORT: String(appPort) }, stdio: 'inherit' });
  const sidecars: BenchSidecar[] = [];
  const cleanup = async (): Promise<void> => {
    await Promise.all(sidecars.map((s) => s.stop()));
    app.kill('SIGTERM');
    fs.rmSync(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    const dataDir = path.join(work, 'data');
    // Both sidecars share one data directory, so the embedded pub/sub database is one file.
    const b = await startSidecar({ appId: 'soak-b', dataDir, env, ...(resourcesDir ? { resourcesDir } : {}), extraArgs: ['--app-port', String(appPort)] });
    sidecars.push(b);
    const a = await startSidecar({ appId: 'soak-a', dataDir, env, ...(resourcesDir ? { resourcesDir } : {}) });
    sidecars.push(a);
    const idleRss = { a: memoryOf(a.pid).rssMB, b: memoryOf(b.pid).rssMB };
    const machineBusyBefore = await waitForQuiet(0.15, 60_000, (m) => console.error(m));

    const pool = new Pool(`http://127.0.0.1:${a.httpPort}`, { connections: 128, keepAliveTimeout: 60_000 });
    const pad = 'x'.repeat(100);
    let published = 0;
    let publishedOk = 0;
    const request = async (op: OpName, n: number): Promise<void> => {
      const key = `k${n % KEYS}`;
      let res;
      switch (op) {
        case 'invoke':
          res = await pool.request({ method: 'POST', path: '/v1.0/invoke/soak-b/method/echo', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n, pad }) });
          break;
        case 'stateSave':
          res = await pool.request({ method: 'POST', path: '/v1.0/state/statestore', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ key, value: { n, pad } }]) });
          break;
        case 'stateGet':
          res = await pool.request({ method: 'GET', path: `/v1.0/state/statestore/${key}` });
          break;
        case 'publish':
          published++;
          res = await pool.request({ method: 'POST', path: '/v1.0/publish/pubsub/orders', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: n, pad }) });
          break;
      }
      const body = await res.body.text();
      const expected = op === 'invoke' || op === 'stateGet' ? 200 : 204;
      if (res.statusCode !== expected) throw new Error(`${op}: ${res.statusCode} ${body.slice(0, 200)}`);
      if (op === 'publish') publishedOk++;
    };

    const minutes: MinuteRecord[] = [];
    const rssSamples: { atS: number; a: number; b: number }[] = [];
    const totalMs = (WARMUP_S + MINUTES * 60) * 1000;
    const start = performance.now();
    let issued = 0;
    let inFlight = 0;
    let bucket = new Bucket();
    let bucketIndex = -1; // -1 is the warm-up
    const pending = new Set<Promise<void>>();
    let measuredCpu = { a: 0, b: 0, ticks: cpuTicks() };

    // A minute's latencies are summarised at the end, once its last requests have answered; what
    // describes the machine (CPU, heap) is read at the minute's boundary.
    const closed: { bucket: Bucket; cpu: { a: number; b: number; machine: number }; heap: Promise<{ a: number; b: number }> }[] = [];
    const closeBucket = (): void => {
      const cpu = { a: processCpuMs(a.pid), b: processCpuMs(b.pid), ticks: cpuTicks() };
      if (bucketIndex >= 0) {
        closed.push({
          bucket,
          cpu: { a: round2((cpu.a - measuredCpu.a) / 60_000), b: round2((cpu.b - measuredCpu.b) / 60_000), machine: round2(busyBetween(measuredCpu.ticks, cpu.ticks)) },
          heap: Promise.all([heapUsedMB(a), heapUsedMB(b)]).then(([ha, hb]) => ({ a: ha, b: hb })),
        });
        console.error(`minute ${bucketIndex + 1}: ${OPS.reduce((n, op) => n + (bucket.latencies.get(op)?.length ?? 0), 0)} answered so far, ${bucket.skipped} skipped, RSS a ${memoryOf(a.pid).rssMB} / b ${memoryOf(b.pid).rssMB} MB`);
      } else {
        console.error(`warm-up done, measuring ${MINUTES} minute(s) at ${RATE}/s`);
      }
      measuredCpu = cpu;
      bucket = new Bucket();
      bucketIndex++;
    };
    const summariseMinutes = async (): Promise<void> => {
      for (const [index, c] of closed.entries()) {
        const perOp = Object.fromEntries(OPS.map((op) => [op, statsOf(c.bucket.latencies.get(op) ?? [], c.bucket.errors.get(op) ?? 0)])) as Record<OpName, OpStats>;
        const all = statsOf(OPS.flatMap((op) => c.bucket.latencies.get(op) ?? []), OPS.reduce((n, op) => n + (c.bucket.errors.get(op) ?? 0), 0));
        minutes.push({
          minute: index + 1,
          ...all,
          skipped: c.bucket.skipped,
          perOp,
          heapUsedMB: await c.heap,
          ...rssOfMinute(rssSamples.filter((x) => x.atS > index * 60 && x.atS <= (index + 1) * 60)),
          cpuShare: c.cpu,
          ...(c.bucket.firstError ? { firstError: c.bucket.firstError } : {}),
        });
      }
    };

    const send = (seq: number): void => {
      const op = OPS[seq % OPS.length] ?? 'invoke';
      // Save and get of the same key are neighbours, so a get always finds a value.
      const n = Math.floor(seq / OPS.length);
      const mine = bucket;
      inFlight++;
      const t0 = performance.now();
      const tracked = request(op, n).then(
        () => void mine.latencies.get(op)?.push(performance.now() - t0),
        (err: unknown) => {
          mine.errors.set(op, (mine.errors.get(op) ?? 0) + 1);
          mine.firstError ??= err instanceof Error ? err.message : String(err);
        },
      ).finally(() => {
        inFlight--;
        pending.delete(tracked);
      });
      pending.add(tracked);
    };

    const rssTimer = setInterval(() => {
      if (bucketIndex < 0) return;
      const sample = { atS: Math.round((performance.now() - start) / 1000 - WARMUP_S), a: memoryOf(a.pid).rssMB, b: memoryOf(b.pid).rssMB };
      rssSamples.push(sample);
    }, 5000);
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const elapsed = Math.min(performance.now() - start, totalMs);
        const phase = elapsed < WARMUP_S * 1000 ? -1 : Math.floor((elapsed - WARMUP_S * 1000) / 60_000);
        while (bucketIndex < Math.min(phase, MINUTES - 1) || (bucketIndex === -1 && phase >= 0)) {
          closeBucket();
        }
        const due = Math.floor((elapsed * RATE) / 1000) - issued;
        for (let i = 0; i < due; i++) {
          if (inFlight >= MAX_IN_FLIGHT) bucket.skipped++;
          else send(issued);
          issued++;
        }
        if (elapsed >= totalMs) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    closeBucket();
    await Promise.all(pending);
    await summariseMinutes();
    clearInterval(rssTimer);

    // Every accepted publish must reach the app (at-least-once: count distinct ids).
    const deadline = Date.now() + 120_000;
    let stats = { deliveries: 0, unique: 0 };
    while (Date.now() < deadline) {
      stats = (await (await fetch(`http://127.0.0.1:${appPort}/stats`)).json()) as typeof stats;
      if (stats.unique >= publishedOk) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    await pool.close();

    const result: SoakResult = {
      when: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', node: process.version, busyBeforeRun: round2(machineBusyBefore) },
      settings: { backend: BACKEND, ratePerSec: RATE, minutes: MINUTES, warmupSeconds: WARMUP_S, maxInFlight: MAX_IN_FLIGHT, mix: 'invoke, state save, state get, publish in turn' },
      totals: {
        requests: minutes.reduce((s, m) => s + m.requests, 0),
        errors: minutes.reduce((s, m) => s + m.errors, 0),
        skipped: minutes.reduce((s, m) => s + m.skipped, 0),
        published,
        publishedOk,
        delivered: stats.deliveries,
        deliveredUnique: stats.unique,
        lost: Math.max(0, publishedOk - stats.unique),
      },
      rssMB: { idle: idleRss, start: minutes[0]?.rssMB ?? idleRss, end: minutes.at(-1)?.rssMB ?? idleRss, samples: rssSamples },
      minutes,
    };
    fs.mkdirSync(OUT_DIR, { recursive: true });
    fs.writeFileSync(path.join(OUT_DIR, 'results.json'), `${JSON.stringify(result, null, 2)}\n`);
    fs.writeFileSync(path.join(OUT_DIR, 'RESULTS.md'), renderReport(result));
    console.log(renderReport(result));
  } finally {
    await cleanup();
  }
}

await main();
