/**
 * Starts the example the way a user does — `weft run -f` on its run file — but isolated for a test:
 * the run file is copied into a temp dir with free ports, absolute commands, its own registry, data
 * dir, artifacts folder and freshly generated samples. Helpers drive the HTTP API and `weft workflow`,
 * and kill or restart one app's processes.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { listRegistry, pidAlive } from '../../../packages/runtime/src/index.js';
import type { RegistryEntry } from '../../../packages/runtime/src/index.js';
import { WEFT_BIN, freePort } from '../../../test/support/weft-process.js';
import { generateSamples } from '../src/generator/samples.js';
import type { InvoiceTruth } from '../src/shared/models.js';
import type { InstanceView } from '../src/workflow/api.js';

const exec = promisify(execFile);

/** The example's folder. */
export const EXAMPLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** tsx's loader as a URL, since the apps' working directory (the temp dir) has no node_modules. */
const TSX_LOADER = pathToFileURL(path.join(path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'loader.mjs')).href;

interface RunFileApp {
  appID: string;
  appDirPath: string;
  appPort: number;
  command: string[];
}

/** Options of {@link startInvoiceStack}. */
export interface StackOptions {
  /** Extra environment for every app (APPROVAL_TIMEOUT, EXTRACT_DELAY_MS …). */
  env?: Record<string, string>;
  /** The run file of the example to start. @default 'weft.yaml' */
  runFile?: string;
  /** Replaces `common.resourcesPath` (absolute). */
  resourcesPath?: string;
  /** Renames the workflow app (a unique id per run on a shared Postgres). */
  workflowAppId?: string;
}

/** A running copy of the example. */
export interface InvoiceStack {
  dir: string;
  /** Base URL of the workflow app's API. */
  api: string;
  workflowAppId: string;
  /** The generated samples' truths, by file name. */
  truths: Map<string, InvoiceTruth>;
  artifactsDir: string;
  /** Everything `weft run -f` printed. */
  output(): string;
  /** `POST /api/workflows/invoice`. */
  start(invoiceId: string, pdfPath: string): Promise<Response>;
  /** `GET /api/workflows/{id}` (undefined on 404). */
  get(id: string): Promise<InstanceView | undefined>;
  /** Polls the instance until `done` holds for it. */
  waitFor(id: string, what: string, done: (v: InstanceView) => boolean, timeoutMs?: number): Promise<InstanceView>;
  /** `POST /api/workflows/{id}/raise-event/{event}`. */
  raise(id: string, event: string, body: unknown): Promise<Response>;
  /** `weft workflow <args…> --app-id <workflow app>` against this stack's store. */
  weft(...args: string[]): Promise<string>;
  /** The live registry entry of an app. */
  entry(appId: string): Promise<RegistryEntry>;
  /** SIGKILLs an app's Weft process and the app (a crash). */
  kill(appId: string): Promise<void>;
  /** Starts a killed app again with `weft run`, as a user would. */
  restart(appId: string): Promise<void>;
  stop(): Promise<void>;
}

/** Polls `probe` until it returns a value, or throws naming `what`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function healthy(port: number): Promise<true | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  return res.ok ? true : undefined;
}

/** Starts the five apps under `weft run -f` and waits until every app and sidecar answers. */
export async function startInvoiceStack(options: StackOptions = {}): Promise<InvoiceStack> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-invoice-'));
  const samplesDir = path.join(dir, 'samples');
  const artifactsDir = path.join(dir, 'artifacts');
  const registry = path.join(dir, 'registry');
  const truths = new Map((await generateSamples(samplesDir)).map((t) => [t.file, t]));

  // The example's own run file, made hermetic: free ports, absolute commands, everything in `dir`.
  const runFile = parseYaml(await fs.readFile(path.join(EXAMPLE_DIR, options.runFile ?? 'weft.yaml'), 'utf8')) as {
    common?: Record<string, unknown>;
    apps: RunFileApp[];
    dashboard?: unknown;
  };
  // Parallel stacks cannot all serve a dashboard on its fixed port; the dashboard has its own tests.
  delete runFile.dashboard;
  const ports = new Map<string, number>();
  for (const app of runFile.apps) {
    const [node, flag, loader, script] = app.command;
    if (node !== 'node' || flag !== '--import' || loader !== 'tsx' || !script) throw new Error(`unexpected command in the run file: ${app.command.join(' ')}`);
    if (app.appID === 'workflow-app' && options.workflowAppId) app.appID = options.workflowAppId;
    app.appDirPath = '.';
    app.appPort = await freePort();
    app.command = [process.execPath, '--import', TSX_LOADER, path.join(EXAMPLE_DIR, script)];
    ports.set(app.appID, app.appPort);
  }
  if (options.resourcesPath) runFile.common = { ...runFile.common, resourcesPath: options.resourcesPath };
  await fs.writeFile(path.join(dir, 'weft.yaml'), toYaml(runFile));

  const workflowAppId = options.workflowAppId ?? 'workflow-app';
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WEFT_REGISTRY_DIR: registry,
    ARTIFACTS_DIR: artifactsDir,
    INVOICE_INBOX: samplesDir,
    LOG_LEVEL: 'info',
    ...options.env,
  };
  let output = '';
  const supervisor = spawn(process.execPath, [WEFT_BIN, 'run', '-f', dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  supervisor.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  supervisor.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const restarted: ChildProcess[] = [];
  const api = `http://127.0.0.1:${ports.get(workflowAppId)}`;

  const entry = async (appId: string) => {
    const live = (await listRegistry(registry)).filter((e) => e.appId === appId && pidAlive(e.pid));
    const found = live[live.length - 1];
    if (!found) throw new Error(`${appId} is not registered`);
    return found;
  };

  const stop = async () => {
    for (const child of [supervisor, ...restarted]) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      // SIGTERM lets `weft run` stop its app's process group; the restarted ones run in their own group.
      try {
        if (child === supervisor) child.kill('SIGTERM');
        else process.kill(-(child.pid as number), 'SIGTERM');
      } catch {
        // already gone
      }
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    }
    for (const e of await listRegistry(registry).catch(() => [])) {
      for (const pid of [e.pid, Number(e.extra?.['appPid'])]) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    if (supervisor.exitCode === null) supervisor.kill('SIGKILL');
    await fs.rm(dir, { recursive: true, force: true });
  };

  try {
    await until(
      'all five apps and their sidecars to be ready',
      async () => {
        if (supervisor.exitCode !== null) throw new Error(`weft run -f exited with ${supervisor.exitCode}`);
        for (const [appId, port] of ports) {
          const e = await entry(appId);
          if (!e.extra?.['appPid']) return undefined;
          if (!(await healthy(port))) return undefined;
          if ((await fetch(`http://127.0.0.1:${e.httpPort}/v1.0/healthz`)).status !== 204) return undefined;
        }
        return true;
      },
      90_000,
    );
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n--- weft run -f output ---\n${output}`);
  }

  const stack: InvoiceStack = {
    dir,
    api,
    workflowAppId,
    truths,
    artifactsDir,
    output: () => output,
    start: (invoiceId, pdfPath) =>
      fetch(`${api}/api/workflows/invoice`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ invoice_id: invoiceId, pdf_path: pdfPath }) }),
    get: async (id) => {
      const res = await fetch(`${api}/api/workflows/${id}`);
      if (res.status === 404) return undefined;
      if (!res.ok) throw new Error(`GET ${id}: ${res.status} ${await res.text()}`);
      return (await res.json()) as InstanceView;
    },
    waitFor: (id, what, done, timeoutMs = 120_000) =>
      until(`${id}: ${what}`, async () => {
        const view = await stack.get(id);
        return view && done(view) ? view : undefined;
      }, timeoutMs).catch(async (err: Error) => {
        throw new Error(`${err.message}; last state: ${JSON.stringify(await stack.get(id).catch(() => null))}`);
      }),
    raise: (id, event, body) =>
      fetch(`${api}/api/workflows/${id}/raise-event/${event}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    weft: async (...args) => {
      const extra = options.resourcesPath && args.includes('--connection-string') ? [] : ['--data-dir', path.join(dir, '.weft')];
      return (await exec(process.execPath, [WEFT_BIN, 'workflow', '--app-id', workflowAppId, ...extra, ...args], { env })).stdout;
    },
    entry,
    kill: async (appId) => {
      const e = await entry(appId);
      const pids = [e.pid, Number(e.extra?.['appPid'])];
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      await until(`${appId} to be dead`, async () => (pids.some(pidAlive) ? undefined : true), 20_000);
    },
    restart: async (appId) => {
      const app = runFile.apps.find((a) => a.appID === appId);
      if (!app) throw new Error(`no app ${appId} in the run file`);
      const child = spawn(
        process.execPath,
        [WEFT_BIN, 'run', '--app-id', appId, '--app-port', String(app.appPort), '--metrics-port', '0', '--data-dir', path.join(dir, '.weft'), '--', ...app.command],
        { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
      );
      child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      restarted.push(child);
      await until(`${appId} to be back`, async () => (await healthy(app.appPort)) && (await entry(appId)) ? true : undefined, 60_000);
    },
    stop,
  };
  return stack;
}
