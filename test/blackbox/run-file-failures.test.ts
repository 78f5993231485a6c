/**
 * `weft run -f` shows failures on the console: a sidecar that cannot start prints a FAILED line with
 * the cause and its last log lines, a status table shows every app's state, and `--on-app-failure`
 * chooses between keeping the other apps running (the default, as Dapr) and stopping them all.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEFT_BIN } from '../support/weft-process.js';

const BROKEN_PUBSUB = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
spec:
  type: pubsub.redis
  version: v1
  metadata:
    - name: redisHost
      value: redis-nohost.invalid:6379
`;

/** Output so far and the exit of one `weft run -f`. */
interface Supervisor {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function supervise(file: string, env: NodeJS.ProcessEnv, extra: string[] = []): Supervisor {
  const child = spawn(process.execPath, [WEFT_BIN, 'run', '-f', file, ...extra], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('weft run -f failures', () => {
  let dir: string;
  let file: string;
  let env: NodeJS.ProcessEnv;
  const supervisors: Supervisor[] = [];

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-runfail-'));
    for (const app of ['good', 'bad']) await fs.mkdir(path.join(dir, app, 'resources'), { recursive: true });
    await fs.writeFile(path.join(dir, 'good', 'app.mjs'), 'setInterval(() => {}, 1000);\n');
    await fs.writeFile(path.join(dir, 'bad', 'app.mjs'), 'setInterval(() => {}, 1000);\n');
    await fs.writeFile(path.join(dir, 'bad', 'resources', 'pubsub.yaml'), BROKEN_PUBSUB);
    file = path.join(dir, 'weft.yaml');
    await fs.writeFile(
      file,
      `version: 1
apps:
  - appID: good-${process.pid}
    appDirPath: ./good
    command: ["${process.execPath}", "app.mjs"]
  - appID: bad-${process.pid}
    appDirPath: ./bad
    resourcesPath: ./resources
    command: ["${process.execPath}", "app.mjs"]
`,
    );
    env = { ...process.env, WEFT_REGISTRY_DIR: path.join(dir, 'registry') };
  });

  afterAll(async () => {
    for (const s of supervisors) {
      if (s.child.exitCode === null) s.child.kill('SIGINT');
      await s.exited;
    }
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('prints the cause and the last lines of a sidecar that fails, a status table, and keeps the others by default', async () => {
    const run = supervise(file, env);
    supervisors.push(run);
    await until('the failure report', () => /bad-\d+ +\|.*FAILED: a component could not start/.test(run.output()));
    expect(run.output()).toContain('cannot reach Redis at redis-nohost.invalid:6379: host not found');
    expect(run.output()).toMatch(/last lines \(sidecar log .*bad-\d+_daprd_\d+\.log/);
    await until('the status table', () => /APP ID\s+STATUS[\s\S]*good-\d+\s+running[\s\S]*bad-\d+\s+exited \(1\)/.test(run.output()));
    // The good app keeps running until we stop it.
    expect(run.child.exitCode).toBeNull();
    run.child.kill('SIGINT');
    expect(await run.exited).not.toBeNull();
  }, 120_000);

  it('stops every app on the first failure with --on-app-failure stop-all', async () => {
    const run = supervise(file, env, ['--on-app-failure', 'stop-all']);
    supervisors.push(run);
    const code = await run.exited;
    expect(code).toBe(1);
    expect(run.output()).toContain('stopping the other apps (--on-app-failure stop-all)');
    expect(run.output()).toMatch(/good-\d+\s+exited/);
  }, 120_000);
});
