/**
 * Starts the whole todo platform for a test: `weft run -f` on a run file written into a temp dir,
 * with every port free, the sidecars' data and the name registry in that temp dir, and the
 * shipped resource files copied there (a test may rewrite them: a fast cron schedule, a shorter
 * circuit-breaker timeout, production components). Everything is killed in `stop()`.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort, WEFT_BIN } from '../../../../test/support/weft-process.js';

/** The example's directory. */
export const EXAMPLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const REPO_ROOT = path.resolve(EXAMPLE_DIR, '../..');
const TSX_LOADER = pathToFileURL(path.join(REPO_ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

/** Options of {@link startPlatform}. */
export interface PlatformOptions {
  /** Resource folder to copy (default the shipped `resources/`). */
  resourcesFrom?: string;
  /** Rewrites a copied resource file (`name` is its file name). */
  rewrite?: (name: string, yaml: string, ctx: { dir: string; providerPort: number }) => string;
  /** Files to write into the platform's temp dir (name → content), e.g. a secrets file. */
  files?: Record<string, string>;
  /** Extra resource files to add. */
  extraResources?: Record<string, string>;
  /** Environment for every app and sidecar. */
  env?: Record<string, string>;
  /** Environment for the backend only. */
  backendEnv?: Record<string, string>;
  /** Whether recurring-task-service is expected to subscribe (a test may scope it out). @default true */
  recurringSubscribes?: boolean;
  /** Readiness deadline. @default 120 s */
  timeoutMs?: number;
}

interface AppPorts {
  app: number;
  dapr: number;
  /** The sidecar's Prometheus endpoint. */
  metrics: number;
}

/** A running platform. */
export interface Platform {
  dir: string;
  backend: AppPorts;
  notification: AppPorts;
  recurring: AppPorts;
  provider: AppPorts;
  backendUrl: string;
  providerUrl: string;
  /** Everything `weft run -f` printed. */
  output(): string;
  stop(): Promise<void>;
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000, output?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const tail = output ? `\n--- output (tail) ---\n${output().slice(-6000)}` : '';
      throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}${tail}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function ports(): Promise<AppPorts> {
  return { app: await freePort(), dapr: await freePort(), metrics: await freePort() };
}

function runFile(p: { backend: AppPorts; notification: AppPorts; recurring: AppPorts; provider: AppPorts }, options: PlatformOptions, dir: string): string {
  const src = (file: string) => path.join(EXAMPLE_DIR, 'src', file);
  const app = (id: string, ports: AppPorts, file: string, env: Record<string, string> = {}) => ({
    appID: id,
    appDirPath: dir,
    appPort: ports.app,
    daprHTTPPort: ports.dapr,
    metricsPort: ports.metrics,
    command: ['node', '--import', TSX_LOADER, src(file)],
    env,
  });
  return JSON.stringify({
    version: 1,
    common: {
      resourcesPath: path.join(dir, 'resources'),
      configFilePath: path.join(dir, 'config.yaml'),
      env: { LOG_LEVEL: 'info', WEFT_REGISTRY_DIR: path.join(dir, 'registry'), ...options.env },
    },
    apps: [
      app('todo-backend', p.backend, 'backend/main.ts', { PGLITE_DATA_DIR: path.join(dir, 'pglite'), TODO_WEB_ROOT: path.join(EXAMPLE_DIR, 'web/dist'), ...options.backendEnv }),
      app('notification-service', p.notification, 'notification/main.ts'),
      app('recurring-task-service', p.recurring, 'recurring/main.ts'),
      app('notification-provider-local', p.provider, 'provider/main.ts'),
    ],
  });
}

/** Starts the platform and waits until every app answers and the subscriptions are registered. */
export async function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weft-todo-'));
  const p = { backend: await ports(), notification: await ports(), recurring: await ports(), provider: await ports() };
  const resources = path.join(dir, 'resources');
  mkdirSync(resources);
  mkdirSync(path.join(dir, 'registry'));
  const from = options.resourcesFrom ?? path.join(EXAMPLE_DIR, 'resources');
  writeFileSync(path.join(dir, 'secrets.json'), readFileSync(path.join(EXAMPLE_DIR, 'secrets.json')));
  for (const name of readdirSync(from).filter((f) => /\.ya?ml$/.test(f))) {
    let yaml = readFileSync(path.join(from, name), 'utf8');
    // The local provider listens on a free port here, not 8003.
    yaml = yaml.replace('http://127.0.0.1:8003', `http://127.0.0.1:${p.provider.app}`);
    if (options.rewrite) yaml = options.rewrite(name, yaml, { dir, providerPort: p.provider.app });
    writeFileSync(path.join(resources, name), yaml);
  }
  for (const [name, yaml] of Object.entries(options.extraResources ?? {})) writeFileSync(path.join(resources, name), yaml);
  for (const [name, content] of Object.entries(options.files ?? {})) writeFileSync(path.join(dir, name), content);
  // Tracing stays configured as shipped, but towards a port nobody listens on.
  writeFileSync(path.join(dir, 'config.yaml'), readFileSync(path.join(EXAMPLE_DIR, 'config.yaml'), 'utf8').replace('127.0.0.1:9411', `127.0.0.1:${await freePort()}`));
  const file = path.join(dir, 'weft.yaml');
  writeFileSync(file, runFile(p, options, dir));

  const child: ChildProcess = spawn(process.execPath, [WEFT_BIN, 'run', '-f', file], {
    cwd: dir,
    env: { ...process.env, WEFT_REGISTRY_DIR: path.join(dir, 'registry'), FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const killer = setTimeout(() => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 10_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const platform: Platform = {
    dir,
    ...p,
    backendUrl: `http://127.0.0.1:${p.backend.app}`,
    providerUrl: `http://127.0.0.1:${p.provider.app}`,
    output: () => output,
    stop,
  };
  try {
    const timeoutMs = options.timeoutMs ?? 120_000;
    const ok = async (url: string) => {
      if (child.exitCode !== null) throw new Error(`weft run -f exited with ${child.exitCode}`);
      const res = await fetch(url);
      return res.ok ? true : undefined;
    };
    for (const a of [p.backend, p.notification, p.recurring, p.provider]) {
      await waitFor(`app on ${a.app}`, () => ok(`http://127.0.0.1:${a.app}/healthz`), timeoutMs, platform.output);
      await waitFor(`sidecar on ${a.dapr}`, () => ok(`http://127.0.0.1:${a.dapr}/v1.0/healthz`), timeoutMs, platform.output);
    }
    // Events published before a subscriber's sidecar has subscribed would not reach it.
    for (const a of options.recurringSubscribes === false ? [p.notification] : [p.notification, p.recurring]) {
      await waitFor(
        `subscriptions of the app on ${a.app}`,
        async () => {
          const meta = (await (await fetch(`http://127.0.0.1:${a.dapr}/v1.0/metadata`)).json()) as { subscriptions?: unknown[] };
          return (meta.subscriptions?.length ?? 0) > 0 ? true : undefined;
        },
        timeoutMs,
        platform.output,
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return platform;
}

/** A client for the backend's API as one user. */
export function api(platform: Platform, user: string) {
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`${platform.backendUrl}${url}`, {
      method,
      headers: { 'x-user-id': user, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  return {
    call,
    create: (task: Record<string, unknown>) => call('POST', '/api/tasks', task),
    get: (id: string) => call('GET', `/api/tasks/${id}`),
    list: (query = '') => call('GET', `/api/tasks${query}`),
    update: (id: string, change: Record<string, unknown>) => call('PATCH', `/api/tasks/${id}`, change),
    complete: (id: string) => call('POST', `/api/tasks/${id}/complete`),
    remove: (id: string) => call('DELETE', `/api/tasks/${id}`),
  };
}

/** What the local provider has received. */
export interface ProviderLog {
  counters: { attempts: number; accepted: number; duplicates: number; refused: number; outageRejections: number };
  outage: boolean;
  received: { idempotency_key: string; authorization: string; body: { to: string; user_id: string; task_id: string; event_type: string; subject: string } }[];
}

export async function providerLog(platform: Platform): Promise<ProviderLog> {
  return (await (await fetch(`${platform.providerUrl}/admin/received`)).json()) as ProviderLog;
}

export async function setOutage(platform: Platform, down: boolean): Promise<void> {
  const res = await fetch(`${platform.providerUrl}/admin/outage`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ down }) });
  if (!res.ok) throw new Error(`outage switch failed: ${res.status}`);
}

/** The sum of a Prometheus metric's samples whose line contains every fragment (`policy="retry"`). */
export async function metricSum(port: number, name: string, fragments: string[]): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (fragments.every((f) => line.includes(f))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
