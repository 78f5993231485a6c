/**
 * mTLS from a run file: `weft run -f` with `enableMtls` and `tlsCaFile` in `common` and each app's
 * `tlsCertFile`/`tlsKeyFile` (paths relative to the file and to `appDirPath`); both directions of
 * invocation work and each app sees the other's id from its certificate.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listRegistry, pidAlive } from '../../packages/runtime/src/index.js';
import type { RegistryEntry } from '../../packages/runtime/src/index.js';
import { makeCa, makeLeaf } from '../support/certs.js';
import { ECHO_APP } from '../support/echo-app.js';
import type { Echo } from '../support/echo-app.js';
import { WEFT_BIN, freePort } from '../support/weft-process.js';

describe('mTLS under weft run -f', () => {
  const A = `rftls${process.pid}-a`;
  const B = `rftls${process.pid}-b`;
  let dir: string;
  let supervisor: ChildProcess;
  let output = '';
  let entries: Map<string, RegistryEntry>;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-rf-mtls-'));
    const pki = path.join(dir, 'pki');
    await Promise.all(['a', 'b', 'pki'].map((d) => fs.mkdir(path.join(dir, d))));
    const ca = await makeCa(pki, 'ca');
    await Promise.all([makeLeaf(path.join(dir, 'a'), 'tls', ca, { appId: A }), makeLeaf(path.join(dir, 'b'), 'tls', ca, { appId: B })]);
    const app = (id: string, sub: string, port: number) =>
      `- appID: ${id}\n  appDirPath: ./${sub}\n  appPort: ${port}\n  tlsCertFile: tls.crt\n  tlsKeyFile: tls.key\n  command: ["${process.execPath}", "${ECHO_APP}"]\n`;
    await fs.writeFile(
      path.join(dir, 'weft.yaml'),
      `version: 1\ncommon:\n  enableMtls: true\n  tlsCaFile: ./pki/ca.crt\napps:\n${app(A, 'a', await freePort())}${app(B, 'b', await freePort())}`,
    );
    supervisor = spawn(process.execPath, [WEFT_BIN, 'run', '-f', dir], { env: { ...process.env, WEFT_REGISTRY_DIR: path.join(dir, 'registry') }, stdio: ['ignore', 'pipe', 'pipe'] });
    supervisor.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    supervisor.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 45_000;
    for (;;) {
      const live = new Map((await listRegistry(path.join(dir, 'registry'))).map((e) => [e.appId, e]));
      const healthy = await Promise.all(
        [live.get(A), live.get(B)].map((e) => (e?.extra?.['appPid'] ? fetch(`http://127.0.0.1:${e.httpPort}/v1.0/healthz`).then((r) => r.status === 204, () => false) : false)),
      );
      if (healthy.every(Boolean)) {
        entries = live;
        break;
      }
      if (Date.now() > deadline) throw new Error(`the run file never became ready:\n${output}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }, 60_000);

  afterAll(async () => {
    if (supervisor && supervisor.exitCode === null) supervisor.kill('SIGKILL');
    for (const e of entries?.values() ?? []) {
      for (const pid of [e.pid, Number(e.extra?.['appPid'])]) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('invokes both ways over mTLS with the caller id taken from the certificate', async () => {
    for (const [from, to] of [[A, B], [B, A]] as const) {
      const res = await fetch(`http://127.0.0.1:${entries.get(from)?.httpPort}/v1.0/invoke/${to}/method/hello`, { method: 'POST', body: 'x' });
      expect(res.status).toBe(200);
      const echo = (await res.json()) as Echo;
      expect(echo.app).toBe(to);
      expect(echo.headers['dapr-caller-app-id']).toBe(from);
    }
    // The sidecar's start-up banner goes to its log file (daprdLogDestination defaults to file).
    const logs = path.join(dir, 'a', '.dapr', 'logs');
    const daprdLog = (await fs.readdir(logs)).find((f) => f.startsWith(`${A}_daprd_`)) ?? '';
    expect(await fs.readFile(path.join(logs, daprdLog), 'utf8')).toContain(`mTLS between sidecars: spiffe://public/ns/default/${A}`);
  });

  it('stops every process on one SIGINT', async () => {
    const pids = [supervisor.pid as number, ...[...entries.values()].flatMap((e) => [e.pid, Number(e.extra?.['appPid'])])];
    const exited = new Promise((resolve) => supervisor.once('exit', resolve));
    supervisor.kill('SIGINT');
    await exited;
    const deadline = Date.now() + 20_000;
    while (pids.some(pidAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(pids.filter(pidAlive)).toEqual([]);
  });
});
