/**
 * Runs a real Prometheus server (Debian's `prometheus` package) for a test: temp config and data
 * directory, a free port, one scrape job against the given targets every second. When the binary is
 * missing the suite is skipped loudly, and fails under CI=true, like `requireService`.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { servicesRequired } from './services.js';
import { freePort } from './weft-process.js';

/** Where the binary is looked for. */
export const PROMETHEUS_BIN = process.env['WEFT_PROMETHEUS_BIN'] ?? '/usr/bin/prometheus';

/** True to run a suite that needs Prometheus; throws under CI when it is missing. */
export async function requirePrometheus(suite: string): Promise<boolean> {
  const present = await fs.access(PROMETHEUS_BIN).then(
    () => true,
    () => false,
  );
  if (present) return true;
  const message = `prometheus is not installed at ${PROMETHEUS_BIN}; suite "${suite}" cannot run (apt-get install -y prometheus)`;
  if (servicesRequired()) throw new Error(`${message} (required because CI=true or WEFT_REQUIRE_SERVICES=1)`);
  console.warn(`\n${'!'.repeat(100)}\n!! SKIPPED: ${message}.\n${'!'.repeat(100)}\n`);
  return false;
}

/** A running Prometheus. */
export interface PrometheusProcess {
  url: string;
  /** Runs an instant query; resolves with the result vector. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  stop(): Promise<void>;
}

/** Starts Prometheus scraping `targets` (`host:port`) every second. */
export async function startPrometheus(targets: string[]): Promise<PrometheusProcess> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-prometheus-'));
  const port = await freePort();
  const config = `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n- job_name: weft\n  metrics_path: /\n  static_configs:\n  - targets: [${targets.map((t) => `"${t}"`).join(', ')}]\n`;
  await fs.writeFile(path.join(dir, 'prometheus.yml'), config);
  const child: ChildProcess = spawn(
    PROMETHEUS_BIN,
    [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    await fs.rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited with ${child.exitCode}:\n${output}`);
    }
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not become ready:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    query: async (expr) => {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as { status: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      if (body.status !== 'success') throw new Error(`query ${expr} failed: ${JSON.stringify(body)}`);
      return body.data?.result ?? [];
    },
    stop,
  };
}
