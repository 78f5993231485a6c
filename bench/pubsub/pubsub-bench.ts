/**
 * End-to-end pub/sub benchmark: publish over Weft's HTTP API → driver → broker → sidecar → HTTP app,
 * for 1 KB events, beside each raw broker client's own publish → consume loop in the same run.
 * Latency: sequential events (publish, wait for arrival) → p50/p99. Throughput: `--events` events with
 * `--concurrency` publishes in flight → events/s until the last one arrived.
 *
 * By default the sidecar runs as its own `weft sidecar` process, as it does beside an app, and the
 * client and the app run in this process; `--in-process` starts the sidecar inside this process
 * instead. Besides wall-clock figures (which mean little on a loaded machine) every row reports the
 * CPU time (user + system) per event during the throughput phase: of this process (client and app,
 * and the sidecar with `--in-process`; the raw rows' client), and of the sidecar process
 * (`/proc/<pid>/stat`).
 *
 * Run: `npm run bench:pubsub` in `bench/` (or `npx tsx bench/pubsub/pubsub-bench.ts [--events 5000]
 * [--latency 500] [--concurrency 32]`); `BENCH_ONLY=<substring>` runs only the matching rows. Needs
 * Redis, NATS and RabbitMQ on their default local ports; a missing one is reported and skipped.
 * Writes `bench/pubsub/RESULTS.md` and `bench/pubsub/results.json`; the console line of a Weft row also
 * gives the sidecar's read and write system calls per event. `WEFT_SIDECAR_NODE_ARGS="--cpu-prof
 * --cpu-prof-dir=<dir>"` profiles the sidecar process.
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { Sidecar, resolveSidecarOptions, silentLogger } from '../../packages/runtime/src/index.js';
import { Redis } from 'ioredis';
import { connect } from 'nats';
import { natsLoop, rabbitLoop, redisLoop } from './raw-loops.js';
import { busyShare } from '../state/machine.js';
import { startWeftSidecar } from '../../test/support/weft-process.js';
import type { RawLoop } from './raw-loops.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '5000' },
    latency: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '32' },
    'in-process': { type: 'boolean', default: false },
  },
});
const IN_PROCESS = values['in-process'] === true;
const EVENTS = Number(values.events);
const LATENCY_EVENTS = Number(values.latency);
const CONCURRENCY = Number(values.concurrency);
const FILLER = 'x'.repeat(1000);

interface Result {
  target: string;
  p50: number;
  p99: number;
  throughput: number;
  /** CPU time (user + system) of this process per event in the throughput phase, µs. */
  cpuUsPerEvent: number;
  /** CPU time of the sidecar process per event in the throughput phase, µs (out-of-process Weft rows). */
  sidecarCpuUsPerEvent?: number;
  /** Read and write system calls of the sidecar process per event in the throughput phase (`/proc/<pid>/io`). */
  sidecarSyscallsPerEvent?: { reads: number; writes: number };
}

/** User + system CPU time of a process so far, µs (from `/proc/<pid>/stat`, in clock ticks of 10 ms). */
async function processCpuUs(pid: number): Promise<number> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** Read and write system calls of a process so far (`syscr`, `syscw` of `/proc/<pid>/io`). */
async function processSyscalls(pid: number): Promise<{ reads: number; writes: number }> {
  const io = await fs.readFile(`/proc/${pid}/io`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1] ?? NaN);
  return { reads: field('syscr'), writes: field('syscw') };
}

/** A sink that records arrival latencies (the payload carries `performance.now()` at send). */
class Sink {
  latencies: number[] = [];
  count = 0;
  private waiter: { n: number; resolve: () => void } | undefined;

  record(sentAt: number): void {
    this.latencies.push(performance.now() - sentAt);
    this.count++;
    if (this.waiter && this.count >= this.waiter.n) this.waiter.resolve();
  }

  until(n: number): Promise<void> {
    if (this.count >= n) return Promise.resolve();
    return new Promise((resolve) => (this.waiter = { n, resolve }));
  }

  reset(): void {
    this.latencies = [];
    this.count = 0;
  }
}

const payload = (): Buffer => Buffer.from(JSON.stringify({ t: performance.now(), f: FILLER }));
const sentAtOf = (json: unknown): number => (json as { t: number }).t;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

/** Latency then throughput over a `send` function and its sink. */
async function measure(target: string, sink: Sink, send: () => Promise<void>, sidecarPid?: number): Promise<Result> {
  for (let i = 0; i < 50; i++) await send(); // warm-up
  await sink.until(50);
  sink.reset();
  for (let i = 0; i < LATENCY_EVENTS; i++) {
    await send();
    await sink.until(i + 1);
  }
  const sorted = [...sink.latencies].sort((a, b) => a - b);
  sink.reset();
  const start = performance.now();
  const cpuBefore = process.cpuUsage();
  const sidecarBefore = sidecarPid === undefined ? 0 : await processCpuUs(sidecarPid);
  const syscallsBefore = sidecarPid === undefined ? undefined : await processSyscalls(sidecarPid);
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < EVENTS) {
        next++;
        await send();
      }
    }),
  );
  await sink.until(EVENTS);
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const sidecarCpu = sidecarPid === undefined ? undefined : (await processCpuUs(sidecarPid)) - sidecarBefore;
  const syscallsAfter = sidecarPid === undefined ? undefined : await processSyscalls(sidecarPid);
  return {
    target,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    throughput: EVENTS / seconds,
    cpuUsPerEvent: (cpu.user + cpu.system) / EVENTS,
    ...(sidecarCpu === undefined ? {} : { sidecarCpuUsPerEvent: sidecarCpu / EVENTS }),
    ...(syscallsBefore === undefined || syscallsAfter === undefined
      ? {}
      : {
          sidecarSyscallsPerEvent: {
            reads: (syscallsAfter.reads - syscallsBefore.reads) / EVENTS,
            writes: (syscallsAfter.writes - syscallsBefore.writes) / EVENTS,
          },
        }),
  };
}

/** Deletes the broker-side stream a Weft run left behind (Redis stream, JetStream stream). */
async function dropTopic(componentYaml: string, topic: string): Promise<void> {
  if (componentYaml.includes('pubsub.redis')) {
    const redis = new Redis({ host: '127.0.0.1', port: 6379 });
    await redis.del(topic);
    redis.disconnect();
  } else if (componentYaml.includes('pubsub.jetstream')) {
    const nc = await connect({ servers: 'nats://127.0.0.1:4222' });
    const jsm = await nc.jetstreamManager();
    for await (const info of jsm.streams.list()) if (info.config.subjects?.includes(topic)) await jsm.streams.delete(info.config.name);
    await nc.close();
  }
}

/** Weft end to end with the given component YAML, or the embedded default `pubsub` when it is undefined. */
async function weft(target: string, componentYaml: string | undefined): Promise<Result> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-bench-'));
  const sink = new Sink();
  const topic = `bench-${Date.now()}`;
  const app = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/dapr/subscribe') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify([{ pubsubname: 'pubsub', topic, route: '/in', metadata: { concurrency: '64' } }]));
        return;
      }
      if (req.url !== '/in') {
        // The sidecar also asks for /dapr/config; only the route is an event.
        res.writeHead(404).end();
        return;
      }
      sink.record(sentAtOf((JSON.parse(Buffer.concat(chunks).toString()) as { data: unknown }).data));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"SUCCESS"}');
    });
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  if (componentYaml !== undefined) {
    await fs.mkdir(path.join(dir, 'resources'));
    await fs.writeFile(path.join(dir, 'resources', 'pubsub.yaml'), componentYaml);
  }
  const appPort = (app.address() as AddressInfo).port;
  const resourcesPaths = componentYaml === undefined ? [] : [path.join(dir, 'resources')];
  let sidecar: { httpPort: number; pid?: number; subscribed: () => Promise<boolean>; stop: () => Promise<unknown> };
  if (IN_PROCESS) {
    const inProcess = await Sidecar.start(
      resolveSidecarOptions({
        appId: 'bench',
        httpPort: 0,
        grpcPort: 0,
        metricsPort: -1,
        dataDir: path.join(dir, '.weft'),
        resourcesPaths,
        appPort,
        env: {},
      }),
      { logger: silentLogger() },
    );
    sidecar = { httpPort: inProcess.httpPort, subscribed: async () => (inProcess.subscriber?.list().length ?? 0) > 0, stop: () => inProcess.stop() };
  } else {
    // The sidecar's data dir is ./.weft of its working directory.
    const child = await startWeftSidecar(
      ['--app-id', 'bench', '--app-port', String(appPort), '--log-level', 'warn', ...resourcesPaths.flatMap((p) => ['--resources-path', p])],
      { cwd: dir },
    );
    const metadataUrl = `http://127.0.0.1:${child.httpPort}/v1.0/metadata`;
    sidecar = {
      httpPort: child.httpPort,
      ...(child.child.pid === undefined ? {} : { pid: child.child.pid }),
      subscribed: async () => (((await (await fetch(metadataUrl)).json()) as { subscriptions?: unknown[] }).subscriptions?.length ?? 0) > 0,
      stop: () => child.stop(),
    };
  }
  while (!(await sidecar.subscribed())) await new Promise((r) => setTimeout(r, 20));
  const agent = new Agent({ connections: CONCURRENCY });
  const url = `http://127.0.0.1:${sidecar.httpPort}/v1.0/publish/pubsub/${topic}`;
  try {
    return await measure(
      target,
      sink,
      async () => {
        const res = await request(url, { method: 'POST', body: payload(), headers: { 'content-type': 'application/json' }, dispatcher: agent });
        await res.body.dump();
        if (res.statusCode !== 204) throw new Error(`publish answered ${res.statusCode}`);
      },
      sidecar.pid,
    );
  } finally {
    await agent.close();
    await sidecar.stop();
    app.close();
    if (componentYaml !== undefined) await dropTopic(componentYaml, topic).catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function raw(target: string, start: (onMessage: (p: Buffer) => void) => Promise<RawLoop>): Promise<Result> {
  const sink = new Sink();
  const loop = await start((p) => sink.record(sentAtOf(JSON.parse(p.toString()))));
  try {
    return await measure(target, sink, () => loop.publish(payload()));
  } finally {
    await loop.close();
  }
}

const component = (type: string, meta: Record<string, string>) =>
  `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: pubsub}\nspec:\n  type: ${type}\n  version: v1\n  metadata:\n${Object.entries(meta)
    .map(([k, v]) => `  - {name: ${k}, value: "${v}"}`)
    .join('\n')}\n`;

const only = process.env['BENCH_ONLY'];
const allRuns: [string, () => Promise<Result>][] = [
  ['Weft · embedded default (pubsub.sqlite)', () => weft('Weft · embedded default (pubsub.sqlite)', undefined)],
  ['Weft · pubsub.redis', () => weft('Weft · pubsub.redis', component('pubsub.redis', { redisHost: '127.0.0.1:6379' }))],
  ['raw ioredis Streams', () => raw('raw ioredis Streams', (on) => redisLoop('127.0.0.1', 6379, on))],
  ['Weft · pubsub.jetstream', () => weft('Weft · pubsub.jetstream', component('pubsub.jetstream', { natsURL: 'nats://127.0.0.1:4222', memoryStorage: 'false' }))],
  ['raw nats JetStream', () => raw('raw nats JetStream', (on) => natsLoop('nats://127.0.0.1:4222', on))],
  ['Weft · pubsub.rabbitmq', () => weft('Weft · pubsub.rabbitmq', component('pubsub.rabbitmq', { connectionString: 'amqp://127.0.0.1:5672' }))],
  ['raw amqplib', () => raw('raw amqplib', (on) => rabbitLoop('amqp://127.0.0.1:5672', on))],
];

const runs = only ? allRuns.filter(([name]) => name.includes(only)) : allRuns;
const loadBefore = os.loadavg();
// The load average lags (a bench that just ended still shows in it), so other work is judged by how
// busy the cores are right before the run.
const busyBefore = await busyShare(2000);
const results: Result[] = [];
for (const [name, run] of runs) {
  try {
    const r = await run();
    results.push(r);
    console.log(
      `${name}: p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ${Math.round(r.throughput)} events/s, ` +
        `${Math.round(r.cpuUsPerEvent)} µs CPU/event here${r.sidecarCpuUsPerEvent === undefined ? '' : `, ${Math.round(r.sidecarCpuUsPerEvent)} in the sidecar`}` +
        (r.sidecarSyscallsPerEvent === undefined
          ? ''
          : ` (${r.sidecarSyscallsPerEvent.reads.toFixed(2)} reads, ${r.sidecarSyscallsPerEvent.writes.toFixed(2)} writes/event)`),
    );
  } catch (err) {
    console.log(`${name}: skipped (${(err as Error).message})`);
  }
}
const loadAfter = os.loadavg();
const fmtLoad = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');
const here = path.dirname(fileURLToPath(import.meta.url));
const meta = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}`,
  loadBefore,
  loadAfter,
  busyBefore,
  events: EVENTS,
  latencyEvents: LATENCY_EVENTS,
  concurrency: CONCURRENCY,
  sidecar: IN_PROCESS ? 'in process' : 'own process',
};
await fs.writeFile(path.join(here, 'results.json'), `${JSON.stringify({ ...meta, results }, null, 2)}\n`);
const lines = [
  '# Pub/sub benchmark results',
  '',
  `1 KB events; latency over ${LATENCY_EVENTS} sequential events, throughput over ${EVENTS} events with ${CONCURRENCY} publishes in flight.`,
  `Machine: ${meta.cpus}, Node ${process.version}, ${meta.date}.`,
  `Cores ${Math.round(busyBefore * 100)} % busy just before the run; load average (1 / 5 / 15 min) before ${fmtLoad(loadBefore)}, after ${fmtLoad(loadAfter)}: ` +
    (busyBefore > 0.1
      ? 'other work loaded the machine, so the wall-clock columns are not results; CPU µs/event (user + system over the throughput phase) is the steadier measure.'
      : 'the machine was otherwise idle when the run began; CPU µs/event is user + system time over the throughput phase.'),
  'Weft rows are end to end (HTTP publish → sidecar → broker → sidecar → HTTP app); ' +
    (IN_PROCESS
      ? 'the sidecar ran inside the bench process (`--in-process`), so "bench" CPU is client + app + sidecar.'
      : 'the sidecar ran as its own `weft sidecar` process; "bench" CPU is the client and the app (for raw rows, the client).'),
  'Where the sidecar spends its CPU per event, and what bounds the targets: [NOTES.md](NOTES.md).',
  '',
  '| target | p50 ms | p99 ms | events/s | bench CPU µs/event | sidecar CPU µs/event |',
  '|---|---:|---:|---:|---:|---:|',
  ...results.map(
    (r) =>
      `| ${r.target} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${Math.round(r.throughput)} | ${Math.round(r.cpuUsPerEvent)} | ${r.sidecarCpuUsPerEvent === undefined ? '' : Math.round(r.sidecarCpuUsPerEvent)} |`,
  ),
  '',
];
await fs.writeFile(path.join(here, 'RESULTS.md'), lines.join('\n'));
