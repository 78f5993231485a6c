/**
 * Reminders are durable: one registered before the sidecar is killed with SIGKILL fires after a new
 * sidecar starts on the same data directory, exactly once for a one-shot reminder.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { freePort, startWeftSidecar } from '../support/weft-process.js';
import type { WeftProcess } from '../support/weft-process.js';
import { nextCall, startRawActorApp, waitForHosted } from './raw-actor-app.js';
import type { RawActorApp } from './raw-actor-app.js';

let app: RawActorApp | undefined;
let weft: WeftProcess | undefined;
let dir: string | undefined;

afterAll(async () => {
  await weft?.stop();
  await app?.close();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

it('fires a reminder registered before a kill -9 once the sidecar is back, and only once', async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-actors-restart-'));
  const appPort = await freePort();
  app = await startRawActorApp(appPort, { entities: ['Durable'] });
  const args = ['--app-id', 'actors-restart', '--app-port', String(appPort), '--log-level', 'warn'];
  const env = { WEFT_REGISTRY_DIR: path.join(dir, 'registry') };
  weft = await startWeftSidecar(args, { cwd: dir, env });
  await waitForHosted(weft.httpPort, 'Durable');
  const base = `http://127.0.0.1:${weft.httpPort}/v1.0/actors/Durable/d1/reminders`;
  const register = (name: string, dueTime: string, period = '') =>
    fetch(`${base}/${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dueTime, period, data: name }) });
  expect((await register('once', '3s')).status).toBe(204);
  expect((await register('every', '3s', '1s')).status).toBe(204);
  const killed = new Promise((resolve) => weft?.child.once('exit', resolve));
  weft.child.kill('SIGKILL');
  await killed;
  expect(app.calls.filter((c) => c.path.includes('/method/remind/'))).toEqual([]);

  weft = await startWeftSidecar(args, { cwd: dir, env });
  const once = await nextCall(app, (c) => c.path === '/actors/Durable/d1/method/remind/once');
  expect(once.body).toBe('{"data":"once","dueTime":"3s","period":""}');
  // The repeating one keeps firing; by its third fire a duplicate of the one-shot would have come.
  let fires = 0;
  await new Promise<void>((resolve) => {
    const seen = (c: { path: string }) => {
      if (c.path !== '/actors/Durable/d1/method/remind/every') return;
      if (++fires === 3) {
        app?.events.off('call', seen);
        resolve();
      }
    };
    app?.events.on('call', seen);
  });
  expect(app.calls.filter((c) => c.path === '/actors/Durable/d1/method/remind/once')).toHaveLength(1);
  const gone = await fetch(`http://127.0.0.1:${weft.httpPort}/v1.0/actors/Durable/d1/reminders/once`);
  expect(gone.status).toBe(404);
}, 60_000);
