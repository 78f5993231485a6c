// Service invocation benchmark, one command: `npm run build && node bench/invoke/run.mjs [--seconds 10]
// [--rate 1000] [--concurrency 64] [--first-seconds 5]`.
//
// Paths, side by side in one run, on loopback with the same undici keep-alive client:
//   direct           app → app
//   weft pair        app → weft sidecar → weft sidecar → app
//   two bare hops    app → proxy → proxy → app (node:http + undici, the physical baseline, proxy.mjs)
// Phases per path: right after readiness, a fixed rate for --first-seconds on fresh processes (the
// first-seconds p99); then a closed-loop warm-up, 2,000 sequential requests, a fixed rate for --seconds
// (open loop: latency from each request's scheduled send time, so queueing is not hidden) and saturation.
// For each sidecar and proxy it records CPU time per request (/proc/<pid>/stat) and, for the sidecars,
// scavenges and mark-compacts per 10,000 requests (--trace-gc) in the fixed-rate phase; load average
// before and after. Writes results.json and the "Latest run" section of RESULTS.md beside this file.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';

const here = path.dirname(fileURLToPath(import.meta.url));
const WEFT = path.resolve(here, '../../packages/cli/bin/weft.js');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const SECONDS = arg('seconds', 10);
const CONCURRENCY = arg('concurrency', 64);
const RATE = arg('rate', 1000);
const FIRST_SECONDS = arg('first-seconds', 5);
const TICK_HZ = 100; // USER_HZ of /proc/<pid>/stat

const children = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Ports as test/support/weft-process.ts picks them: walk a range and take one that binds, never the
// kernel's ephemeral choice (which another process may be handed before our child listens).
let nextCandidate = 20000 + Math.floor(Math.random() * 10000);
const handedOut = new Set();
const canBind = (port) =>
  new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
async function freePort() {
  for (;;) {
    const port = nextCandidate++;
    if (nextCandidate >= 30000) nextCandidate = 20000;
    if (!handedOut.has(port) && (await canBind(port))) {
      handedOut.add(port);
      return port;
    }
  }
}

/** Spawns a Node process; with `gc`, counts its main isolate's scavenges and mark-compacts from --trace-gc. */
function start(args, env = {}, gc = false) {
  const child = spawn(process.execPath, gc ? ['--trace-gc', ...args] : args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', gc ? 'pipe' : 'ignore', 'ignore'],
  });
  children.push(child);
  child.gc = { scavenges: 0, markCompacts: 0 };
  if (gc) {
    let isolate;
    let rest = '';
    child.stdout.on('data', (d) => {
      const lines = (rest + d.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^\[\d+:(0x[0-9a-f]+)\]\s+\d+ ms: (Scavenge|Mark-Compact)/.exec(line);
        if (!m) continue;
        isolate ??= m[1]; // the main thread's isolate prints first; workers have their own
        if (m[1] !== isolate) continue;
        if (m[2] === 'Scavenge') child.gc.scavenges++;
        else child.gc.markCompacts++;
      }
    });
  }
  return child;
}

async function waitStatus(url, ok = (s) => s < 500) {
  for (let i = 0; i < 6000; i++) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (ok(res.status)) return;
    } catch {}
    await sleep(5);
  }
  throw new Error(`not ready: ${url}`);
}
const cpuTicks = (pid) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
};
const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
const load = () => os.loadavg().map((x) => Math.round(x * 100) / 100);

/** Open loop at RATE for `seconds`; latency from each request's scheduled time. */
async function fixedRate(pool, urlPath, seconds) {
  const lat = [];
  const perSecond = Array.from({ length: seconds }, () => []);
  let errors = 0;
  const total = RATE * seconds;
  const t0 = performance.now();
  const inflight = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    inflight.push(
      pool.request({ method: 'GET', path: urlPath }).then(
        async (r) => {
          await r.body.arrayBuffer();
          if (r.statusCode !== 200) errors++;
          const ms = performance.now() - due;
          lat.push(ms);
          perSecond[Math.floor((i / RATE) % seconds)].push(ms);
        },
        () => errors++,
      ),
    );
  }
  await Promise.all(inflight);
  lat.sort((a, b) => a - b);
  const p99PerSecond = perSecond.map((s) => pct(s.sort((a, b) => a - b), 0.99));
  return { requests: total, p50: pct(lat, 0.5), p90: pct(lat, 0.9), p99: pct(lat, 0.99), max: lat.at(-1) ?? NaN, errors, p99PerSecond };
}

async function sequential(pool, urlPath, count = 2000) {
  const lat = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    const r = await pool.request({ method: 'GET', path: urlPath });
    await r.body.arrayBuffer();
    lat.push(performance.now() - t);
  }
  lat.sort((a, b) => a - b);
  return { p50: pct(lat, 0.5), p90: pct(lat, 0.9), p99: pct(lat, 0.99) };
}

async function saturate(pool, urlPath, seconds) {
  let done = 0;
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        try {
          const r = await pool.request({ method: 'GET', path: urlPath });
          await r.body.arrayBuffer();
          if (r.statusCode === 200) done++;
          else errors++;
        } catch {
          errors++;
        }
      }
    }),
  );
  return { rps: done / seconds, errors };
}

/** CPU µs per request and GC per 10k requests of `procs` over `run`. */
async function accounted(procs, requests, run) {
  const cpu0 = procs.map((p) => cpuTicks(p.pid));
  const gc0 = procs.map((p) => ({ ...p.gc }));
  const result = await run();
  const n = requests(result);
  const cpuUsPerRequest = procs.map((p, i) => ((cpuTicks(p.pid) - cpu0[i]) / TICK_HZ) * 1e6 / n);
  const gcPer10k = procs.map((p, i) => ({
    scavenges: ((p.gc.scavenges - gc0[i].scavenges) * 10000) / n,
    markCompacts: ((p.gc.markCompacts - gc0[i].markCompacts) * 10000) / n,
  }));
  return { result, cpuUsPerRequest, gcPer10k };
}

async function measure(name, origin, urlPath, procs, first) {
  const pool = new Pool(origin, { connections: CONCURRENCY });
  const firstPhase = first ? await accounted(procs, (r) => r.requests, () => fixedRate(pool, urlPath, FIRST_SECONDS)) : undefined;
  await saturate(pool, urlPath, 2).catch(() => {}); // warm-up: connections, JIT
  const seq = await sequential(pool, urlPath);
  const fixed = await accounted(procs, (r) => r.requests, () => fixedRate(pool, urlPath, SECONDS));
  const sat = await saturate(pool, urlPath, SECONDS);
  const rss = procs.map((p) => rssMb(p.pid));
  await pool.close();
  return {
    name,
    first: firstPhase?.result,
    firstCpuUsPerRequest: firstPhase?.cpuUsPerRequest,
    seq,
    fixed: fixed.result,
    cpuUsPerRequest: fixed.cpuUsPerRequest,
    gcPer10k: fixed.gcPer10k,
    sat,
    rss,
  };
}

const loadBefore = load();
const startedAt = new Date();
const [appPort, calleeHttp, callerHttp, proxy1, proxy2] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
const registry = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-bench-'));
start([path.join(here, 'app.mjs')], { APP_PORT: String(appPort) });
await waitStatus(`http://127.0.0.1:${appPort}/`);
const weftEnv = { WEFT_REGISTRY_DIR: registry };
const common = ['--log-level', 'warn', '--fresh', '--metrics-port', '0'];
const callee = start([WEFT, 'sidecar', '--app-id', 'bench-callee', '--app-port', String(appPort), '--dapr-http-port', String(calleeHttp), '--dapr-grpc-port', '0', ...common], weftEnv, true);
const caller = start([WEFT, 'sidecar', '--app-id', 'bench-caller', '--dapr-http-port', String(callerHttp), '--dapr-grpc-port', '0', ...common], weftEnv, true);
const p2 = start([path.join(here, 'proxy.mjs')], { PORT: String(proxy2), TARGET_PORT: String(appPort) }, true);
const p1 = start([path.join(here, 'proxy.mjs')], { PORT: String(proxy1), TARGET_PORT: String(proxy2) }, true);
// Ready as an app would wait for it: the caller's healthz/outbound, the callee's healthz (its app is up).
await waitStatus(`http://127.0.0.1:${calleeHttp}/v1.0/healthz`, (s) => s === 204);
await waitStatus(`http://127.0.0.1:${callerHttp}/v1.0/healthz/outbound`, (s) => s === 204);
await waitStatus(`http://127.0.0.1:${proxy1}/x`);

const weft = await measure('app → weft → weft → app', `http://127.0.0.1:${callerHttp}`, '/v1.0/invoke/bench-callee/method/x', [caller, callee], true);
const proxies = await measure('app → proxy → proxy → app (bare Node)', `http://127.0.0.1:${proxy1}`, '/x', [p1, p2], true);
const direct = await measure('direct app → app', `http://127.0.0.1:${appPort}`, '/x', [], false);
const loadAfter = load();

const added = (a, b) => ({ p50: a.p50 - b.p50, p90: a.p90 - b.p90, p99: a.p99 - b.p99 });
const results = {
  startedAt: startedAt.toISOString(),
  node: process.version,
  cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`,
  settings: { seconds: SECONDS, rate: RATE, concurrency: CONCURRENCY, firstSeconds: FIRST_SECONDS },
  loadAverage: { before: loadBefore, after: loadAfter },
  paths: { direct, weft, proxies },
  added: { weft: added(weft.fixed, direct.fixed), proxies: added(proxies.fixed, direct.fixed) },
  targets: {
    addedP90: { target: 0.6, measured: weft.fixed.p90 - direct.fixed.p90 },
    addedP99: { target: 1.5, measured: weft.fixed.p99 - direct.fixed.p99 },
    belowTwoBareHops: { measured: weft.fixed.p99 - direct.fixed.p99 < proxies.fixed.p99 - direct.fixed.p99 },
    firstSecondsP99: { target: 5, measured: weft.first.p99 },
  },
};
fs.writeFileSync(path.join(here, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);

const f = (n) => (Number.isFinite(n) ? n.toFixed(2) : '–');
const signed = (n) => (Number.isFinite(n) ? `${n < 0 ? '−' : '+'}${Math.abs(n).toFixed(2)}` : '–');
const f0 = (n) => (Number.isFinite(n) ? n.toFixed(0) : '–');
const met = (ok) => (ok ? 'met' : '**not met**');
const t = results.targets;
const md = [
  `Run ${results.startedAt}, Node ${results.node}, ${results.cpus}; ${SECONDS} s per phase, ${RATE} requests/s fixed, ${CONCURRENCY} concurrent at saturation, small JSON GET. ` +
    `1-minute load average ${loadBefore[0]} before, ${loadAfter[0]} after (5-minute ${loadBefore[1]} / ${loadAfter[1]}). Raw figures: [results.json](./results.json).`,
  '',
  '| target | measured | |',
  '|---|---|---|',
  `| added p90 ≤ +0.6 ms at ${RATE} rps | ${f(t.addedP90.measured)} ms | ${met(t.addedP90.measured <= 0.6)} |`,
  `| added p99 ≤ +1.5 ms at ${RATE} rps | ${f(t.addedP99.measured)} ms | ${met(t.addedP99.measured <= 1.5)} |`,
  `| added p99 below two bare Node hops | ${f(t.addedP99.measured)} vs ${f(results.added.proxies.p99)} ms | ${met(t.belowTwoBareHops.measured)} |`,
  `| p99 in the first ${FIRST_SECONDS} s after readiness ≤ 5 ms | ${f(t.firstSecondsP99.measured)} ms | ${met(t.firstSecondsP99.measured <= 5)} |`,
  '',
  `| path | p50 ms | p90 ms | p99 ms | errors @fixed | saturation rps | CPU µs/request (each process) | GC per 10k requests (scavenges / mark-compacts) |`,
  '|---|---|---|---|---|---|---|---|',
  ...[direct, weft, proxies].map(
    (r) =>
      `| ${r.name} | ${f(r.fixed.p50)} | ${f(r.fixed.p90)} | ${f(r.fixed.p99)} | ${r.fixed.errors} | ${Math.round(r.sat.rps)} | ${r.cpuUsPerRequest.map(f0).join(' + ') || '–'} | ${r.gcPer10k.length ? r.gcPer10k.map((g) => `${f(g.scavenges)} / ${f(g.markCompacts)}`).join(', ') : '–'} |`,
  ),
  '',
  `First ${FIRST_SECONDS} s after readiness (fresh processes, ${RATE} requests/s):`,
  '',
  '| path | p50 ms | p90 ms | p99 ms | max ms | p99 per second | CPU µs/request |',
  '|---|---|---|---|---|---|---|',
  ...[weft, proxies].map((r) => `| ${r.name} | ${f(r.first.p50)} | ${f(r.first.p90)} | ${f(r.first.p99)} | ${f(r.first.max)} | ${r.first.p99PerSecond.map(f).join(', ')} | ${r.firstCpuUsPerRequest.map(f0).join(' + ')} |`),
  '',
  'One request in flight (2,000 sequential):',
  '',
  '| path | p50 ms | p90 ms | p99 ms |',
  '|---|---|---|---|',
  ...[direct, weft, proxies].map((r) => `| ${r.name} | ${f(r.seq.p50)} | ${f(r.seq.p90)} | ${f(r.seq.p99)} |`),
  '',
  `Added at ${RATE} rps over direct: weft pair p50 ${signed(results.added.weft.p50)}, p90 ${signed(results.added.weft.p90)}, p99 ${signed(results.added.weft.p99)} ms; two bare hops p50 ${signed(results.added.proxies.p50)}, p90 ${signed(results.added.proxies.p90)}, p99 ${signed(results.added.proxies.p99)} ms. ` +
    `Saturation, weft pair ÷ two bare hops: ${f((weft.sat.rps / proxies.sat.rps) * 100)} %. RSS after saturation: caller ${f(weft.rss[0])}, callee ${f(weft.rss[1])} MB; proxy hops ${f(proxies.rss[0])}, ${f(proxies.rss[1])} MB.`,
  loadBefore[0] > 1.5 || loadAfter[0] > 3
    ? '\n**Other work loaded the machine during this run: the latencies above are not representative; CPU per request and GC counts are the figures to compare.**'
    : '',
].join('\n');
console.log(md);
const resultsFile = path.join(here, 'RESULTS.md');
const previous = fs.existsSync(resultsFile) ? fs.readFileSync(resultsFile, 'utf8') : '# Service invocation benchmark — results\n';
const START = '<!-- latest run: written by run.mjs -->';
const END = '<!-- end of latest run -->';
const section = `${START}\n## Latest run\n\n${md}\n${END}`;
const next = previous.includes(START)
  ? previous.replace(new RegExp(`${START}[\\s\\S]*?${END}`), section)
  : previous.replace(/\n## /, `\n${section}\n\n## `);
fs.writeFileSync(resultsFile, next);
fs.rmSync(registry, { recursive: true, force: true });
process.exit(0);
