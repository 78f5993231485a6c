/**
 * Weft: the real `weft sidecar` process (embedded SQLite, or Postgres through a `state.postgresql`
 * component marked `actorStateStore`), and an app written with `@dapr/dapr` (`WorkflowRuntime` +
 * `DaprWorkflowClient`) in this process, as a Dapr user would write it.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DaprWorkflowClient, WorkflowRuntime, WorkflowRuntimeStatus } from '@dapr/dapr';
import type { TWorkflow, WorkflowActivityContext, WorkflowContext } from '@dapr/dapr';
import type { BenchEngine, Workload } from '../measure.js';

const WEFT_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../packages/cli/bin/weft.js');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const inc = async (_: WorkflowActivityContext, x: number): Promise<number> => x + 1;
const part = async (_: WorkflowActivityContext, x: number): Promise<number> => x;

const seq3: TWorkflow = async function* (ctx: WorkflowContext, n: number): AsyncGenerator<unknown, number, unknown> {
  let x = n;
  for (let i = 0; i < 3; i++) x = (yield ctx.callActivity(inc, x)) as number;
  return x;
};

const fan10: TWorkflow = async function* (ctx: WorkflowContext, n: number): AsyncGenerator<unknown, number, unknown> {
  const parts = (yield ctx.whenAll(Array.from({ length: 10 }, (_, i) => ctx.callActivity(part, n + i)))) as number[];
  return parts.reduce((a, b) => a + b, 0);
};

/**
 * `@dapr/dapr`'s workflow worker logs every work item at INFO and has no setting for it; the peers
 * run at WARN (peers.md), so the app's INFO/DEBUG console output is dropped here alike.
 */
function quietDaprLogs(): void {
  const drop = (): void => undefined;
  console.info = drop;
  console.debug = drop;
  console.log = drop;
}

/** Starts a sidecar on `postgresUrl` (or SQLite when absent) and connects the app. */
export async function openWeft(postgresUrl?: string): Promise<BenchEngine> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-bench-wf-'));
  const appId = `bench-${Math.random().toString(36).slice(2, 8)}`;
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const args = [WEFT_BIN, 'sidecar', '--app-id', appId, '--data-dir', dataDir, '--dapr-http-port', String(httpPort), '--dapr-grpc-port', String(grpcPort), '--log-level', 'warn'];
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
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
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
  return {
    async run(workload: Workload, id: string, n: number): Promise<number> {
      await client.scheduleNewWorkflow(workload, n, id);
      const state = await client.waitForWorkflowCompletion(id, true, 60);
      if (state?.runtimeStatus !== WorkflowRuntimeStatus.COMPLETED) throw new Error(`${id} ended ${String(state?.runtimeStatus)}`);
      return JSON.parse(state.serializedOutput ?? 'null') as number;
    },
    async close() {
      await runtime.stop().catch(() => undefined);
      await client.stop().catch(() => undefined);
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
