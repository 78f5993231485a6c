/**
 * Placement without a placement service, with real `weft sidecar` processes sharing one local
 * registry: calls to an actor type hosted by another app go sidecar to sidecar; replicas of an app
 * (sharing a PostgreSQL actor state store) split actor ids, each id on one replica; a one-shot
 * reminder fires once across the replicas; when a replica is killed, its actors and reminders move.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { POSTGRES_URL, SERVICES, requireService } from '../support/services.js';
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

async function tempDir(label: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `weft-actors-${label}-`));
  dirs.push(dir);
  return dir;
}

/** A sidecar with a raw actor app hosting `entities` (none: a sidecar without an app). */
async function start(appId: string, registry: string, entities: string[] | undefined, resources?: string): Promise<{ weft: WeftProcess; app?: RawActorApp }> {
  const dir = await tempDir(appId);
  const args = ['--app-id', appId, '--log-level', 'warn'];
  if (resources) {
    await fs.mkdir(path.join(dir, 'resources'));
    await fs.writeFile(path.join(dir, 'resources', 'store.yaml'), resources);
    args.push('--resources-path', path.join(dir, 'resources'));
  }
  let app: RawActorApp | undefined;
  if (entities) {
    const port = await freePort();
    app = await startRawActorApp(port, { entities });
    apps.push(app);
    args.push('--app-port', String(port));
  }
  const weft = await startWeftSidecar(args, { cwd: dir, env: { WEFT_REGISTRY_DIR: registry } });
  sidecars.push(weft);
  if (app) {
    app.sidecarPort = weft.httpPort;
    await waitForHosted(weft.httpPort, entities?.[0] ?? '');
  }
  return { weft, ...(app ? { app } : {}) };
}

const invoke = (weft: WeftProcess, type: string, id: string, method: string, body: unknown = {}) =>
  fetch(`http://127.0.0.1:${weft.httpPort}/v1.0/actors/${type}/${id}/method/${method}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('actors hosted by another app on this machine', () => {
  it('are called through their app sidecar, with its answers and error codes', async () => {
    const registry = await tempDir('registry');
    const host = await start('placement-host', registry, ['Remote']);
    const caller = await start('placement-caller', registry, undefined);
    const ok = await invoke(caller.weft, 'Remote', 'r1', 'echo', { hello: 'there' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ hello: 'there' });
    expect(host.app?.calls.some((c) => c.path === '/actors/Remote/r1/method/echo' && c.method === 'PUT')).toBe(true);
    const failed = await invoke(caller.weft, 'Remote', 'r1', 'fail');
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ errorCode: 'ERR_ACTOR_INVOKE_METHOD', message: 'error invoke actor method: error from actor service: (500) boom' });
    const missing = await invoke(caller.weft, 'Elsewhere', 'x', 'echo');
    expect(missing.status).toBe(500);
    expect(await missing.json()).toMatchObject({ errorCode: 'ERR_ACTOR_INVOKE_METHOD' });
  });
});

describe('an actor type no sidecar hosts yet', () => {
  it('is looked up again, as daprd retries placement lookups, so a host that comes up meanwhile gets the call', async () => {
    const registry = await tempDir('registry-late');
    const dir = await tempDir('late-caller');
    const caller = await startWeftSidecar(['--app-id', 'late-caller', '--log-level', 'debug'], { cwd: dir, env: { WEFT_REGISTRY_DIR: registry } });
    sidecars.push(caller);
    let openGate = () => {};
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const app = await startRawActorApp(await freePort(), { entities: ['Late'] }, gate);
    apps.push(app);
    const asked = new Promise((resolve) => app.events.once('config', resolve));
    // The host's sidecar is up, but its app has not told it yet which types it hosts.
    const host = await startWeftSidecar(['--app-id', 'late-host', '--log-level', 'warn', '--app-port', String(app.port)], { cwd: await tempDir('late-host'), env: { WEFT_REGISTRY_DIR: registry } });
    sidecars.push(host);
    await asked;
    // daprd's actorRuntime: INITIALIZING (nothing else) until the app's configuration is read; a
    // sidecar without an app runs at once, hosting nothing.
    const runtimeOf = async (weft: WeftProcess) => ((await (await fetch(`http://127.0.0.1:${weft.httpPort}/v1.0/metadata`)).json()) as { actorRuntime: unknown }).actorRuntime;
    expect(await runtimeOf(host)).toEqual({ runtimeStatus: 'INITIALIZING', hostReady: false });
    expect(await runtimeOf(caller)).toEqual({ runtimeStatus: 'RUNNING', hostReady: true, placement: 'placement: connected (weft: local name-resolution registry)' });
    const answer = invoke(caller, 'Late', 'l1', 'echo', { late: true });
    // Once the caller has found no host and is waiting to look again, the host learns its types.
    while (!caller.output().includes('actor type Late is not hosted by any sidecar yet')) await new Promise((r) => setTimeout(r, 20));
    openGate();
    const res = await answer;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ late: true });
  }, 30_000);
});

const pgUp = await requireService(SERVICES.postgres, 'actor placement across replicas on PostgreSQL');

describe.skipIf(!pgUp)('actors across replicas of one app (PostgreSQL actor state store)', () => {
  it('puts each actor id on one replica, fires a one-shot reminder once, and moves both when a replica dies', async () => {
    const registry = await tempDir('registry');
    const table = `weft_actor_state_${randomUUID().slice(0, 8)}`;
    const appId = `rep-${randomUUID().slice(0, 8)}`;
    const store = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: actorstore}
spec:
  type: state.postgresql
  version: v1
  metadata:
  - {name: connectionString, value: "${POSTGRES_URL}"}
  - {name: actorStateStore, value: "true"}
  - {name: tableName, value: ${table}}
  - {name: metadataTableName, value: ${table}_meta}
`;
    const a = await start(appId, registry, ['Rep'], store);
    const b = await start(appId, registry, ['Rep'], store);
    const caller = await start('rep-caller', registry, undefined);
    const ids = Array.from({ length: 12 }, (_, i) => `id${i}`);
    const owner = new Map<string, RawActorApp>();
    for (const id of ids) {
      for (let round = 0; round < 2; round++) {
        for (const via of [caller.weft, a.weft, b.weft]) {
          const r = await invoke(via, 'Rep', id, 'echo', { id });
          if (r.status !== 200) throw new Error(`${r.status} ${await r.text()}`);
        }
      }
      const on = [a.app, b.app].filter((app) => app?.calls.some((c) => c.path === `/actors/Rep/${id}/method/echo`));
      expect(on).toHaveLength(1);
      owner.set(id, on[0] as RawActorApp);
    }
    // Both replicas got some ids (12 ids, rendezvous hashing: all on one side has odds 2^-11).
    expect(new Set(owner.values()).size).toBe(2);

    // One-shot reminders registered through either replica fire once each, on the owner's app.
    const reminderIds = ids.slice(0, 4);
    for (const [i, id] of reminderIds.entries()) {
      const via = i % 2 === 0 ? a.weft : b.weft;
      const res = await fetch(`http://127.0.0.1:${via.httpPort}/v1.0/actors/Rep/${id}/reminders/once`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dueTime: '1s', data: id }) });
      expect(res.status).toBe(204);
    }
    for (const id of reminderIds) await nextCall(owner.get(id) as RawActorApp, (c) => c.path === `/actors/Rep/${id}/method/remind/once`);
    // A later marker reminder: by the time it fired, a duplicate of the earlier ones would have too.
    await fetch(`http://127.0.0.1:${a.weft.httpPort}/v1.0/actors/Rep/marker/reminders/marker`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dueTime: '2s' }) });
    await Promise.race([a.app, b.app].map((app) => nextCall(app as RawActorApp, (c) => c.path === '/actors/Rep/marker/method/remind/marker')));
    for (const id of reminderIds) {
      const fires = [a.app, b.app].flatMap((app) => app?.calls.filter((c) => c.path === `/actors/Rep/${id}/method/remind/once`) ?? []);
      expect(fires).toHaveLength(1);
    }

    // Kill replica A's sidecar: its ids move to B, and a reminder for one of them fires on B.
    const moved = ids.filter((id) => owner.get(id) === a.app);
    const exited = new Promise((resolve) => a.weft.child.once('exit', resolve));
    a.weft.child.kill('SIGKILL');
    await exited;
    const id = moved[0] as string;
    const res = await invoke(caller.weft, 'Rep', id, 'echo', { after: true });
    expect(res.status).toBe(200);
    expect(b.app?.calls.some((c) => c.path === `/actors/Rep/${id}/method/echo` && c.body === '{"after":true}')).toBe(true);
    await fetch(`http://127.0.0.1:${b.weft.httpPort}/v1.0/actors/Rep/${id}/reminders/after`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dueTime: '0s' }) });
    await nextCall(b.app as RawActorApp, (c) => c.path === `/actors/Rep/${id}/method/remind/after`);
  }, 60_000);

  it('keeps each actor id on one replica through leases alone when the replicas share no registry (as on two machines)', async () => {
    const table = `weft_actor_state_${randomUUID().slice(0, 8)}`;
    const appId = `lease-${randomUUID().slice(0, 8)}`;
    const store = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: actorstore}
spec:
  type: state.postgresql
  version: v1
  metadata:
  - {name: connectionString, value: "${POSTGRES_URL}"}
  - {name: actorStateStore, value: "true"}
  - {name: tableName, value: ${table}}
  - {name: metadataTableName, value: ${table}_meta}
`;
    const a = await start(appId, await tempDir('registry-a'), ['Leased'], store);
    const b = await start(appId, await tempDir('registry-b'), ['Leased'], store);
    const meta = (await (await fetch(`http://127.0.0.1:${a.weft.httpPort}/v1.0/metadata`)).json()) as { actorRuntime: { placement: string } };
    expect(meta.actorRuntime.placement).toBe('placement: connected (weft: leases in the shared PostgreSQL of the actor state store)');
    const ids = Array.from({ length: 6 }, (_, i) => `L${i}`);
    for (const id of ids) {
      // The first call claims the lease where it lands; later calls through the other replica follow it.
      const first = id.endsWith('0') || id.endsWith('2') || id.endsWith('4') ? a : b;
      const second = first === a ? b : a;
      for (const via of [first, second, first]) expect((await invoke(via.weft, 'Leased', id, 'echo', { id })).status).toBe(200);
      const on = [a.app, b.app].filter((app) => app?.calls.some((c) => c.path === `/actors/Leased/${id}/method/echo`));
      expect(on).toEqual([first.app]);
    }
    const exited = new Promise((resolve) => a.weft.child.once('exit', resolve));
    a.weft.child.kill('SIGKILL');
    await exited;
    const res = await invoke(b.weft, 'Leased', 'L0', 'echo', { moved: true });
    expect(res.status).toBe(200);
    expect(b.app?.calls.some((c) => c.path === '/actors/Leased/L0/method/echo' && c.body === '{"moved":true}')).toBe(true);
  }, 60_000);
});
