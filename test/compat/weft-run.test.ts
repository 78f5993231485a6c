/**
 * The acceptance criterion, black-box: `weft run --app-id demo -- node app.js` with the
 * unchanged hello-state example and no resources path counts runs in the embedded store, in both
 * SDK protocols; `weft run` returns the app's exit code; Ctrl-C leaves no app process behind.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, removeDir, tempDir } from './support/compat-env.js';
import { WEFT_BIN } from '../support/weft-process.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HELLO_STATE = path.join(REPO, 'examples/hello-state/app.js');

const dirs: string[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) await removeDir(dir);
});

/** A temp app directory outside the repo whose `node_modules` links to the repo's, so `@dapr/dapr` resolves. */
async function appDir(files: Record<string, string>): Promise<string> {
  const dir = await tempDir('run');
  dirs.push(dir);
  await fsp.writeFile(path.join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  await fsp.symlink(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  for (const [name, content] of Object.entries(files)) await fsp.writeFile(path.join(dir, name), content);
  return dir;
}

/** Spawns `weft run` in `cwd`; `output()` is stdout and stderr so far. */
function startWeftRun(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [WEFT_BIN, 'run', ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

/** Runs `weft run` to completion. */
async function weftRun(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  const run = startWeftRun(cwd, args, env);
  const code = await run.exited;
  return { code, output: run.output() };
}

/** True while `pid` is a live process; a zombie left for a non-reaping init counts as gone. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe.each([
  { name: 'HTTP', env: {} },
  { name: 'gRPC', env: { DEMO_PROTOCOL: 'grpc' } },
])('weft run --app-id demo -- node app.js over $name', ({ env }) => {
  it('counts 1 on the first run and 2 on the second, exiting 0 both times', { timeout: 60_000 }, async () => {
    const cwd = await appDir({ 'app.js': await fsp.readFile(HELLO_STATE, 'utf8') });
    const args = ['--app-id', 'demo', '--', process.execPath, 'app.js'];

    const first = await weftRun(cwd, args, env);
    expect(first.output).toContain('this app has run 1 time(s)');
    expect(first.code).toBe(0);

    const second = await weftRun(cwd, args, env);
    expect(second.output).toContain('this app has run 2 time(s)');
    expect(second.code).toBe(0);
    expect(fs.existsSync(path.join(cwd, '.weft', 'state.sqlite'))).toBe(true);
  });
});

it('exits with the app\'s exit code', async () => {
  const cwd = await appDir({ 'fail.js': 'console.log("failing on purpose");\nprocess.exit(3);\n' });
  const result = await weftRun(cwd, ['--app-id', 'fails', '--', process.execPath, 'fail.js']);
  expect(result.output).toContain('failing on purpose');
  expect(result.code).toBe(3);
});

it('stops the app and a grandchild that ignores SIGINT and SIGTERM when weft gets SIGINT', async () => {
  const grandchild = "process.on('SIGINT', () => {}); process.on('SIGTERM', () => {}); setInterval(() => {}, 1000);";
  const app = [
    "import { spawn } from 'node:child_process';",
    `const child = spawn(process.execPath, ['-e', ${JSON.stringify(grandchild)}], { stdio: 'ignore' });`,
    // Announce only once the grandchild runs its code (its handlers are installed by then).
    "setTimeout(() => console.log(`pids ${process.pid} ${child.pid}`), 300);",
    'setInterval(() => {}, 1000);',
  ].join('\n');
  const cwd = await appDir({ 'parent.js': app });
  const run = startWeftRun(cwd, ['--app-id', 'sigint', '--', process.execPath, 'parent.js']);

  let pids: number[] = [];
  const announced = await eventually(async () => {
    const match = /pids (\d+) (\d+)/.exec(run.output());
    if (match) pids = [Number(match[1]), Number(match[2])];
    return match !== null;
  }, 15_000);
  expect(announced, run.output()).toBe(true);
  expect(pids.map(isRunning)).toEqual([true, true]);

  run.child.kill('SIGINT');
  const code = await run.exited;
  // The app died of SIGINT; weft reports it as a shell would (128 + 2).
  expect(code).toBe(130);
  expect(await eventually(async () => !pids.some(isRunning), 5000)).toBe(true);
});
