/**
 * `weft run --fresh` runs on a throw-away store: nothing from earlier runs is visible and nothing is
 * left in the data directory afterwards.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEFT_BIN } from '../support/weft-process.js';

// A dependency-free app: increments a counter through the sidecar's HTTP API and prints it.
const COUNTER_APP = `
const base = 'http://127.0.0.1:' + process.env.DAPR_HTTP_PORT + '/v1.0/state/statestore';
const current = await fetch(base + '/runs');
const runs = (current.status === 200 ? await current.json() : 0) + 1;
const saved = await fetch(base, { method: 'POST', body: JSON.stringify([{ key: 'runs', value: runs }]) });
if (saved.status !== 204) { console.error('save failed', saved.status); process.exit(2); }
console.log('RUNS=' + runs);
`;

function runOnce(cwd: string, extra: string[]): { code: number | null; runs: number | undefined; output: string } {
  const result = spawnSync(process.execPath, [WEFT_BIN, 'run', '--app-id', 'counter', ...extra, '--', process.execPath, 'counter.mjs'], {
    cwd,
    encoding: 'utf8',
    timeout: 30_000,
  });
  const output = `${result.stdout}${result.stderr}`;
  const match = /RUNS=(\d+)/.exec(output);
  return { code: result.status, runs: match ? Number(match[1]) : undefined, output };
}

describe('weft run data directory', () => {
  let cwd: string;

  beforeAll(async () => {
    cwd = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-run-'));
    await fs.writeFile(path.join(cwd, 'counter.mjs'), COUNTER_APP);
  });

  afterAll(() => fs.rm(cwd, { recursive: true, force: true }));

  it('keeps state in ./.weft of the working directory across runs', () => {
    expect(runOnce(cwd, []).runs).toBe(1);
    const second = runOnce(cwd, []);
    expect(second.code).toBe(0);
    expect(second.runs).toBe(2);
  });

  it('starts from an empty store with --fresh and leaves ./.weft untouched', async () => {
    const before = await fs.stat(path.join(cwd, '.weft', 'state.sqlite'));
    const fresh = runOnce(cwd, ['--fresh']);
    expect(fresh.code).toBe(0);
    expect(fresh.runs).toBe(1);
    expect(fresh.output).toMatch(/fresh, removed on exit/);
    expect(runOnce(cwd, []).runs).toBe(3);
    expect((await fs.stat(path.join(cwd, '.weft', 'state.sqlite'))).ino).toBe(before.ino);
  });
});
