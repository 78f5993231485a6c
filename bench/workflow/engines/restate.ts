/**
 * Restate 1.7.12 (peers.md): the server binary from its npm package (never vendored), run with a
 * fresh data directory under /tmp and durable log defaults; the TypeScript SDK 1.14.5 endpoint served
 * over HTTP/2 in this process and registered with the admin API; workflows started with submit +
 * attach through the ingress client. Imported by name at run time so the repository type-checks
 * without the peers installed.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import http2 from 'node:http2';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { BenchEngine, Workload } from '../measure.js';

interface RunContext {
  run<T>(name: string, action: () => Promise<T>): Promise<T>;
}
interface RestateSdk {
  workflow(def: { name: string; handlers: { run: (ctx: RunContext, n: number) => Promise<number> } }): unknown;
  createEndpointHandler(options: { services: unknown[] }): (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;
  RestatePromise: { all<T>(values: Promise<T>[]): Promise<T[]> };
}
interface WorkflowClient {
  workflowSubmit(n: number): Promise<unknown>;
  workflowAttach(): Promise<number>;
}
interface RestateClients {
  connect(options: { url: string }): { workflowClient(def: { name: string }, key: string): WorkflowClient };
}

const require = createRequire(import.meta.url);

async function waitFor(url: string, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts the Restate server and the SDK endpoint, and registers the endpoint. */
export async function openRestate(): Promise<BenchEngine> {
  const sdkName = '@restatedev/restate-sdk';
  const clientsName = '@restatedev/restate-sdk-clients';
  const restate = (await import(sdkName)) as RestateSdk;
  const clients = (await import(clientsName)) as RestateClients;
  const binary = path.join(path.dirname(require.resolve('@restatedev/restate-server-linux-x64/package.json')), 'bin', 'restate-server');
  const baseDir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-bench-restate-'));
  const config = path.join(baseDir, 'restate.toml');
  await fs.writeFile(
    config,
    ['bind-ip = "127.0.0.1"', 'advertised-host = "127.0.0.1"', 'disable-telemetry = true', `base-dir = "${path.join(baseDir, 'data')}"`, ''].join('\n'),
  );
  const server = spawn(binary, ['--config-file', config], {
    cwd: baseDir,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, RUST_LOG: 'warn' },
  });
  let serverLog = '';
  server.stderr?.on('data', (d: Buffer) => (serverLog = (serverLog + d.toString()).slice(-4000)));
  try {
    await waitFor('http://127.0.0.1:9070/health', 30_000);
  } catch (err) {
    server.kill('SIGKILL');
    throw new Error(`${String(err)}\n${serverLog}`);
  }

  const seq3 = restate.workflow({
    name: 'seq3',
    handlers: {
      run: async (ctx, n) => {
        let x = n;
        for (let i = 0; i < 3; i++) {
          const v = x;
          x = await ctx.run(`inc${i}`, async () => v + 1);
        }
        return x;
      },
    },
  });
  const fan10 = restate.workflow({
    name: 'fan10',
    handlers: {
      run: async (ctx, n) => {
        const parts = await restate.RestatePromise.all(Array.from({ length: 10 }, (_, i) => ctx.run(`part${i}`, async () => n + i)));
        return parts.reduce((a, b) => a + b, 0);
      },
    },
  });
  const endpoint = http2.createServer(restate.createEndpointHandler({ services: [seq3, fan10] }));
  await new Promise<void>((resolve) => endpoint.listen(9080, '127.0.0.1', resolve));
  const reg = await fetch('http://127.0.0.1:9070/deployments', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ uri: 'http://127.0.0.1:9080' }),
  });
  if (!reg.ok) throw new Error(`registering the endpoint failed: ${reg.status} ${await reg.text()}`);
  await waitFor('http://127.0.0.1:8080/restate/health', 30_000);
  const ingress = clients.connect({ url: 'http://127.0.0.1:8080' });
  return {
    async run(workload: Workload, id: string, n: number): Promise<number> {
      const client = ingress.workflowClient({ name: workload }, id);
      await client.workflowSubmit(n);
      return client.workflowAttach();
    },
    async processes() {
      // The endpoint (and the load driver's ingress client) run in this process.
      return { server: [server.pid!], endpoint: [process.pid] };
    },
    async close() {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
      await new Promise<void>((resolve) => endpoint.close(() => resolve()));
      await fs.rm(baseDir, { recursive: true, force: true });
    },
  };
}
