/**
 * The actor API of a real `weft sidecar` against a hand-written HTTP actor app on the embedded
 * defaults: what the app receives (paths, verbs, callback bodies, reentrancy ids) and daprd's status
 * codes and error codes for each failure.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startWeftSidecar } from '../support/weft-process.js';
import type { WeftProcess } from '../support/weft-process.js';
import { daprGrpcClient } from '../support/grpc-client.js';
import { nextCall, startRawActorApp, waitForHosted } from './raw-actor-app.js';
import type { RawActorApp } from './raw-actor-app.js';

let app: RawActorApp;
let weft: WeftProcess;
let dir: string;
let metricsPort: number;
const url = (p: string) => `http://127.0.0.1:${weft.httpPort}/v1.0/actors${p}`;
const uid = (label: string) => `${label}-${Math.random().toString(36).slice(2, 8)}`;
const put = (p: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url(p), { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-actors-api-'));
  const appPort = await freePort();
  app = await startRawActorApp(appPort, {
    entities: ['Nester', 'Plain'],
    reentrancy: { enabled: true, maxStackDepth: 3 },
    entitiesConfig: [{ entities: ['Plain'], reentrancy: { enabled: false } }],
  });
  metricsPort = await freePort();
  weft = await startWeftSidecar(['--app-id', 'actors-api', '--app-port', String(appPort), '--log-level', 'warn', '--metrics-port', String(metricsPort)], {
    cwd: dir,
    env: { WEFT_REGISTRY_DIR: path.join(dir, 'registry') },
  });
  app.sidecarPort = weft.httpPort;
  await waitForHosted(weft.httpPort, 'Nester');
});

afterAll(async () => {
  await weft?.stop();
  await app?.close();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe('actor invocation', () => {
  it('turns any client verb into PUT /actors/{type}/{id}/method/{m} and returns the app answer', async () => {
    const id = uid('verb');
    const res = await fetch(url(`/Plain/${id}/method/echo`), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"x":1}' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ x: 1 });
    const call = app.calls.find((c) => c.path === `/actors/Plain/${id}/method/echo`);
    expect(call?.method).toBe('PUT');
    const got = await fetch(url(`/Plain/${id}/method/echo`));
    expect(got.status).toBe(200);
  });

  it('lets a call chain re-enter its actor with Dapr-Reentrancy-Id up to maxStackDepth', async () => {
    const id = uid('nest');
    app.nested.length = 0;
    const ok = await put(`/Nester/${id}/method/nest`, { depth: 3 });
    expect(ok.status).toBe(200);
    const ids = new Set(app.calls.filter((c) => c.path === `/actors/Nester/${id}/method/nest`).map((c) => c.headers['dapr-reentrancy-id']));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(/^[0-9a-f-]{36}$/);
    app.nested.length = 0;
    const deep = await put(`/Nester/${uid('deep')}/method/nest`, { depth: 4 });
    expect(deep.status).toBe(500);
    expect(app.nested[0]?.status).toBe(500);
    expect(JSON.parse(app.nested[0]?.body ?? '{}')).toMatchObject({ errorCode: 'ERR_ACTOR_STACK_DEPTH', message: 'maximum stack depth exceeded' });
  });

  it('answers 500 ERR_ACTOR_INVOKE_METHOD with the app answer when the method fails', async () => {
    const res = await put(`/Plain/${uid('fail')}/method/fail`, {});
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ errorCode: 'ERR_ACTOR_INVOKE_METHOD', message: 'error invoke actor method: error from actor service: (500) boom' });
  });

  it('answers 500 ERR_ACTOR_INVOKE_METHOD with daprd text for an actor type no sidecar hosts, after its lookup retries', async () => {
    const res = await put('/Nobody/1/method/x', {});
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({
      errorCode: 'ERR_ACTOR_INVOKE_METHOD',
      message: 'error invoke actor method: failed to lookup actor: api error: code = FailedPrecondition desc = did not find address for actor',
    });
  });
});

describe('actor state', () => {
  it('answers 400 ERR_ACTOR_INSTANCE_MISSING for a transaction on an actor that is not active', async () => {
    const res = await put(`/Plain/${uid('inactive')}/state`, [{ operation: 'upsert', request: { key: 'k', value: 1 } }]);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ errorCode: 'ERR_ACTOR_INSTANCE_MISSING', message: 'actor instance is missing' });
  });

  it('writes and deletes in one transaction for an active actor; GET answers 204 for a missing key', async () => {
    const id = uid('state');
    await put(`/Plain/${id}/method/echo`, {});
    expect((await put(`/Plain/${id}/state`, [{ operation: 'upsert', request: { key: 'a', value: { n: 1 } } }, { operation: 'upsert', request: { key: 'b', value: 'x' } }])).status).toBe(204);
    expect((await put(`/Plain/${id}/state`, [{ operation: 'delete', request: { key: 'b' } }])).status).toBe(204);
    const a = await fetch(url(`/Plain/${id}/state/a`));
    expect(a.status).toBe(200);
    expect(await a.text()).toBe('{"n":1}');
    expect((await fetch(url(`/Plain/${id}/state/b`))).status).toBe(204);
  });

  it("refuses ttlInSeconds without the ActorStateTTL feature, as daprd does", async () => {
    const id = uid('ttl');
    await put(`/Plain/${id}/method/echo`, {});
    const res = await put(`/Plain/${id}/state`, [{ operation: 'upsert', request: { key: 'a', value: 1, metadata: { ttlInSeconds: '10' } } }]);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({
      errorCode: 'ERR_ACTOR_STATE_TRANSACTION_SAVE',
      message: 'error saving actor transaction state: ttlInSeconds is not supported without the "ActorStateTTL" feature enabled',
    });
  });

  it('answers 400 ERR_MALFORMED_REQUEST for a body that is not JSON', async () => {
    const res = await fetch(url('/Plain/x/state'), { method: 'POST', body: '{' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ errorCode: 'ERR_MALFORMED_REQUEST' });
  });
});

describe('timers and reminders', () => {
  it('calls the reminder callback with daprd body, and GET shows the reminder with its raw data', async () => {
    const id = uid('rem');
    expect((await put(`/Plain/${id}/reminders/r1`, { dueTime: '1h', period: 'R3/PT1H', ttl: '3h', data: { x: 1 } })).status).toBe(204);
    const got = await fetch(url(`/Plain/${id}/reminders/r1`));
    expect(got.status).toBe(200);
    const body = (await got.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ actorID: id, actorType: 'Plain', data: { x: 1 }, dueTime: '1h', period: 'R3/PT1H' });
    expect(Date.parse(String(body['ttl'])) - Date.now()).toBeGreaterThan(3.9 * 3_600_000);
    expect((await put(`/Plain/${id}/reminders/r2`, { dueTime: '0s', data: 'hi' })).status).toBe(204);
    const call = await nextCall(app, (c) => c.path === `/actors/Plain/${id}/method/remind/r2`);
    expect(call.method).toBe('PUT');
    expect(call.headers['content-type']).toBe('application/json');
    expect(call.body).toBe('{"data":"hi","dueTime":"0s","period":""}');
  });

  it('calls the timer callback with daprd body', async () => {
    const id = uid('timer');
    expect((await put(`/Plain/${id}/timers/t1`, { dueTime: '0s', callback: 'onTick', data: [1, 2] })).status).toBe(204);
    const call = await nextCall(app, (c) => c.path === `/actors/Plain/${id}/method/timer/t1`);
    expect(call.body).toBe('{"data":[1,2],"callback":"onTick","dueTime":"0s","period":""}');
  });

  it('deletes a repeating reminder whose callback answers X-DaprReminderCancel', async () => {
    const id = uid('cancel');
    await put(`/Plain/${id}/reminders/cancel-me`, { dueTime: '0s', period: '10s' });
    await nextCall(app, (c) => c.path === `/actors/Plain/${id}/method/remind/cancel-me`);
    const deadline = Date.now() + 5000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await fetch(url(`/Plain/${id}/reminders/cancel-me`))).status;
      if (status === 404) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(404);
  });

  it('answers daprd codes for bad reminder and timer requests', async () => {
    const bad = async (res: Response, status: number, body: object) => {
      expect(res.status).toBe(status);
      expect(await res.json()).toMatchObject(body);
    };
    await bad(await put('/Nobody/1/reminders/r', { dueTime: '1s' }), 403, { errorCode: 'ERR_ACTOR_REMINDER_NON_HOSTED', message: 'operations on actor reminders are only possible on hosted actor types' });
    await bad(await put('/Plain/1/reminders/r', { dueTime: '1s', period: 'often' }), 500, { errorCode: 'ERR_ACTOR_REMINDER_CREATE', message: 'error creating actor reminder: invalid reminder period: parse error: unsupported duration format: often' });
    await bad(await put('/Plain/1/reminders/r', { dueTime: '1s', ttl: '-5s' }), 500, { errorCode: 'ERR_ACTOR_REMINDER_CREATE' });
    await bad(await put('/Plain/1/reminders/r', { dueTime: 5 }), 400, { errorCode: 'ERR_MALFORMED_REQUEST' });
    await bad(await put('/Plain/1/reminders/bad%2Fname', { dueTime: '1s' }), 400, { errorCode: 'ERR_BAD_REQUEST' });
    await bad(await fetch(url('/Plain/1/reminders/none')), 404, { errorCode: 'ERR_ACTOR_REMINDER_NOT_FOUND', message: 'actor reminder not found: none' });
    await bad(await put('/Nobody/1/timers/t', { dueTime: '1s' }), 500, { errorCode: 'ERR_ACTOR_TIMER_CREATE', message: "error creating actor timer: can't create timer for actor Nobody||1: actor type not registered" });
    expect((await put('/Plain/2/reminders/keep', { dueTime: '1h' })).status).toBe(204);
    await bad(await put('/Plain/2/reminders/keep', { dueTime: '1h', overwrite: false }), 409, { errorCode: 'ERR_ACTOR_REMINDER_ALREADY_EXISTS', message: 'actor reminder already exists: keep' });
    expect((await fetch(url('/Plain/2/reminders/keep'), { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(url('/Plain/2/reminders/keep'), { method: 'DELETE' })).status).toBe(204);
  });
});

describe('metadata', () => {
  it('lists the hosted types with their active counts and the actor runtime status', async () => {
    const meta = (await (await fetch(`http://127.0.0.1:${weft.httpPort}/v1.0/metadata`)).json()) as Record<string, unknown>;
    expect(meta['actors']).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'Plain' }), expect.objectContaining({ type: 'Nester' })]));
    const runtime = meta['actorRuntime'] as Record<string, unknown>;
    expect(Object.keys(runtime).sort()).toEqual(['activeActors', 'hostReady', 'placement', 'runtimeStatus']);
    expect(runtime).toMatchObject({ runtimeStatus: 'RUNNING', hostReady: true, placement: 'placement: connected (weft: local name-resolution registry)' });
    expect(runtime['activeActors']).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'Plain', count: expect.any(Number) })]));
    const client = daprGrpcClient(weft.grpcPort);
    try {
      const got = await client.call('GetMetadata', {});
      expect(got.reply?.['actor_runtime']).toMatchObject({ runtime_status: 'RUNNING', host_ready: true, placement: 'placement: connected (weft: local name-resolution registry)' });
    } finally {
      client.close();
    }
  });
});

describe('the gRPC actor API', () => {
  it('invokes, runs state transactions and reads reminders with daprd status codes', async () => {
    const client = daprGrpcClient(weft.grpcPort);
    try {
      const id = uid('grpc');
      const invoked = await client.call('InvokeActor', { actor_type: 'Plain', actor_id: id, method: 'echo', data: Buffer.from('{"g":1}') });
      expect(invoked.error).toBeUndefined();
      expect(Buffer.from(invoked.reply?.['data'] as Buffer).toString()).toBe('{"g":1}');
      const tx = await client.call('ExecuteActorStateTransaction', {
        actor_type: 'Plain',
        actor_id: id,
        operations: [{ operationType: 'upsert', key: 'k', value: { type_url: '', value: Buffer.from('raw bytes') } }],
      });
      expect(tx.error).toBeUndefined();
      const state = await client.call('GetActorState', { actor_type: 'Plain', actor_id: id, key: 'k' });
      expect(Buffer.from(state.reply?.['data'] as Buffer).toString()).toBe('raw bytes');
      const missing = await client.call('ExecuteActorStateTransaction', { actor_type: 'Plain', actor_id: uid('cold'), operations: [{ operationType: 'delete', key: 'k' }] });
      expect(missing.error?.code).toBe(13);
      expect(missing.error?.metadata.get('dapr-error-code')).toEqual(['ERR_ACTOR_INSTANCE_MISSING']);
      const unknown = await client.call('InvokeActor', { actor_type: 'Nobody', actor_id: '1', method: 'x' });
      // daprd passes the wrapped placement error's FailedPrecondition status through on gRPC.
      expect(unknown.error?.code).toBe(9);
      expect(unknown.error?.details).toBe('failed to lookup actor: api error: code = FailedPrecondition desc = did not find address for actor');
      expect((await client.call('RegisterActorReminder', { actor_type: 'Plain', actor_id: id, name: 'g', due_time: '1h', data: Buffer.from('hi') })).error).toBeUndefined();
      const got = await client.call('GetActorReminder', { actor_type: 'Plain', actor_id: id, name: 'g' });
      expect(got.reply).toMatchObject({ actor_type: 'Plain', actor_id: id, due_time: '1h' });
      // daprd keeps gRPC data as the JSON string of its base64, wrapped in a BytesValue.
      const any = got.reply?.['data'] as { type_url: string; value: Buffer };
      expect(any.type_url).toBe('type.googleapis.com/google.protobuf.BytesValue');
      expect(Buffer.from(any.value).subarray(2).toString()).toBe(JSON.stringify(Buffer.from('hi').toString('base64')));
      const none = await client.call('GetActorReminder', { actor_type: 'Plain', actor_id: id, name: 'none' });
      expect(none.error?.code).toBe(5);
      const nonHosted = await client.call('RegisterActorReminder', { actor_type: 'Nobody', actor_id: id, name: 'g', due_time: '1h' });
      expect(nonHosted.error?.code).toBe(7);
    } finally {
      client.close();
    }
  });
});

describe('listing and removing reminders by type over gRPC (daprd 1.17 RPCs in the @dapr/dapr protos)', () => {
  it('lists the reminders of a type or of one actor and removes them by type or actor, as daprd answers', async () => {
    const client = daprGrpcClient(weft.grpcPort);
    try {
      const [a, b] = [uid('la'), uid('lb')];
      for (const [id, name] of [[a, 'r1'], [a, 'r2'], [b, 'r1']] as const) {
        const made = await client.call('RegisterActorReminder', { actor_type: 'Nester', actor_id: id, name, due_time: '1h', period: 'PT1H', ttl: '2h', data: Buffer.from('x') });
        expect(made.error).toBeUndefined();
      }
      const mine = (list: unknown) => ((list as { reminders: { name: string; reminder: { actor_id: string } }[] }).reminders ?? []).filter((r) => [a, b].includes(r.reminder.actor_id));
      const all = await client.call('ListActorReminders', { actor_type: 'Nester' });
      expect(all.error).toBeUndefined();
      const listed = mine(all.reply);
      expect(listed.map((r) => `${r.reminder.actor_id}/${r.name}`).sort()).toEqual([`${a}/r1`, `${a}/r2`, `${b}/r1`].sort());
      const one = listed.find((r) => r.reminder.actor_id === a && r.name === 'r1') as unknown as { reminder: Record<string, unknown> };
      // daprd's list carries no ttl (its scheduler list does not return the expiry).
      expect(one.reminder).toMatchObject({ actor_type: 'Nester', actor_id: a, due_time: '1h', period: 'PT1H' });
      expect(one.reminder['ttl'] ?? undefined).toBeUndefined();
      expect((one.reminder['data'] as { type_url: string }).type_url).toBe('type.googleapis.com/google.protobuf.BytesValue');

      const ofA = await client.call('ListActorReminders', { actor_type: 'Nester', actor_id: a });
      expect(mine(ofA.reply).map((r) => r.name).sort()).toEqual(['r1', 'r2']);

      expect((await client.call('UnregisterActorRemindersByType', { actor_type: 'Nester', actor_id: a })).error).toBeUndefined();
      expect(mine((await client.call('ListActorReminders', { actor_type: 'Nester' })).reply).map((r) => r.reminder.actor_id)).toEqual([b]);
      expect((await client.call('UnregisterActorRemindersByType', { actor_type: 'Nester' })).error).toBeUndefined();
      expect(mine((await client.call('ListActorReminders', { actor_type: 'Nester' })).reply)).toEqual([]);
      expect((await fetch(url(`/Nester/${b}/reminders/r1`))).status).toBe(404);

      for (const rpc of ['ListActorReminders', 'UnregisterActorRemindersByType']) {
        const nonHosted = await client.call(rpc, { actor_type: 'Nobody' });
        expect(nonHosted.error?.code).toBe(7);
        expect(nonHosted.error?.metadata.get('dapr-error-code')).toEqual(['ERR_ACTOR_REMINDER_NON_HOSTED']);
      }
    } finally {
      client.close();
    }
  });
});

describe('actor metrics', () => {
  it("exposes daprd's actor metric names with app_id and actor_type", async () => {
    const id = uid('metrics');
    await put(`/Plain/${id}/reminders/m`, { dueTime: '0s' });
    await nextCall(app, (c) => c.path === `/actors/Plain/${id}/method/remind/m`);
    const deadline = Date.now() + 5000;
    let text = '';
    while (Date.now() < deadline) {
      text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      if (/dapr_runtime_actor_reminders_fired_total\{app_id="actors-api",actor_type="Plain",success="true"\} [1-9]/.test(text)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(text).toMatch(/dapr_runtime_actor_reminders_fired_total\{app_id="actors-api",actor_type="Plain",success="true"\} [1-9]/);
    expect(text).toMatch(/dapr_runtime_actor_timers_fired_total\{app_id="actors-api",actor_type="Plain",success="true"\} [1-9]/);
    expect(text).toContain('# TYPE dapr_runtime_actor_pending_actor_calls gauge');
  });
});
