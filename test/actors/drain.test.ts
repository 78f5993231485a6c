/**
 * Draining actors (the app's `drainRebalancedActors` and `drainOngoingCallTimeout`) with real `weft
 * sidecar` processes and a hand-written actor app whose `hold` method answers only when the test says:
 * on shutdown and when a replica joins and takes over some actor ids, a halted actor's ongoing call
 * finishes before the app gets `DELETE /actors/{type}/{id}`; without draining, the DELETE comes at once.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startWeftSidecar } from '../support/weft-process.js';
import type { WeftProcess } from '../support/weft-process.js';
import { nextCall, startRawActorApp, waitForHosted } from './raw-actor-app.js';
import type { RawActorApp } from './raw-actor-app.js';

const sidecars: WeftProcess[] = [];
const apps: RawActorApp[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const s of sidecars) await s.stop();
  for (const a of apps) await a.close();
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

async function start(appId: string, registry: string, config: Record<string, unknown>, graceSeconds = 60): Promise<{ weft: WeftProcess; app: RawActorApp }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `weft-drain-${appId}-`));
  dirs.push(dir);
  const app = await startRawActorApp(await freePort(), config);
  apps.push(app);
  const weft = await startWeftSidecar(['--app-id', appId, '--log-level', 'info', '--app-port', String(app.port), '--dapr-graceful-shutdown-seconds', String(graceSeconds)], { cwd: dir, env: { WEFT_REGISTRY_DIR: registry } });
  sidecars.push(weft);
  app.sidecarPort = weft.httpPort;
  await waitForHosted(weft.httpPort, (config['entities'] as string[])[0] ?? '');
  return { weft, app };
}

const invoke = (weft: WeftProcess, type: string, id: string, method: string) =>
  fetch(`http://127.0.0.1:${weft.httpPort}/v1.0/actors/${type}/${id}/method/${method}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });

async function registry(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-drain-registry-'));
  dirs.push(dir);
  return dir;
}

async function waitForOutput(weft: WeftProcess, text: string): Promise<void> {
  while (!weft.output().includes(text)) await new Promise((r) => setTimeout(r, 20));
}

const deleted = (app: RawActorApp, type: string, id: string) => app.calls.some((c) => c.method === 'DELETE' && c.path === `/actors/${type}/${id}`);

describe('on shutdown', () => {
  it('with drainRebalancedActors, lets the ongoing call finish before the app gets DELETE', async () => {
    const { weft, app } = await start('drain-on', await registry(), { entities: ['Drained'], drainRebalancedActors: true, drainOngoingCallTimeout: '30s' });
    const answer = invoke(weft, 'Drained', 'd1', 'hold');
    await nextCall(app, (c) => c.path === '/actors/Drained/d1/method/hold');
    const stopped = weft.stop();
    await waitForOutput(weft, 'draining Drained||d1 (shutdown)');
    expect(deleted(app, 'Drained', 'd1')).toBe(false);
    app.release('d1');
    const res = await answer;
    expect(res.status).toBe(200);
    expect(await res.json()).toBe('released');
    await nextCall(app, (c) => c.method === 'DELETE' && c.path === '/actors/Drained/d1');
    await stopped;
  }, 30_000);

  it('drains for no longer than the graceful shutdown period (--dapr-graceful-shutdown-seconds)', async () => {
    const { weft, app } = await start('drain-cap', await registry(), { entities: ['Capped'], drainRebalancedActors: true, drainOngoingCallTimeout: '10m' }, 1);
    const answer = invoke(weft, 'Capped', 'c1', 'hold').catch(() => undefined);
    await nextCall(app, (c) => c.path === '/actors/Capped/c1/method/hold');
    const stopped = weft.stop();
    // The call is never released: the DELETE comes once the grace period is over.
    await nextCall(app, (c) => c.method === 'DELETE' && c.path === '/actors/Capped/c1');
    expect(weft.output()).toContain('draining Capped||c1 (shutdown): waiting up to 1000ms');
    app.release('c1');
    await answer;
    await stopped;
  }, 30_000);

  it('without it (the default, as daprd), sends DELETE while the call still runs', async () => {
    const { weft, app } = await start('drain-off', await registry(), { entities: ['Undrained'] });
    const answer = invoke(weft, 'Undrained', 'u1', 'hold').catch(() => undefined);
    await nextCall(app, (c) => c.path === '/actors/Undrained/u1/method/hold');
    const stopped = weft.stop();
    await nextCall(app, (c) => c.method === 'DELETE' && c.path === '/actors/Undrained/u1');
    app.release('u1');
    await answer;
    await stopped;
    expect(weft.output()).not.toContain('draining Undrained||u1');
  }, 30_000);
});

describe('when a replica joins (local registry)', () => {
  it('deactivates the actors placement moves to it, after their ongoing calls, and their calls then go there', async () => {
    const shared = await registry();
    const config = { entities: ['Bal'], drainRebalancedActors: true, drainOngoingCallTimeout: '30s' };
    const a = await start('bal', shared, config);
    const ids = Array.from({ length: 12 }, (_, i) => `b${i}`);
    // Every id is active on A (the only host), each with a call in progress.
    const answers = ids.map((id) => invoke(a.weft, 'Bal', id, 'hold'));
    for (const id of ids) await nextCall(a.app, (c) => c.path === `/actors/Bal/${id}/method/hold`);

    const b = await start('bal', shared, config);
    // A sees B in the registry and drains the ids that now belong to B.
    await waitForOutput(a.weft, '(rebalance)');
    const drainingOf = () => ids.filter((id) => a.weft.output().includes(`draining Bal||${id} (rebalance)`));
    expect(drainingOf().length).toBeGreaterThan(0);
    for (const id of drainingOf()) expect(deleted(a.app, 'Bal', id)).toBe(false);
    for (const id of ids) a.app.release(id);
    for (const res of await Promise.all(answers)) expect(res.status).toBe(200);
    const draining = drainingOf();
    for (const id of draining) await nextCall(a.app, (c) => c.method === 'DELETE' && c.path === `/actors/Bal/${id}`);

    // A moved id now runs on B; an id that stayed still runs on A.
    const movedId = draining[0] as string;
    expect((await invoke(a.weft, 'Bal', movedId, 'echo')).status).toBe(200);
    expect(b.app.calls.some((c) => c.path === `/actors/Bal/${movedId}/method/echo`)).toBe(true);
    const stayed = ids.find((id) => !draining.includes(id) && !deleted(a.app, 'Bal', id));
    if (stayed) {
      expect((await invoke(b.weft, 'Bal', stayed, 'echo')).status).toBe(200);
      expect(a.app.calls.some((c) => c.path === `/actors/Bal/${stayed}/method/echo`)).toBe(true);
    }
  }, 60_000);
});
