/** Black-box: `weft sidecar --config` with a bad file exits 1 naming the file and the field. */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { WEFT_BIN, freePort } from '../support/weft-process.js';

it('exits 1 and names the file and field of a bad --config', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-badconfig-'));
  try {
    const file = path.join(dir, 'config.yaml');
    await fs.writeFile(file, 'apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: c}\nspec:\n  tracing: {samplingRate: "often"}\n');
    const [http, grpc] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [WEFT_BIN, 'sidecar', '--config', file, '--dapr-http-port', String(http), '--dapr-grpc-port', String(grpc), '--metrics-port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(output).toContain(`${file}: spec.tracing.samplingRate: expected a number between "0" and "1", got "often"`);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
