/**
 * The engine settings are one validated configuration: `weft sidecar --help` lists each with its flag,
 * environment variable and Configuration field, and a value that does not parse stops start-up with
 * an error naming the setting as it was given (flag or environment variable).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEFT_BIN, freePort } from '../support/weft-process.js';

async function weft(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [WEFT_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output };
}

describe('engine settings', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-settings-'));
    env = { WEFT_REGISTRY_DIR: path.join(dir, 'registry') };
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const sidecar = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    weft(['sidecar', '--app-id', 'settings', '--metrics-port', '0', '-H', String(await freePort()), '-G', String(await freePort()), '--data-dir', path.join(dir, 'data'), ...args], {
      ...env,
      ...extraEnv,
    });

  it('weft sidecar --help lists every engine setting with its flag, environment variable and Configuration field', async () => {
    const { code, output } = await weft(['sidecar', '--help'], env);
    expect(code).toBe(0);
    for (const [flag, variable] of [
      ['--pubsub-max-retries', 'WEFT_PUBSUB_MAX_RETRIES'],
      ['--pubsub-retry-interval', 'WEFT_PUBSUB_RETRY_INTERVAL'],
      ['--pubsub-retry-max-interval', 'WEFT_PUBSUB_RETRY_MAX_INTERVAL'],
      ['--pubsub-delivery-timeout', 'WEFT_PUBSUB_DELIVERY_TIMEOUT'],
      ['--workflow-lease-ms', 'WEFT_WORKFLOW_LEASE_MS'],
      ['--workflow-max-concurrent-orchestrations', 'WEFT_WORKFLOW_MAX_CONCURRENT_ORCHESTRATIONS'],
      ['--workflow-max-concurrent-activities', 'WEFT_WORKFLOW_MAX_CONCURRENT_ACTIVITIES'],
      ['--workflow-retention', 'WEFT_WORKFLOW_RETENTION'],
      ['--workflow-redeliver-after', 'WEFT_WORKFLOW_REDELIVER_AFTER'],
      ['--workflow-stuck-after', 'WEFT_WORKFLOW_STUCK_AFTER'],
    ]) {
      expect(output).toContain(flag);
      expect(output).toContain(variable);
    }
    expect(output).toContain('spec.workflow.maxConcurrentWorkflowInvocations');
  });

  it('stops start-up naming the environment variable whose value does not parse', async () => {
    const { code, output } = await sidecar([], { WEFT_PUBSUB_MAX_RETRIES: 'many' });
    expect(code).toBe(1);
    expect(output).toContain('invalid setting WEFT_PUBSUB_MAX_RETRIES: expected a whole number (0 or more), got "many"');
  });

  it('stops start-up naming the flag whose value does not parse', async () => {
    const { code, output } = await sidecar(['--workflow-retention', 'a week']);
    expect(code).toBe(1);
    expect(output).toContain('invalid setting --workflow-retention: expected a duration such as 1h30m');
  });
});
