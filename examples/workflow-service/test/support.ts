/**
 * Starts the workflow service the way a user does, as real processes: a `weft sidecar` for the
 * service (on ports this module chooses, so it can be restarted on the same ones), the service
 * itself (`node --import tsx src/main.ts`), and the task-target app beside its own sidecar
 * (`weft run`). Every process gets the test's own registry dir and data dirs, and is killed with
 * its process group by `stop()`.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WEFT_BIN, freePort } from '../../../test/support/weft-process.js';
import { WorkflowServiceClient } from '../src/grpc/client.js';
import type { ExecutionUpdate } from '../src/grpc/proto.js';

/** The example's folder. */
export const EXAMPLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Absolute path of tsx's loader, so that apps can run from any working directory. */
export const TSX_LOADER = fileURLToPath(import.meta.resolve('tsx'));

/** A child process in its own process group. */
export interface Proc {
  child: ChildProcess;
  output(): string;
  /** Signals the whole group and waits for the leader to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Spawns `command` detached (its own process group) and collects its output. */
export function spawnProc(command: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd: string }): Proc {
  const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => output,
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null && child.pid) {
        try {
          process.kill(-child.pid, signal);
        } catch {
          // already gone
        }
        const timer = setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            // already gone
          }
        }, 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000, diagnostics: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${diagnostics()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Where definitions and the cache live for one stack. */
export type Backend =
  | { kind: 'embedded' }
  | {
      kind: 'postgres';
      databaseUrl: string;
      schema: string;
      redisUrl: string;
      redisPrefix: string;
      /** Also keep the sidecar's workflow state in this Postgres, through `components/production`. */
      workflowStateUrl?: string;
    };

/** A running stack. */
export interface Stack {
  apiUrl: string;
  grpcAddress: string;
  /** The service's env (ports and backends), e.g. for the client script. */
  env: NodeJS.ProcessEnv;
  dir: string;
  sidecarDataDir: string;
  registryDir: string;
  sidecar: Proc;
  service: Proc;
  client: WorkflowServiceClient;
  /** `fetch` on the REST API with a JSON body; answers status, headers and parsed body. */
  api(method: string, urlPath: string, body?: unknown): Promise<{ status: number; headers: Headers; body: unknown }>;
  /** Kills the service's sidecar (SIGKILL: no clean shutdown). */
  killSidecar(): Promise<void>;
  /** Starts the service's sidecar again, on the same ports and data dir. */
  startSidecar(): Promise<void>;
  logs(): string;
  stop(): Promise<void>;
}

/** Starts sidecar, service and task-target; resolves when the REST API answers. */
export async function startStack(backend: Backend, extraEnv: NodeJS.ProcessEnv = {}, appId = 'workflow-service'): Promise<Stack> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wfsvc-'));
  const registryDir = path.join(dir, 'registry');
  const sidecarDataDir = path.join(dir, 'weft');
  const [daprHttpPort, daprGrpcPort, httpPort, grpcPort, targetPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const weftEnv = { WEFT_REGISTRY_DIR: registryDir };
  const procs: Proc[] = [];
  const logs = () => procs.map((p) => p.output()).join('\n----\n').slice(-20_000);

  const target = spawnProc(
    process.execPath,
    [WEFT_BIN, 'run', '--app-id', 'task-target', '--app-port', String(targetPort), '--metrics-port', '0', '--data-dir', path.join(dir, 'target-weft'), '--log-level', 'warn', '--', process.execPath, '--import', TSX_LOADER, path.join(EXAMPLE_DIR, 'src/target-app.ts')],
    { env: weftEnv, cwd: dir },
  );
  procs.push(target);

  const workflowStateUrl = backend.kind === 'postgres' ? backend.workflowStateUrl : undefined;
  let sidecar!: Proc;
  const startSidecar = async () => {
    sidecar = spawnProc(
      process.execPath,
      [
        WEFT_BIN, 'sidecar', '--app-id', appId, '--dapr-http-port', String(daprHttpPort), '--dapr-grpc-port', String(daprGrpcPort), '--metrics-port', '0', '--data-dir', sidecarDataDir, '--log-level', 'warn',
        ...(workflowStateUrl ? ['--resources-path', path.join(EXAMPLE_DIR, 'components/production')] : []),
      ],
      { env: { ...weftEnv, ...(workflowStateUrl ? { WORKFLOW_STATE_DATABASE_URL: workflowStateUrl } : {}) }, cwd: dir },
    );
    procs.push(sidecar);
    await waitFor('the service sidecar', async () => ((await fetch(`http://127.0.0.1:${daprHttpPort}/v1.0/healthz/outbound`)).status === 204 ? true : undefined), 60_000, logs);
  };

  const env: NodeJS.ProcessEnv = {
    ...weftEnv,
    DAPR_HTTP_PORT: String(daprHttpPort),
    DAPR_GRPC_PORT: String(daprGrpcPort),
    HTTP_PORT: String(httpPort),
    GRPC_PORT: String(grpcPort),
    LOG_LEVEL: 'warn',
    ...(backend.kind === 'embedded'
      ? { PGLITE_DATA_DIR: path.join(dir, 'pglite'), DATABASE_URL: '', REDIS_URL: '' }
      : { DATABASE_URL: backend.databaseUrl, DATABASE_SCHEMA: backend.schema, REDIS_URL: backend.redisUrl, REDIS_KEY_PREFIX: backend.redisPrefix }),
    ...extraEnv,
  };
  const apiUrl = `http://127.0.0.1:${httpPort}`;
  let service: Proc | undefined;
  try {
    await startSidecar();
    service = spawnProc(process.execPath, ['--import', TSX_LOADER, path.join(EXAMPLE_DIR, 'src/main.ts')], { env, cwd: dir });
    procs.push(service);
    await waitFor('the workflow service', async () => ((await fetch(`${apiUrl}/healthz`)).ok ? true : undefined), 90_000, logs);
    await waitFor('task-target', async () => ((await fetch(`http://127.0.0.1:${targetPort}/status/200`)).ok ? true : undefined), 60_000, logs);
  } catch (err) {
    for (const p of procs) await p.kill('SIGKILL');
    throw err;
  }
  const client = new WorkflowServiceClient(`127.0.0.1:${grpcPort}`);

  return {
    apiUrl,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    env,
    dir,
    sidecarDataDir,
    registryDir,
    get sidecar() {
      return sidecar;
    },
    service: service,
    client,
    api: async (method, urlPath, body) => {
      const res = await fetch(`${apiUrl}${urlPath}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text === '' ? null : (JSON.parse(text) as unknown) };
    },
    killSidecar: () => sidecar.kill('SIGKILL'),
    startSidecar,
    logs,
    stop: async () => {
      client.close();
      for (const p of [...procs].reverse()) await p.kill();
      await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

/** Collects every update of a stream. */
export async function collect(stream: AsyncIterable<ExecutionUpdate>, onUpdate: (u: ExecutionUpdate) => void = () => {}): Promise<ExecutionUpdate[]> {
  const updates: ExecutionUpdate[] = [];
  for await (const update of stream) {
    updates.push(update);
    onUpdate(update);
  }
  return updates;
}

/** A workflow name unique to this test run. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
