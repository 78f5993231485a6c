/**
 * The Weft admin API over HTTP against in-process sidecars: state keys by prefix with paging, values,
 * etags and TTLs; recent pub/sub traffic with outcomes; dead-letter replay; workflow rerun from a step;
 * the API token guard.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSidecar } from '../../../../test/support/in-process.js';
import type { TestSidecar } from '../../../../test/support/in-process.js';
import { startSubscriberApp } from '../../../../test/support/subscriber-app.js';
import type { SubscriberApp } from '../../../../test/support/subscriber-app.js';
import type { AdminStateKeysPage, DeadLetterEntry, PubSubTrafficEntry } from '../../src/index.js';
import { DaprWorkflowClient, WorkflowRuntime } from '@dapr/dapr';
import type { TWorkflow, WorkflowActivityContext, WorkflowContext } from '@dapr/dapr';
import { call, errorCodeOf } from './http-client.js';

const component = (name: string, type: string) =>
  `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\nspec:\n  type: ${type}\n  version: v1\n` +
  (type === 'state.sqlite' ? '  metadata:\n    - name: connectionString\n      value: ":memory:"\n' : '');

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(['state.sqlite', 'state.in-memory'])('admin state keys on %s', (type) => {
  let s: TestSidecar;
  beforeAll(async () => {
    s = await startTestSidecar({ resources: [component('store', type)] });
    const items = Array.from({ length: 7 }, (_, i) => ({ key: `order-${i}`, value: { n: i } }));
    items.push({ key: 'other', value: { n: 99 } });
    expect((await call(s.baseUrl, 'POST', '/v1.0/state/store', items)).status).toBe(204);
    await call(s.baseUrl, 'POST', '/v1.0/state/store', [{ key: 'order-ttl', value: 'soon', metadata: { ttlInSeconds: '3600' } }]);
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('lists keys by prefix in pages without the app-id prefix, with value and etag', async () => {
    const first = (await call(s.baseUrl, 'GET', '/v1.0-weft/admin/state/store/keys?prefix=order-&limit=5')).json as AdminStateKeysPage;
    expect(first.keys.map((k) => k.key)).toEqual(['order-0', 'order-1', 'order-2', 'order-3', 'order-4']);
    expect(first.next).toBe('order-4');
    expect(first.keys[2]).toMatchObject({ value: '{"n":2}', size: 7, truncated: false });
    const got = await call(s.baseUrl, 'GET', '/v1.0/state/store/order-2');
    expect(first.keys[2]?.etag).toBe(got.headers.get('etag'));
    const second = (await call(s.baseUrl, 'GET', `/v1.0-weft/admin/state/store/keys?prefix=order-&limit=5&after=${first.next}`)).json as AdminStateKeysPage;
    expect(second.keys.map((k) => k.key)).toEqual(['order-5', 'order-6', 'order-ttl']);
    expect(second.next).toBeUndefined();
    expect(Date.parse(second.keys[2]?.ttlExpireTime ?? '')).toBeGreaterThan(Date.now());
  });

  it('cuts long values at maxValueBytes and says so', async () => {
    const page = (await call(s.baseUrl, 'GET', '/v1.0-weft/admin/state/store/keys?prefix=order-1&maxValueBytes=3')).json as AdminStateKeysPage;
    expect(page.keys[0]).toMatchObject({ key: 'order-1', value: '{"n', truncated: true, size: 7 });
  });

  it('answers 400 for a bad limit and 404 for an unknown store', async () => {
    expect(errorCodeOf(await call(s.baseUrl, 'GET', '/v1.0-weft/admin/state/store/keys?limit=x'))).toBe('ERR_BAD_REQUEST');
    expect((await call(s.baseUrl, 'GET', '/v1.0-weft/admin/state/nope/keys')).status).toBe(400);
  });
});

describe('admin pub/sub traffic and dead-letter replay', () => {
  let s: TestSidecar;
  let app: SubscriberApp;
  const ps = `ps${Math.random().toString(36).slice(2, 8)}`;
  let dropFirst = true;

  beforeAll(async () => {
    app = await startSubscriberApp([
      { pubsubname: ps, topic: 'orders', route: '/orders', deadLetterTopic: 'orders-dead' },
      { pubsubname: ps, topic: 'orders-dead', route: '/dead' },
    ]);
    app.reply((d) => (d.path === '/orders' && dropFirst ? { json: { status: 'DROP' } } : { json: { status: 'SUCCESS' } }));
    s = await startTestSidecar({ resources: [component(ps, 'pubsub.in-memory')], appPort: app.port, apiToken: 'tok' });
    await eventually(
      async () => ((await call(s.baseUrl, 'GET', '/v1.0/metadata', undefined, { 'dapr-api-token': 'tok' })).json as { subscriptions: unknown[] }).subscriptions.length,
      (n) => n === 2,
      'subscriptions',
    );
  });
  afterAll(async () => {
    await s?.stop();
    await app?.close();
  });

  const auth = { 'dapr-api-token': 'tok' };

  it('refuses every admin route without the API token', async () => {
    for (const [method, route] of [
      ['GET', '/v1.0-weft/admin/info'],
      ['GET', '/v1.0-weft/admin/state/store/keys'],
      ['GET', '/v1.0-weft/admin/pubsub/traffic'],
      ['GET', '/v1.0-weft/admin/pubsub/deadletters'],
      ['POST', '/v1.0-weft/admin/pubsub/deadletters/x/replay'],
      ['GET', '/v1.0-weft/admin/logs'],
      ['POST', '/v1.0-weft/admin/workflows/x/rerun'],
    ] as const) {
      expect((await call(s.baseUrl, method, route)).status, route).toBe(401);
      expect((await call(s.baseUrl, method, route, undefined, { 'dapr-api-token': 'wrong' })).status, route).toBe(401);
    }
    expect((await call(s.baseUrl, 'GET', '/v1.0-weft/admin/info', undefined, auth)).status).toBe(200);
  });

  it('records a dropped event as dead-lettered and replays it to its topic', async () => {
    await call(s.baseUrl, 'POST', `/v1.0/publish/${ps}/orders`, { order: 42 }, auth);
    const deadLetters = await eventually(
      async () => ((await call(s.baseUrl, 'GET', '/v1.0-weft/admin/pubsub/deadletters', undefined, auth)).json as { deadLetters: DeadLetterEntry[] }).deadLetters,
      (d) => d.length === 1,
      'a dead letter',
    );
    expect(deadLetters[0]).toMatchObject({ topic: 'orders', deadLetterTopic: 'orders-dead', payload: '{"order":42}', replays: 0 });
    const traffic = ((await call(s.baseUrl, 'GET', '/v1.0-weft/admin/pubsub/traffic?topic=orders', undefined, auth)).json as { entries: PubSubTrafficEntry[] }).entries;
    expect(traffic.map((e) => e.outcome)).toEqual(['deadlettered', 'drop']);
    expect(traffic[1]).toMatchObject({ route: '/orders', payload: '{"order":42}' });

    dropFirst = false;
    const replay = await call(s.baseUrl, 'POST', `/v1.0-weft/admin/pubsub/deadletters/${deadLetters[0]!.id}/replay`, undefined, auth);
    expect(replay.status).toBe(200);
    expect(replay.json).toMatchObject({ topic: 'orders', replays: 1 });
    await app.waitFor((d) => d.filter((x) => x.path === '/orders').length === 2);
    const after = ((await call(s.baseUrl, 'GET', '/v1.0-weft/admin/pubsub/traffic?topic=orders', undefined, auth)).json as { entries: PubSubTrafficEntry[] }).entries;
    expect(after[0]).toMatchObject({ outcome: 'success', eventId: deadLetters[0]!.eventId });
  });

  it('answers 404 ERR_ADMIN_DEAD_LETTER_NOT_FOUND for an unknown dead letter', async () => {
    const res = await call(s.baseUrl, 'POST', '/v1.0-weft/admin/pubsub/deadletters/nope/replay', undefined, auth);
    expect(res.status).toBe(404);
    expect(errorCodeOf(res)).toBe('ERR_ADMIN_DEAD_LETTER_NOT_FOUND');
  });
});

const double = async (_: WorkflowActivityContext, n: number): Promise<number> => n * 2;
const doubleTwice: TWorkflow = async function* (ctx: WorkflowContext, n: number): AsyncGenerator<unknown, number[], number> {
  const a = yield ctx.callActivity(double, n);
  const b = yield ctx.callActivity(double, a);
  return [a, b];
};

describe('admin workflow rerun', () => {
  let s: TestSidecar;
  let runtime: WorkflowRuntime;
  let client: DaprWorkflowClient;
  const auth = { 'dapr-api-token': 'tok' };

  beforeAll(async () => {
    s = await startTestSidecar({ apiToken: 'tok' });
    const options = { daprHost: '127.0.0.1', daprPort: String(s.sidecar.grpcPort), daprApiToken: 'tok', logger: { level: 0 } };
    runtime = new WorkflowRuntime(options).registerWorkflow(doubleTwice).registerActivity(double);
    client = new DaprWorkflowClient(options);
    await runtime.start();
  });
  afterAll(async () => {
    await runtime?.stop();
    await client?.stop();
    await s?.stop();
  });

  async function finished(): Promise<{ id: string; second: number }> {
    const id = await client.scheduleNewWorkflow(doubleTwice, 3);
    expect((await client.waitForWorkflowCompletion(id, true, 30))?.serializedOutput).toBe('[6,12]');
    const { history } = (await call(s.baseUrl, 'GET', `/v1.0/workflows/dapr/${id}/history`, undefined, auth)).json as { history: { type: string; eventId: number }[] };
    return { id, second: history.filter((e) => e.type === 'TaskScheduled')[1]!.eventId };
  }

  it('reruns from a step with a new input and answers 202 with the new instance id', async () => {
    const { id, second } = await finished();
    const res = await call(s.baseUrl, 'POST', `/v1.0-weft/admin/workflows/${id}/rerun`, { eventId: second, newInstanceId: `${id}-again`, input: '100' }, auth);
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ newInstanceID: `${id}-again` });
    expect((await client.waitForWorkflowCompletion(`${id}-again`, true, 30))?.serializedOutput).toBe('[6,200]');
  });

  it('reruns with the recorded input when overwriteInput is false', async () => {
    const { id, second } = await finished();
    const res = await call(s.baseUrl, 'POST', `/v1.0-weft/admin/workflows/${id}/rerun`, { eventId: second, input: '100', overwriteInput: false }, auth);
    const { newInstanceID } = res.json as { newInstanceID: string };
    expect((await client.waitForWorkflowCompletion(newInstanceID, true, 30))?.serializedOutput).toBe('[6,12]');
  });

  it('answers 404, 400 and 409 ERR_RERUN_WORKFLOW with daprd\'s messages for bad reruns', async () => {
    const { id, second } = await finished();
    const rerun = (source: string, body: unknown) => call(s.baseUrl, 'POST', `/v1.0-weft/admin/workflows/${source}/rerun`, body, auth);
    const unknown = await rerun('nope', { eventId: 1 });
    expect([unknown.status, errorCodeOf(unknown), (unknown.json as { message: string }).message]).toEqual([404, 'ERR_RERUN_WORKFLOW', "workflow instance does not exist with ID 'nope'"]);
    const noEvent = await rerun(id, { eventId: 999 });
    expect([noEvent.status, (noEvent.json as { message: string }).message]).toEqual([404, "does not have history event with ID '999'"]);
    const taken = await rerun(id, { eventId: second, newInstanceId: `${id}-taken` });
    expect(taken.status).toBe(202);
    const again = await rerun(id, { eventId: second, newInstanceId: `${id}-taken` });
    expect([again.status, errorCodeOf(again)]).toEqual([409, 'ERR_RERUN_WORKFLOW']);
    expect(errorCodeOf(await rerun(id, { eventId: 'two' }))).toBe('ERR_BAD_REQUEST');
    expect(errorCodeOf(await rerun(id, { eventId: second, input: 5 }))).toBe('ERR_BAD_REQUEST');
    expect(errorCodeOf(await call(s.baseUrl, 'POST', `/v1.0-weft/admin/workflows/${id}/rerun`, undefined, auth))).toBe('ERR_MALFORMED_REQUEST');
  });
});
