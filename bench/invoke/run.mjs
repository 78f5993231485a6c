// Service invocation benchmark: app → app direct, app → weft → weft → app, and app → proxy → proxy →
// app (two bare Node reverse-proxy hops), on loopback with the same client: a fixed 1,000 requests/s
// (open loop, latency from the scheduled send time) and saturation (closed loop). Prints a Markdown
// report with p50/p90/p99, added latency over direct, throughput ratios, and sidecar CPU and RSS.
//   node bench/invoke/run.mjs [--seconds 10] [--concurrency 64]
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

const children = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));
const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function start(args, env = {}) {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: 'ignore' });
  children.push(child);
  return child;
}
async function waitOk(url) {
  for (let i = 0; i < 300; i++) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {}
    await sleep(100);
  }
  throw new Error(`not ready: ${url}`);
}
const cpuTicks = (pid) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
};
const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function fixedRate(pool, path) {
  const lat = [];
  let errors = 0;
  const total = RATE * SECONDS;
  const t0 = performance.now();
  const inflight = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    inflight.push(
      pool.request({ method: 'GET', path }).then(
        async (r) => {
          await r.body.arrayBuffer();
          if (r.statusCode !== 200) errors++;
          lat.push(performance.now() - due);
        },
        () => errors++,
      ),
    );
  }
  await Promise.all(inflight);
  lat.sort((a, b) => a - b);
  return { p50: pct(lat, 0.5), p90: pct(lat, 0.9), p99: pct(lat, 0.99), errors };
}

async function sequential(pool, path, count = 2000) {
  const lat = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    const r = await pool.request({ method: 'GET', path });
    await r.body.arrayBuffer();
    lat.push(performance.now() - t);
  }
  lat.sort((a, b) => a - b);
  return { p50: pct(lat, 0.5), p90: pct(lat, 0.9), p99: pct(lat, 0.99) };
}

async function saturate(pool, path) {
  let done = 0;
  let errors = 0;
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        try {
          const r = await pool.request({ method: 'GET', path });
          await r.body.arrayBuffer();
          if (r.statusCode === 200) done++;
          else errors++;
        } catch {
          errors++;
        }
      }
    }),
  );
  return { rps: done / SECONDS, errors };
}

async function measure(name, origin, path, pids = []) {
  const pool = new Pool(origin, { connections: CONCURRENCY });
  // Warm-up: connections, JIT.
  await saturate(pool, path).catch(() => {});
  const seq = await sequential(pool, path);
  const cpu0 = pids.map(cpuTicks);
  const fixed = await fixedRate(pool, path);
  const cpu1 = pids.map(cpuTicks);
  const tick = 100; // USER_HZ
  const cpuFixed = pids.map((p, i) => ((cpu1[i] - cpu0[i]) / tick / SECONDS) * 100);
  const sat = await saturate(pool, path);
  const rss = pids.map(rssMb);
  await pool.close();
  return { name, seq, fixed, sat, cpuFixed, rss };
}

const [appPort, calleeHttp, callerHttp, proxy1, proxy2] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
const registry = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-bench-'));
start([path.join(here, 'app.mjs')], { APP_PORT: String(appPort) });
const weftEnv = { WEFT_REGISTRY_DIR: registry };
const common = ['--log-level', 'warn', '--fresh', '--metrics-port', '0'];
const callee = start([WEFT, 'sidecar', '--app-id', 'bench-callee', '--app-port', String(appPort), '--dapr-http-port', String(calleeHttp), '--dapr-grpc-port', '0', ...common], weftEnv);
const caller = start([WEFT, 'sidecar', '--app-id', 'bench-caller', '--dapr-http-port', String(callerHttp), '--dapr-grpc-port', '0', ...common], weftEnv);
start([path.join(here, 'proxy.mjs')], { PORT: String(proxy2), TARGET_PORT: String(appPort) });
const p1 = start([path.join(here, 'proxy.mjs')], { PORT: String(proxy1), TARGET_PORT: String(proxy2) });
await waitOk(`http://127.0.0.1:${appPort}/`);
await waitOk(`http://127.0.0.1:${callerHttp}/v1.0/invoke/bench-callee/method/x`);
await waitOk(`http://127.0.0.1:${proxy1}/x`);

const direct = await measure('direct app → app', `http://127.0.0.1:${appPort}`, '/x');
const weft = await measure('app → weft → weft → app', `http://127.0.0.1:${callerHttp}`, '/v1.0/invoke/bench-callee/method/x', [caller.pid, callee.pid]);
const proxies = await measure('app → proxy → proxy → app (bare Node)', `http://127.0.0.1:${proxy1}`, '/x', [p1.pid]);

const f = (n) => n.toFixed(2);
const lines = [
  `Service invocation benchmark — ${new Date().toISOString()}`,
  `Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), loopback; ${SECONDS} s per phase; fixed rate ${RATE} rps; saturation with ${CONCURRENCY} concurrent requests; small JSON GET.`,
  '',
  '| path | p50 ms | p90 ms | p99 ms | errors @fixed rate | saturation rps |',
  '|---|---|---|---|---|---|',
  ...[direct, weft, proxies].map((r) => `| ${r.name} | ${f(r.fixed.p50)} | ${f(r.fixed.p90)} | ${f(r.fixed.p99)} | ${r.fixed.errors} | ${Math.round(r.sat.rps)} |`),
  '',
  'One request in flight (2,000 sequential requests):',
  '',
  '| path | p50 ms | p90 ms | p99 ms |',
  '|---|---|---|---|',
  ...[direct, weft, proxies].map((r) => `| ${r.name} | ${f(r.seq.p50)} | ${f(r.seq.p90)} | ${f(r.seq.p99)} |`),
  '',
  `Added latency, one in flight, weft pair vs direct: p50 +${f(weft.seq.p50 - direct.seq.p50)} ms, p90 +${f(weft.seq.p90 - direct.seq.p90)} ms, p99 +${f(weft.seq.p99 - direct.seq.p99)} ms; two bare hops: p50 +${f(proxies.seq.p50 - direct.seq.p50)}, p90 +${f(proxies.seq.p90 - direct.seq.p90)}, p99 +${f(proxies.seq.p99 - direct.seq.p99)} ms.`,
  `Added latency at ${RATE} rps, weft pair vs direct: p50 +${f(weft.fixed.p50 - direct.fixed.p50)} ms, p90 +${f(weft.fixed.p90 - direct.fixed.p90)} ms, p99 +${f(weft.fixed.p99 - direct.fixed.p99)} ms (targets at 1,000 rps: p90 ≤ 0.7, p99 ≤ 1.5).`,
  `Added latency at ${RATE} rps, two bare hops vs direct: p90 +${f(proxies.fixed.p90 - direct.fixed.p90)} ms, p99 +${f(proxies.fixed.p99 - direct.fixed.p99)} ms.`,
  `Saturation throughput, weft pair / two bare hops: ${f((weft.sat.rps / proxies.sat.rps) * 100)} % (target ≥ 70 %).`,
  `Sidecar CPU at ${RATE} rps: caller ${f(weft.cpuFixed[0])} %, callee ${f(weft.cpuFixed[1])} % of one core; RSS after saturation: caller ${f(weft.rss[0])} MB, callee ${f(weft.rss[1])} MB (bare proxy hop: ${f(proxies.cpuFixed[0])} % CPU, ${f(proxies.rss[0])} MB).`,
];
console.log(lines.join('\n'));
fs.rmSync(registry, { recursive: true, force: true });
process.exit(0);
