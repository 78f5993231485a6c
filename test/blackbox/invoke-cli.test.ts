/**
 * The CLI around invocation, black-box: `weft run -f <dir>` with one app, then `weft list -o json`,
 * `weft invoke` and `weft stop -f` against it.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pidAlive } from '../../packages/runtime/src/index.js';
import { ECHO_APP } from '../support/echo-app.js';
import type { Echo } from '../support/echo-app.js';
import { WEFT_BIN, freePort } from '../support/weft-process.js';

const run = promisify(execFile);

interface Row {
  appId: string;
  httpPort: number;
  appPort: number;
  daprdPid: number;
  appPid: number;
  command: string;
  runTemplatePath: string;
  appLogPath: string;
}

describe('weft list, invoke and stop', () => {
  const APP = `cli${process.pid}`;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let supervisor: ChildProcess;
  let appPort: number;

  const weft = (...args: string[]) => run(process.execPath, [WEFT_BIN, ...args], { env, cwd: dir });
  const list = async () => JSON.parse((await weft('list', '-o', 'json')).stdout) as Row[];

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-cli-'));
    env = { ...process.env, WEFT_REGISTRY_DIR: path.join(dir, 'registry') };
    appPort = await freePort();
    await fs.mkdir(path.join(dir, 'svc'));
    // dapr.yaml: the name Dapr's CLI looks for is accepted too.
    await fs.writeFile(
      path.join(dir, 'dapr.yaml'),
      `version: 1\napps:\n- appID: ${APP}\n  appDirPath: ./svc\n  appPort: ${appPort}\n  command: ["${process.execPath}", "${ECHO_APP}"]\n`,
    );
    supervisor = spawn(process.execPath, [WEFT_BIN, 'run', '-f', '.'], { env, cwd: dir, stdio: 'ignore' });
    const deadline = Date.now() + 45_000;
    for (;;) {
      const rows = await list().catch(() => []);
      const row = rows.find((r) => r.appId === APP);
      if (row?.appPid) {
        const health = await fetch(`http://127.0.0.1:${row.httpPort}/v1.0/healthz`).catch(() => undefined);
        if (health?.status === 204) break;
      }
      if (Date.now() > deadline) throw new Error('the app never became ready');
      await new Promise((r) => setTimeout(r, 150));
    }
  }, 60_000);

  afterAll(async () => {
    if (supervisor.exitCode === null) supervisor.kill('SIGKILL');
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('lists the running app with its ports, pids, command and run file', async () => {
    const [row] = (await list()).filter((r) => r.appId === APP);
    expect(row).toMatchObject({ appId: APP, appPort, runTemplatePath: path.join(await fs.realpath(dir), 'dapr.yaml') });
    expect(row?.command).toContain('echo-app.mjs');
    expect(pidAlive(row?.appPid ?? 0)).toBe(true);
    expect(row?.appLogPath).toMatch(new RegExp(`svc/\\.dapr/logs/${APP}_app_\\d{14}\\.log$`));
    const table = (await weft('list')).stdout;
    expect(table).toMatch(/^APP ID\s+HTTP PORT/);
    expect(table).toContain(APP);
  });

  it('invokes a method with weft invoke, with data from the command line or a file', async () => {
    const inline = await weft('invoke', '--app-id', APP, '--method', 'orders/new', '--data', '{"n":1}');
    expect(JSON.parse(inline.stdout) as Echo).toMatchObject({ method: 'POST', path: '/orders/new', size: 7 });
    await fs.writeFile(path.join(dir, 'body.json'), '{"from":"file"}');
    const fromFile = await weft('invoke', '-a', APP, '-m', 'put-it', '--verb', 'PUT', '--data-file', path.join(dir, 'body.json'));
    expect(JSON.parse(fromFile.stdout) as Echo).toMatchObject({ method: 'PUT', path: '/put-it', size: 15 });
    await expect(weft('invoke', '-a', APP, '-m', 'status/500')).rejects.toThrow(/status 500/);
    await expect(weft('invoke', '-a', 'nobody', '-m', 'x')).rejects.toThrow(/not running/);
  });

  it('stops the whole run file with weft stop -f and leaves no process behind', async () => {
    const [row] = (await list()).filter((r) => r.appId === APP);
    const exited = new Promise((resolve) => supervisor.once('exit', resolve));
    await weft('stop', '-f', '.');
    await exited;
    const deadline = Date.now() + 10_000;
    while ([row?.daprdPid ?? 0, row?.appPid ?? 0].some(pidAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(pidAlive(row?.daprdPid ?? 0)).toBe(false);
    expect(pidAlive(row?.appPid ?? 0)).toBe(false);
    expect(await list()).toEqual([]);
  });
});
