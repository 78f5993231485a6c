/**
 * The acceptance test of service invocation: two apps started with `weft run -f`, called through both
 * sidecars; then one app's Weft process is killed (calls fail with Dapr's error) and restarted (calls
 * heal with no other action); then one SIGINT stops everything with no orphan process.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listRegistry, pidAlive } from '../../packages/runtime/src/index.js';
import type { RegistryEntry } from '../../packages/runtime/src/index.js';
import { ECHO_APP } from '../support/echo-app.js';
import type { Echo } from '../support/echo-app.js';
import { WEFT_BIN, freePort } from '../support/weft-process.js';

const MB = 1024 * 1024;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function ready(port: number): Promise<true | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/v1.0/healthz`);
  return res.status === 204 ? true : undefined;
}

describe('two apps under weft run -f', () => {
  const A = `rf${process.pid}-a`;
  const B = `rf${process.pid}-b`;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let supervisor: ChildProcess;
  let output = '';
  let entries: Map<string, RegistryEntry>;
  let restarted: ChildProcess | undefined;
  const url = (from: string, to: string, method: string) => `http://127.0.0.1:${entries.get(from)?.httpPort}/v1.0/invoke/${to}/method/${method}`;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-runfile-'));
    env = { ...process.env, WEFT_REGISTRY_DIR: path.join(dir, 'registry') };
    await fs.mkdir(path.join(dir, 'a'));
    await fs.mkdir(path.join(dir, 'b', '.dapr'), { recursive: true });
    // App b's Configuration comes from <appDirPath>/.dapr/config.yaml, as Dapr's run-file rules say.
    await fs.writeFile(
      path.join(dir, 'b', '.dapr', 'config.yaml'),
      `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: b-acl}
spec:
  accessControl:
    defaultAction: allow
    policies:
    - appId: ${A}
      defaultAction: allow
      operations: [{name: /admin/**, httpVerb: ['*'], action: deny}]
`,
    );
    await fs.writeFile(
      path.join(dir, 'weft.yaml'),
      `version: 1
common:
  maxBodySize: 20Mi
apps:
- appID: ${A}
  appDirPath: ./a
  appPort: ${await freePort()}
  command: ["${process.execPath}", "${ECHO_APP}"]
- appID: ${B}
  appDirPath: ./b
  appPort: ${await freePort()}
  command: ["${process.execPath}", "${ECHO_APP}"]
`,
    );
    supervisor = spawn(process.execPath, [WEFT_BIN, 'run', '-f', dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    supervisor.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    supervisor.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    entries = await until('both sidecars registered and ready', async () => {
      const live = new Map((await listRegistry(path.join(dir, 'registry'))).map((e) => [e.appId, e]));
      const a = live.get(A);
      const b = live.get(B);
      if (!a || !b || !a.extra?.['appPid'] || !b.extra?.['appPid']) return undefined;
      return (await ready(a.httpPort)) && (await ready(b.httpPort)) ? live : undefined;
    }, 45_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${output}`);
    });
  }, 60_000);

  afterAll(async () => {
    if (restarted && restarted.exitCode === null) {
      // SIGTERM lets `weft run` stop its app's process group; SIGKILL would orphan the app.
      const gone = new Promise((resolve) => restarted?.once('exit', resolve));
      restarted.kill('SIGTERM');
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (restarted.exitCode === null) restarted.kill('SIGKILL');
    }
    if (supervisor && supervisor.exitCode === null) supervisor.kill('SIGKILL');
    for (const e of entries?.values() ?? []) {
      for (const pid of [e.pid, Number(e.extra?.['appPid'])]) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('passes verbs, query and headers both ways', async () => {
    for (const [from, to] of [[A, B], [B, A]] as const) {
      for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH']) {
        const res = await fetch(`${url(from, to, 'items/7')}?q=1&r=x%20y`, {
          method,
          headers: { 'x-foo': 'bar' },
          ...(method === 'GET' || method === 'DELETE' ? {} : { body: 'payload' }),
        });
        expect(res.status, `${from}→${to} ${method}`).toBe(200);
        const echo = (await res.json()) as Echo;
        expect(echo).toMatchObject({ app: to, method, path: '/items/7', query: 'q=1&r=x%20y' });
        expect(echo.headers).toMatchObject({ 'x-foo': 'bar', 'dapr-caller-app-id': from, 'dapr-callee-app-id': to });
        expect(echo.headers['traceparent']).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      }
    }
  });

  it('returns 4xx and 5xx statuses of the callee with its headers', async () => {
    for (const status of [400, 404, 500, 503]) {
      const res = await fetch(url(A, B, `status/${status}`), { method: 'POST', body: '{}' });
      expect(res.status).toBe(status);
      expect(res.headers.get('x-app-header')).toBe('from-app');
    }
  });

  it('carries 5 MB bodies and refuses a body over the 20 MB limit with 413', async () => {
    const body = Buffer.alloc(5 * MB, 3);
    const res = await fetch(url(B, A, 'upload'), { method: 'POST', body });
    expect(((await res.json()) as Echo).sha256).toBe(createHash('sha256').update(body).digest('hex'));
    const tooBig = await fetch(url(A, B, 'upload'), { method: 'POST', body: Buffer.alloc(21 * MB) });
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as { errorCode: string }).errorCode).toBe('ERR_BODY_READ');
  });

  it('answers 403 ERR_DIRECT_INVOKE when the callee access control denies the operation', async () => {
    const res = await fetch(url(A, B, 'admin/reset'), { method: 'POST' });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { errorCode: string }).errorCode).toBe('ERR_DIRECT_INVOKE');
    // The same path on the other app, which has no policy, passes.
    expect((await fetch(url(B, A, 'admin/reset'), { method: 'POST' })).status).toBe(200);
  });

  it('answers 500 ERR_DIRECT_INVOKE naming an unknown app id', async () => {
    const res = await fetch(url(A, 'nobody-here', 'x'));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ errorCode: 'ERR_DIRECT_INVOKE', message: "failed to invoke, id: nobody-here, err: couldn't find service: nobody-here" });
  });

  it('fails calls to a killed app with ERR_DIRECT_INVOKE and heals when it is restarted', async () => {
    const b = entries.get(B) as RegistryEntry;
    // A crash: the Weft process and its app die at once, leaving a stale registry file behind.
    process.kill(b.pid, 'SIGKILL');
    process.kill(Number(b.extra?.['appPid']), 'SIGKILL');
    await until('the killed process to be gone', async () => (pidAlive(b.pid) ? undefined : true));
    const failed = await fetch(url(A, B, 'x'));
    expect(failed.status).toBe(500);
    const error = (await failed.json()) as { errorCode: string; message: string };
    expect(error.errorCode).toBe('ERR_DIRECT_INVOKE');
    expect(error.message).toContain(`id: ${B}`);
    // A's sidecar keeps serving.
    expect((await fetch(`http://127.0.0.1:${entries.get(A)?.httpPort}/v1.0/healthz`)).status).toBe(204);

    restarted = spawn(
      process.execPath,
      [WEFT_BIN, 'run', '--app-id', B, '--app-port', String(b.appPort), '--data-dir', path.join(dir, 'b', '.weft'), '--', process.execPath, ECHO_APP],
      { env, cwd: path.join(dir, 'b'), stdio: 'ignore' },
    );
    const healed = await until('calls to the restarted app to succeed', async () => {
      const res = await fetch(url(A, B, 'again'));
      return res.status === 200 ? ((await res.json()) as Echo) : undefined;
    });
    expect(healed).toMatchObject({ app: B, path: '/again' });
  });

  it('stops every process of the run file on one SIGINT', async () => {
    const a = entries.get(A) as RegistryEntry;
    const pids = [supervisor.pid as number, a.pid, Number(a.extra?.['appPid'])];
    const exited = new Promise((resolve) => supervisor.once('exit', resolve));
    supervisor.kill('SIGINT');
    await exited;
    await until('no process of the run file left', async () => (pids.some(pidAlive) ? undefined : true), 20_000);
    expect(await fs.readdir(path.join(dir, 'a', '.dapr', 'logs'))).toEqual(
      expect.arrayContaining([expect.stringMatching(new RegExp(`^${A}_app_\\d{14}\\.log$`)), expect.stringMatching(new RegExp(`^${A}_daprd_\\d{14}\\.log$`))]),
    );
    expect(output).toMatch(new RegExp(`app ${A}\\s+\\| echo app ${A} listening`));
  });
});
