/**
 * The one-command start: `weft run -f` with the example's run file starts the four services beside
 * their sidecars on the embedded SQLite stores, and the seed-data and smoke-test scripts pass against
 * it. The run file and components are the shipped ones, rewritten only for free ports and a temp
 * database file, so parallel runs never collide.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { WEFT_BIN, freePort } from '../../../test/support/weft-process.js';
import { SERVICE_NAMES, SHOP_DIR } from './support/shop-stack.js';

interface RunFileApp {
  appID: string;
  appDirPath: string;
  appPort: number;
  command: string[];
}

let tmp: string;
let child: ChildProcess | undefined;
let output = '';
const urls: Record<string, string> = {};
const env = (): NodeJS.ProcessEnv => ({
  ...process.env,
  WEFT_REGISTRY_DIR: path.join(tmp, 'registry'),
  ...Object.fromEntries(SERVICE_NAMES.map((s) => [`${s.toUpperCase()}_URL`, urls[s]])),
});

/** Runs one of the example's scripts to completion. */
function runScript(script: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(SHOP_DIR, 'scripts', script)], {
    cwd: SHOP_DIR,
    env: env(),
    encoding: 'utf8',
    timeout: 120_000,
  });
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-shop-run-'));
  const resources = path.join(tmp, 'components');
  fs.mkdirSync(resources);
  for (const file of fs.readdirSync(path.join(SHOP_DIR, 'components/local'))) {
    const text = fs.readFileSync(path.join(SHOP_DIR, 'components/local', file), 'utf8');
    fs.writeFileSync(path.join(resources, file), text.replace('".data/shop.db"', JSON.stringify(path.join(tmp, 'shop.db'))));
  }
  const runFile = parse(fs.readFileSync(path.join(SHOP_DIR, 'weft.yaml'), 'utf8')) as { common: Record<string, unknown>; apps: RunFileApp[] };
  runFile.common['resourcesPath'] = resources;
  for (const app of runFile.apps) {
    app.appDirPath = SHOP_DIR;
    app.appPort = await freePort();
    urls[app.appID] = `http://127.0.0.1:${app.appPort}`;
  }
  expect(runFile.apps.map((a) => a.appID).sort()).toEqual([...SERVICE_NAMES].sort());
  fs.writeFileSync(path.join(tmp, 'weft.yaml'), stringify(runFile));
  child = spawn(process.execPath, [WEFT_BIN, 'run', '-f', path.join(tmp, 'weft.yaml')], {
    env: env(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 90_000;
  for (const service of SERVICE_NAMES) {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`weft run exited with ${child.exitCode}:\n${output}`);
      const ok = await fetch(`${urls[service]}/health`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`${service} did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (child?.pid) process.kill(-child.pid, 'SIGKILL');
    }, 20_000);
    await exited;
    clearTimeout(timer);
  }
  // The run's logs stay in examples/shop/.dapr/logs (git-ignored), as Dapr's CLI writes them.
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}, 60_000);

describe('weft run -f examples/shop', () => {
  it('loads the initial data, twice without harm', () => {
    const first = runScript('load-initial-data.ts');
    expect(first.status, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toContain('customers 1: created');
    const second = runScript('load-initial-data.ts');
    expect(second.status, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).toContain('customers 1: already there');
    expect(second.stdout).toContain('products 1: updated');
  });

  it('passes the API smoke test', () => {
    const result = runScript('test-apis.ts');
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/\n\d+ passed, 0 failed/);
    expect(result.stdout).not.toContain('✘');
  });

  it('keeps the data in the embedded SQLite file, a table per service', async () => {
    const res = await fetch(`${urls['customers']}/customers/1`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { customerName: string }).customerName).toBe('Ada Lovelace');
    expect(fs.existsSync(path.join(tmp, 'shop.db'))).toBe(true);
    expect(output).toMatch(/customers-store/);
  });
});
