/**
 * Black-box: the real, built `weft sidecar` refuses a bad resources folder at start-up, exits non-zero
 * and says which file and which field are wrong. Needs `npm run build` (as `npm test` does).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WEFT_BIN, freePort } from '../../../../test/support/weft-process.js';

let dir: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-bad-resources-'));
});

afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Runs `weft sidecar --resources-path dir` to completion; kills it if it is still up after 15 s. */
async function runSidecar(resourcesDir: string): Promise<{ code: number | null; output: string }> {
  const args = [
    WEFT_BIN,
    'sidecar',
    '--app-id',
    'bad-resources',
    '--dapr-http-port',
    String(await freePort()),
    '--dapr-grpc-port',
    String(await freePort()),
    '--metrics-port',
    String(await freePort()),
    '--resources-path',
    resourcesDir,
  ];
  const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(killer);
  return { code, output };
}

describe('weft sidecar with a bad resources folder', () => {
  it('exits non-zero and prints the file and the missing spec.type', async () => {
    const file = path.join(dir, 'statestore.yaml');
    await fs.writeFile(file, 'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\nspec:\n  version: v1\n');
    const { code, output } = await runSidecar(dir);
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(output).toContain(file);
    expect(output).toContain('spec.type');
  });

  it('exits non-zero and prints the file and the driver field for bad driver metadata', async () => {
    const file = path.join(dir, 'db.yml');
    await fs.writeFile(file, 'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: db\nspec:\n  type: state.sqlite\n  version: v1\n');
    const { code, output } = await runSidecar(dir);
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(output).toContain(file);
    expect(output).toContain('connectionString');
  });
});
