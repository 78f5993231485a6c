/**
 * Weft in your own project: the packages as npm would publish them (`npm pack`), installed into an
 * empty project outside the repository with `npm install <tarballs>`, must give a working `weft`:
 * `--version`, `weft run` of a one-file app on the official SDK, and `weft workflow list`.
 *
 * One install serves every case (better-sqlite3 may build from source: about a minute with a C++
 * toolchain). It uses the machine's npm cache and the npm registry for third-party packages only.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/weft-process.js';

const run = promisify(execFile);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SDK_VERSION = '3.18.0';

/** A one-file app on the official SDK: saves and reads state through the sidecar, then exits. */
const APP = `
import { DaprClient } from '@dapr/dapr';
const client = new DaprClient({ daprHost: '127.0.0.1', daprPort: process.env.DAPR_HTTP_PORT });
await client.state.save('statestore', [{ key: 'greeting', value: { hello: 'world' } }]);
const value = await client.state.get('statestore', 'greeting');
console.log('GOT=' + JSON.stringify(value));
process.exit(0);
`;

describe('packed packages installed into an empty project', () => {
  let project: string;
  let env: NodeJS.ProcessEnv;

  /** Runs the installed `weft` from the project, with no path back to the repository. */
  function weft(args: string[], timeout = 120_000) {
    return run(path.join(project, 'node_modules', '.bin', 'weft'), args, { cwd: project, env, timeout });
  }

  beforeAll(async () => {
    for (const pkg of ['runtime', 'dashboard', 'cli']) {
      await fs.access(path.join(REPO, 'packages', pkg, 'dist')).catch(() => {
        throw new Error(`packages/${pkg}/dist is missing: run "npm run build" first (npm test does)`);
      });
    }
    project = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-packed-'));
    const tarballs = path.join(project, 'tarballs');
    await fs.mkdir(tarballs);
    execFileSync('npm', ['pack', '--silent', '--pack-destination', tarballs, '-w', 'packages/runtime', '-w', 'packages/dashboard', '-w', 'packages/cli'], {
      cwd: REPO,
      stdio: 'pipe',
    });
    const packed = (await fs.readdir(tarballs)).map((f) => path.join(tarballs, f));
    expect(packed).toHaveLength(3);
    const app = path.join(project, 'app');
    await fs.mkdir(app);
    // better-sqlite3 needs its install script (prebuilt binary or a source build); protobufjs's is optional.
    await fs.writeFile(
      path.join(app, 'package.json'),
      JSON.stringify({ name: 'my-app', version: '1.0.0', private: true, type: 'module', allowScripts: { 'better-sqlite3': true, protobufjs: false } }),
    );
    await fs.writeFile(path.join(app, 'app.mjs'), APP);
    project = app;
    // Nothing from the repository may leak in: no NODE_PATH, no workspace, a registry of our own.
    const { NODE_PATH: _nodePath, npm_config_workspace: _ws, INIT_CWD: _init, ...rest } = process.env;
    env = { ...rest, WEFT_REGISTRY_DIR: path.join(project, '.registry'), CI: 'true' };
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...packed, `@dapr/dapr@${SDK_VERSION}`], {
      cwd: project,
      env,
      timeout: 14 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
  }, 15 * 60_000);

  afterAll(async () => {
    if (project) await fs.rm(path.dirname(project), { recursive: true, force: true });
  });

  it('installs @weft/cli with @weft/runtime from the tarballs, outside the repository', async () => {
    const cli = JSON.parse(await fs.readFile(path.join(project, 'node_modules/@weft/cli/package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(cli.dependencies['@weft/runtime']).toBeDefined();
    expect(await fs.realpath(path.join(project, 'node_modules/@weft/runtime'))).not.toContain(REPO);
    // Built output only: no TypeScript sources, no tests.
    const files = await fs.readdir(path.join(project, 'node_modules/@weft/runtime'), { recursive: true });
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => /\.test\./.test(f))).toEqual([]);
  });

  it('answers npx weft --version', async () => {
    const { stdout } = await run('npx', ['weft', '--version'], { cwd: project, env, timeout: 120_000 });
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('runs a one-file app on @dapr/dapr with weft run', async () => {
    const { stdout } = await weft(['run', '--app-id', 'my-app', '--', process.execPath, 'app.mjs']);
    expect(stdout).toContain('GOT={"hello":"world"}');
  }, 180_000);

  it('serves the dashboard with weft dashboard (its built assets ship in the packages)', async () => {
    const port = await freePort();
    const child = spawn(path.join(project, 'node_modules', '.bin', 'weft'), ['dashboard', '--port', String(port), '--no-discover'], { cwd: project, env, stdio: 'ignore' });
    try {
      let page = '';
      for (const deadline = Date.now() + 60_000; Date.now() < deadline && !page; ) {
        page = await fetch(`http://127.0.0.1:${port}/`).then((r) => (r.ok ? r.text() : ''), () => '');
        if (!page) await new Promise((r) => setTimeout(r, 200));
      }
      expect(page).toContain('<div id="root">');
    } finally {
      child.kill('SIGTERM');
    }
  }, 120_000);

  it('lists workflows of the app\'s embedded store with weft workflow list', async () => {
    const { stdout } = await weft(['workflow', 'list', '--app-id', 'my-app', '--data-dir', '.weft']);
    expect(stdout).toMatch(/INSTANCE ID\s+WORKFLOW\s+STATUS/);
  }, 120_000);
});
