/**
 * Runs the example's apps as real `weft run` processes (sidecar + app), each on free ports, with a
 * per-test registry, data directory, topic prefix and resources folder.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WEFT_BIN, freePort } from '../../../../test/support/weft-process.js';

/** The example's folder (the apps' working directory). */
export const EXAMPLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The six apps and their entry points. */
export const APPS = {
  'order-service': { entry: 'src/order/api.ts', grpc: false },
  'order-worker': { entry: 'src/order/worker.ts', grpc: true },
  'fulfillment-service': { entry: 'src/fulfillment/api.ts', grpc: false },
  'fulfillment-worker': { entry: 'src/fulfillment/worker.ts', grpc: true },
  'warehouse-service': { entry: 'src/warehouse/api.ts', grpc: false },
  'warehouse-worker': { entry: 'src/warehouse/worker.ts', grpc: true },
} as const;
export type AppId = keyof typeof APPS;

/** A running app with its sidecar. */
export interface RunningApp {
  appId: AppId;
  appPort: number;
  httpPort: number;
  child: ChildProcess;
  output(): string;
  /** Lines of the app's JSON log whose `msg` is `msg`. */
  logs(msg: string): Record<string, unknown>[];
  /** Kills the whole process group (sidecar and app) with `signal` and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Polls `check` until it returns a truthy value; throws with `what` after the deadline. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** A set of apps sharing one registry, data directory, topic prefix and resources. */
export class Stack {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'commerce-events-'));
  readonly resourcesDir = path.join(this.dir, 'resources');
  readonly topicPrefix = `t${randomUUID().slice(0, 8)}.`;
  private readonly apps: RunningApp[] = [];

  constructor(
    resources: Record<string, string>,
    private readonly env: Record<string, string> = {},
  ) {
    fs.mkdirSync(this.resourcesDir);
    for (const [name, text] of Object.entries(resources)) fs.writeFileSync(path.join(this.resourcesDir, name), text);
  }

  /** The deployed name of a topic. */
  topic(name: string): string {
    return `${this.topicPrefix}${name}`;
  }

  /**
   * Starts `appId` and waits until its sidecar and the app are ready. Ports are picked free but can be
   * taken by another process before the app binds them; such a start is tried again on new ports.
   */
  async start(appId: AppId, options: { args?: string[]; env?: Record<string, string>; dataDir?: string } = {}): Promise<RunningApp> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startOnce(appId, options);
      } catch (err) {
        if (attempt >= 3 || !String((err as Error).message).includes('EADDRINUSE')) throw err;
      }
    }
  }

  private async startOnce(appId: AppId, options: { args?: string[]; env?: Record<string, string>; dataDir?: string }): Promise<RunningApp> {
    const spec = APPS[appId];
    const [appPort, httpPort, grpcPort] = [await freePort(), await freePort(), await freePort()];
    const child = spawn(
      process.execPath,
      [
        WEFT_BIN, 'run', '--app-id', appId, '--app-port', String(appPort), ...(spec.grpc ? ['--app-protocol', 'grpc'] : []),
        '--resources-path', this.resourcesDir, '--dapr-http-port', String(httpPort), '--dapr-grpc-port', String(grpcPort),
        '--data-dir', path.join(this.dir, 'weft', appId), '--',
        process.execPath, '--import', 'tsx', spec.entry, ...(options.args ?? []),
      ],
      {
        cwd: EXAMPLE_DIR,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          WEFT_REGISTRY_DIR: path.join(this.dir, 'registry'),
          DATA_DIR: options.dataDir ?? path.join(this.dir, 'data'),
          TOPIC_PREFIX: this.topicPrefix,
          OUTBOX_INTERVAL_MS: '500',
          WORKER_FAULT_INJECTION: '1',
          ...this.env,
          ...options.env,
        },
      },
    );
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    // 'close' comes after the output is read to the end, unlike 'exit'.
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const logs = (msg: string) =>
      output
        .split('\n')
        .map((line) => line.slice(line.indexOf('{')))
        .filter((line) => line.startsWith('{') && line.includes(`"msg":"${msg}"`))
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as Record<string, unknown>];
          } catch {
            return [];
          }
        });
    const app: RunningApp = {
      appId, appPort, httpPort, child, output: () => output, logs,
      kill: async (signal = 'SIGTERM') => {
        // `weft run` starts the app in a process group of its own; a SIGKILL of `weft run` cannot pass
        // on, so the app's group is signalled too.
        const appPid = /started app: .* \(pid (\d+)\)/.exec(output)?.[1];
        for (const pid of [child.pid, appPid ? Number(appPid) : undefined]) {
          if (pid === undefined) continue;
          try {
            process.kill(-pid, signal);
          } catch {
            // already gone
          }
        }
        if (child.exitCode === null && child.signalCode === null) await exited;
      },
    };
    this.apps.push(app);
    await eventually(async () => {
      if (child.exitCode !== null) {
        await exited;
        throw new Error(`${appId} exited with ${child.exitCode}`);
      }
      const sidecar = await fetch(`http://127.0.0.1:${httpPort}/v1.0/healthz`).catch(() => undefined);
      if (sidecar?.status !== 204) return false;
      if (spec.grpc) return logs('worker running').length > 0;
      const health = await fetch(`http://127.0.0.1:${appPort}/health`).catch(() => undefined);
      return health?.status === 200;
    }, `${appId} to start`, 90_000).catch((err: Error) => {
      throw new Error(`${err.message}\n--- output of ${appId} ---\n${output}`);
    });
    return app;
  }

  /** Stops every app (SIGTERM, then SIGKILL for stragglers) and removes the temp folder. */
  async stop(): Promise<void> {
    await Promise.all(
      this.apps.map(async (app) => {
        const timer = setTimeout(() => void app.kill('SIGKILL'), 10_000);
        await app.kill('SIGTERM');
        clearTimeout(timer);
      }),
    );
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** JSON from `url` (GET) or with a body (POST/PUT); throws on a non-2xx answer with its body. */
export async function http<T = unknown>(url: string, method = 'GET', body?: unknown): Promise<T> {
  const res = await fetch(url, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} → ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Publishes through an app's sidecar (HTTP API). */
export async function publish(app: RunningApp, pubsub: string, topic: string, data: unknown): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${app.httpPort}/v1.0/publish/${pubsub}/${topic}`, {
    method: 'POST',
    body: JSON.stringify(data),
    headers: { 'content-type': 'application/json' },
  });
  if (res.status !== 204) throw new Error(`publish to ${topic} → ${res.status} ${await res.text()}`);
}

/** An event envelope as the payment service would publish it. */
export function paymentEvent(type: 'payment.confirmed' | 'payment.failed', orderId: string, metadata: Record<string, string> = {}) {
  return {
    event_id: randomUUID(),
    event_type: type,
    timestamp: new Date().toISOString(),
    metadata,
    data: { order_id: orderId, payment_id: `pay-${randomUUID().slice(0, 8)}`, amount_cents: 1000, ...(type === 'payment.failed' ? { reason: 'card declined' } : {}) },
  };
}
