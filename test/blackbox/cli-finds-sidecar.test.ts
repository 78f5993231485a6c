/**
 * CLI commands that take an app id find that app's running sidecar in the local registry and use its
 * API, as the Dapr CLI does: `weft workflow` sees the store the app runs on (and never opens a store
 * in the current directory), `weft publish --publish-app-id` needs no port, and an unknown app id is
 * an error that lists the running apps.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEFT_BIN, startWeftSidecar } from '../support/weft-process.js';
import type { WeftProcess } from '../support/weft-process.js';

const exec = promisify(execFile);

describe('CLI commands find the sidecar by app id', () => {
  let dir: string;
  let cwd: string;
  let env: NodeJS.ProcessEnv;
  let sidecar: WeftProcess;

  /** Runs `weft …` from an empty directory with the test's registry; resolves with output and code. */
  async function weft(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await exec(process.execPath, [WEFT_BIN, ...args], { cwd, env, timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-findapp-'));
    cwd = path.join(dir, 'elsewhere');
    await fs.mkdir(cwd);
    env = { ...process.env, WEFT_REGISTRY_DIR: path.join(dir, 'registry') };
    sidecar = await startWeftSidecar(['--app-id', 'finder', '--data-dir', path.join(dir, 'data')], { env, timeoutMs: 60_000 });
  }, 90_000);

  afterAll(async () => {
    await sidecar?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('runs and lists workflows through the running sidecar, creating no store in the current directory', async () => {
    const started = await weft('workflow', '--app-id', 'finder', 'run', 'orders', '-i', 'order-7', '-x', '{"n":1}');
    expect(started).toMatchObject({ code: 0 });
    expect(started.stdout.trim()).toBe('order-7');
    const listed = await weft('workflow', '--app-id', 'finder', 'list', '-o', 'json');
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { instanceID: string }[]).map((i) => i.instanceID)).toEqual(['order-7']);
    const got = await weft('workflow', '--app-id', 'finder', 'get', 'order-7');
    expect(JSON.parse(got.stdout)).toMatchObject({ instanceID: 'order-7', workflowName: 'orders' });
    expect(await fs.readdir(cwd)).toEqual([]);
  }, 90_000);

  it('refuses an unknown app id, listing the running apps, for workflow, publish and invoke', async () => {
    for (const args of [
      ['workflow', '--app-id', 'findr', 'list'],
      ['publish', '--publish-app-id', 'findr', '--pubsub', 'pubsub', '--topic', 't', '--data', '{}'],
      ['invoke', '--app-id', 'findr', '--method', 'x'],
    ]) {
      const result = await weft(...args);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('app "findr" is not running; running apps: finder');
    }
    expect(await fs.readdir(cwd)).toEqual([]);
  }, 90_000);

  it('publishes through the app\'s sidecar without a port', async () => {
    const result = await weft('publish', '--publish-app-id', 'finder', '--pubsub', 'pubsub', '--topic', 'orders', '--data', '{"id":1}');
    expect(result.stdout + result.stderr).toContain('Event published successfully');
    expect(result.code).toBe(0);
  }, 90_000);
});
