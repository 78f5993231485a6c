/**
 * Weft: the real `weft sidecar` process (embedded SQLite, or Postgres through a `state.postgresql`
 * component marked `actorStateStore`), and an app written with `@dapr/dapr` (`WorkflowRuntime` +
 * `DaprWorkflowClient`) in this process, as a Dapr user would write it.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DaprWorkflowClient, WorkflowRuntime, WorkflowRuntimeStatus } from '@dapr/dapr';
import type { TWorkflow, WorkflowActivityContext, WorkflowContext } from '@dapr/dapr';
import pg from 'pg';
import { postgresBackends } from '../cpu.js';
import type { BenchEngine, Workload } from '../measure.js';
import { seedPostgres, seedSqlite } from '../seed.js';
import { WEFT_BIN, freePort } from '../../../test/support/weft-process.js';

export const inc = async (_: WorkflowActivityContext, x: number): Promise<number> => x + 1;
export const part = async (_: WorkflowActivityContext, x: number): Promise<number> => x;

export const seq3: TWorkflow = async function* (ctx: WorkflowContext, n: number): AsyncGenerator<unknown, number, unknown> {
  let x = n;
  for (let i = 0; i < 3; i++) x = (yield ctx.callActivity(inc, x)) as number;
  return x;
};

export const fan10: TWorkflow = async function* (ctx: WorkflowContext, n: number): AsyncGenerator<unknown, number, unknown> {
  const parts = (yield ctx.whenAll(Array.from({ length: 10 }, (_, i) => ctx.callActivity(part, n + i)))) as number[];
  return parts.reduce((a, b) => a + b, 0);
};

/**
 * `@dapr/dapr`'s workflow worker logs every work item at INFO and has no setting for it; the peers
 * run at WARN (peers.md), so the app's INFO/DEBUG console output is dropped here alike.
 */
export function quietDaprLogs(): void {
  const drop = (): void => undefined;
  console.info = drop;
  console.debug = drop;
  console.log = drop;
}

/** Variants of the Weft set-up. */
export interface WeftOptions {
  /** Workflows on this Postgres (or the embedded SQLite when absent). */
  postgresUrl?: string | undefined;
  /** Finished instances put in the store before the sidecar starts. */
  seedFinished?: number;
  /** Worker processes: 1 (the app in this process) or 2 (plus a worker-only app process). */
  workers?: 1 | 2;
}

/** Starts a sidecar on `postgresUrl` (or SQLite when absent) and connects the app. */
export async function openWeft(o: WeftOptions = {}): Promise<BenchEngine> {
  const postgresUrl = o.postgresUrl;
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-bench-wf-'));
  const appId = `bench-${Math.random().toString(36).slice(2, 8)}`;
  if (o.seedFinished) {
    const t0 = performance.now();
    if (postgresUrl) await seedPostgres(postgresUrl, appId, o.seedFinished);
    else await seedSqlite(path.join(dataDir, 'workflows.sqlite'), appId, o.seedFinished);
    process.stderr.write(`seeded ${o.seedFinished} finished instances in ${Math.round(performance.now() - t0)} ms\n`);
  }
  const [httpPort, grpcPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  // Its own metrics port: a pair of sidecars (an engine and its `-100k` twin) runs at once.
  const args = [WEFT_BIN, 'sidecar', '--app-id', appId, '--data-dir', dataDir, '--dapr-http-port', String(httpPort), '--dapr-grpc-port', String(grpcPort), '--metrics-port', String(metricsPort), '--log-level', 'warn'];
  if (postgresUrl) {
    const resources = path.join(dataDir, 'resources');
    await fs.mkdir(resources);
    await fs.writeFile(
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
`,
    );
    args.push('--resources-path', resources);
  }
  // WEFT_BENCH_SIDECAR_NODE_ARGS: node flags for the sidecar, e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`
  // (NODE_OPTIONS may not carry --cpu-prof).
  const nodeArgs = (process.env['WEFT_BENCH_SIDECAR_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`weft sidecar exited with ${child.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${httpPort}/v1.0/healthz/outbound`).then(
      (r) => r.status === 204,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error('weft sidecar did not become ready');
    await new Promise((r) => setTimeout(r, 50));
  }
  quietDaprLogs();
  const options = { daprHost: '127.0.0.1', daprPort: String(grpcPort) };
  const runtime = new WorkflowRuntime(options)
    .registerWorkflowWithName('seq3', seq3)
    .registerWorkflowWithName('fan10', fan10)
    .registerActivityWithName('inc', inc)
    .registerActivityWithName('part', part);
  await runtime.start();
  const client = new DaprWorkflowClient(options);
  let worker: ReturnType<typeof spawn> | undefined;
  if (o.workers === 2) {
    worker = spawn(process.execPath, ['--import', 'tsx', path.join(path.dirname(fileURLToPath(import.meta.url)), 'weft-worker.ts'), String(grpcPort)], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    // Wait until the sidecar counts two worker streams.
    for (const until = Date.now() + 20_000; ; ) {
      const meta = (await fetch(`http://127.0.0.1:${httpPort}/v1.0/metadata`).then((r) => r.json())) as { workflows?: { connectedWorkers?: number } };
      if ((meta.workflows?.connectedWorkers ?? 0) >= 2) break;
      if (Date.now() > until) throw new Error('the second worker process did not connect');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    async processes() {
      const roles: Record<string, number[]> = { sidecar: [child.pid!], app: [process.pid, ...(worker?.pid ? [worker.pid] : [])] };
      if (postgresUrl) roles['postgres'] = await postgresBackends(postgresUrl, [child.pid!]);
      return roles;
    },
    async run(workload: Workload, id: string, n: number): Promise<number> {
      await client.scheduleNewWorkflow(workload, n, id);
      const state = await client.waitForWorkflowCompletion(id, true, 60);
      if (state?.runtimeStatus !== WorkflowRuntimeStatus.COMPLETED) throw new Error(`${id} ended ${String(state?.runtimeStatus)}`);
      return JSON.parse(state.serializedOutput ?? 'null') as number;
    },
    async close() {
      await runtime.stop().catch(() => undefined);
      await client.stop().catch(() => undefined);
      if (worker) {
        worker.kill('SIGTERM');
        await new Promise((r) => worker?.once('exit', r));
      }
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await fs.rm(dataDir, { recursive: true, force: true });
      if (postgresUrl) {
        // The shared test database: leave nothing of this run behind.
        const c = new pg.Client({ connectionString: postgresUrl });
        await c.connect();
        for (const t of ['weft_wf_instances', 'weft_wf_history', 'weft_wf_inbox', 'weft_wf_activities']) await c.query(`DELETE FROM ${t} WHERE app_id = $1`, [appId]);
        await c.end();
      }
    },
  };
}
