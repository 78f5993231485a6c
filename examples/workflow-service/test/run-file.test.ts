/**
 * The one-command path: the example's own `weft.yaml`, run with `weft run -f`, starts the service
 * and the task-target app, and the client script's demo completes. The run file is copied with
 * test-only changes (a temp app dir so that data stays out of the repository, free ports, absolute
 * paths to the same commands); everything else is the file as shipped.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { WEFT_BIN, freePort } from '../../../test/support/weft-process.js';
import { EXAMPLE_DIR, TSX_LOADER, spawnProc, waitFor } from './support.js';
import type { Proc } from './support.js';

const exec = promisify(execFile);
let run: Proc | undefined;
let dir = '';

afterAll(async () => {
  await run?.kill();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

it('starts with `weft run -f` on the embedded defaults and runs the demo', async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wfsvc-runfile-'));
  const runFile = parse(await fs.readFile(path.join(EXAMPLE_DIR, 'weft.yaml'), 'utf8')) as { apps: { appID: string; appDirPath: string; appPort?: number; command: string[] }[] };
  expect(runFile.apps.map((a) => a.appID)).toEqual(['workflow-service', 'task-target']);
  const [httpPort, grpcPort, targetPort] = await Promise.all([freePort(), freePort(), freePort()]);
  for (const app of runFile.apps) {
    expect(app.command.slice(0, 3)).toEqual(['node', '--import', 'tsx']);
    app.appDirPath = dir;
    app.command = [process.execPath, '--import', TSX_LOADER, path.join(EXAMPLE_DIR, app.command[3]!)];
    if (app.appID === 'task-target') app.appPort = targetPort;
  }
  await fs.writeFile(path.join(dir, 'weft.yaml'), stringify(runFile));

  run = spawnProc(process.execPath, [WEFT_BIN, 'run', '-f', path.join(dir, 'weft.yaml')], {
    cwd: dir,
    env: { WEFT_REGISTRY_DIR: path.join(dir, 'registry'), HTTP_PORT: String(httpPort), GRPC_PORT: String(grpcPort) },
  });
  const apiUrl = `http://127.0.0.1:${httpPort}`;
  await waitFor('the service started by the run file', async () => ((await fetch(`${apiUrl}/healthz`)).ok ? true : undefined), 120_000, () => run!.output());
  await waitFor('task-target', async () => ((await fetch(`http://127.0.0.1:${targetPort}/status/200`)).ok ? true : undefined), 60_000, () => run!.output());

  const { stdout } = await exec(process.execPath, ['--import', TSX_LOADER, path.join(EXAMPLE_DIR, 'src/client.ts'), 'demo'], {
    env: { ...process.env, API_URL: apiUrl, GRPC_ADDRESS: `127.0.0.1:${grpcPort}` },
    timeout: 90_000,
  });
  expect(stdout).toMatch(/workflow\s+COMPLETED/);
  // The embedded Postgres and the workflow engine's store live in the app dir.
  await expect(fs.stat(path.join(dir, '.data/pglite'))).resolves.toBeTruthy();
  await expect(fs.stat(path.join(dir, '.weft'))).resolves.toBeTruthy();
}, 240_000);
