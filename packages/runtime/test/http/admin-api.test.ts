/**
 * The Weft admin API over HTTP against in-process sidecars: state keys by prefix with paging, values,
 * etags and TTLs; recent pub/sub traffic with outcomes; dead-letter replay; the API token guard.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSidecar } from '../../../../test/support/in-process.js';
import type { TestSidecar } from '../../../../test/support/in-process.js';
import { startSubscriberApp } from '../../../../test/support/subscriber-app.js';
import type { SubscriberApp } from '../../../../test/support/subscriber-app.js';
import type { AdminStateKeysPage, DeadLetterEntry, PubSubTrafficEntry } from '../../src/index.js';
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
