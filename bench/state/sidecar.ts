/**
 * Starting the real `weft sidecar` process (the built CLI, `packages/cli/bin/weft.js`) and timing it
 * from spawn to the first `204` of `GET /v1.0/healthz/outbound`, which is how Dapr SDKs wait for a
 * sidecar.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { WEFT_BIN, freePort } from '../../test/support/weft-process.js';
import { processCpuMs } from './machine.js';

export { freePort };

/** Repository root. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');


/** How often readiness is polled; the start-up figure is quantised to this. */
const POLL_MS = 2;

/** A running sidecar. */
export interface BenchSidecar {
  pid: number;
  httpPort: number;
  metricsPort: number;
  /** Spawn to first 204 of `healthz/outbound`, in ms. */
  startupMs: number;
  /** CPU time the process had used when it answered 204 (10 ms resolution), in ms. */
  startupCpuMs: number;
  /** Everything it printed (but the --trace-gc lines). */
  output(): string;
  /** Garbage collections of its main thread so far (from --trace-gc). */
  gcCounts(): { scavenges: number; markCompacts: number };
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
}

/** Answers the status of one GET on a fresh connection, or 0 when nothing listens yet. */
function probe(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/v1.0/healthz/outbound', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', () => resolve(0));
  });
}

/** Spawns `weft sidecar` and waits until it is ready. */
export async function startSidecar(options: {
  appId: string;
  /** Resource YAML; without it the sidecar uses the embedded defaults in `dataDir`. */
  resourcesDir?: string;
  dataDir: string;
  timeoutMs?: number;
  /** More `weft sidecar` flags, e.g. `--app-port`. */
  extraArgs?: readonly string[];
  env?: NodeJS.ProcessEnv;
}): Promise<BenchSidecar> {
  const [httpPort, grpcPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const args = [
    // GC counts per request are one of the figures this benchmark reports (see gcCounts).
    '--trace-gc',
    WEFT_BIN,
    'sidecar',
    '--app-id', options.appId,
    ...(options.resourcesDir !== undefined ? ['--resources-path', options.resourcesDir] : []),
    '--data-dir', options.dataDir,
    '--dapr-http-port', String(httpPort),
    '--dapr-grpc-port', String(grpcPort),
    '--metrics-port', String(metricsPort),
    '--log-level', 'warn',
    ...(options.extraArgs ?? []),
  ];
  fs.mkdirSync(options.dataDir, { recursive: true });
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: options.dataDir,
    env: { ...process.env, ...options.env },
  });
  let output = '';
  const gc = { scavenges: 0, markCompacts: 0 };
  let isolate: string | undefined;
  let partial = '';
  child.stdout?.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const m = /^\[\d+:(0x[0-9a-f]+)\]\s+\d+ ms: (Scavenge|Mark-Compact)/.exec(line);
      if (!m) {
        output += `${line}\n`;
        continue;
      }
      // The main thread's isolate prints first; worker threads have their own.
      isolate ??= m[1];
      if (m[1] !== isolate) continue;
      if (m[2] === 'Scavenge') gc.scavenges++;
      else gc.markCompacts++;
    }
  });
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = started + (options.timeoutMs ?? 20_000);
  let startupMs: number | undefined;
  while (startupMs === undefined) {
    if (spawnError) throw new Error(`cannot start weft sidecar: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`weft sidecar exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output}`);
    }
    if ((await probe(httpPort)) === 204) {
      startupMs = performance.now() - started;
    } else if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`weft sidecar was not ready within ${options.timeoutMs ?? 20_000} ms:\n${output}`);
    } else {
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
  if (child.pid === undefined) throw new Error('weft sidecar has no pid');
  return {
    pid: child.pid,
    httpPort,
    metricsPort,
    startupMs,
    startupCpuMs: processCpuMs(child.pid),
    output: () => output + partial,
    gcCounts: () => ({ ...gc }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Resident and peak resident memory of a process in MB (MiB), from `/proc/<pid>/status`. */
export function memoryOf(pid: number): { rssMB: number; peakRssMB: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  const mb = (value: number): number => Math.round((value / 1024) * 10) / 10;
  return { rssMB: mb(kb('VmRSS')), peakRssMB: mb(kb('VmHWM')) };
}
