/**
 * In-process tier: a real sidecar with `pubsub.in-memory` and a real HTTP subscriber app. Checks what
 * the sidecar delivers (headers, CloudEvent fields, routes and rules) and the SUCCESS/RETRY/DROP
 * contract with dead letters.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestSidecar } from '../support/in-process.js';
import type { TestSidecar } from '../support/in-process.js';
import { eventually, startSubscriberApp } from '../support/subscriber-app.js';
import type { SubscriberApp } from '../support/subscriber-app.js';

const IN_MEMORY = (name: string) => `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ${name}}
spec: {type: pubsub.in-memory, version: v1}
`;

const FAST = { maxRetries: 3 };
/** Fast retries through the sidecar's environment (WEFT_PUBSUB_*). */
const FAST_ENV = {
  WEFT_PUBSUB_MAX_RETRIES: String(FAST.maxRetries),
  WEFT_PUBSUB_RETRY_INTERVAL: '20ms',
  WEFT_PUBSUB_RETRY_MAX_INTERVAL: '50ms',
  WEFT_PUBSUB_DELIVERY_TIMEOUT: '1s',
};

let sidecar: TestSidecar | undefined;
let app: SubscriberApp | undefined;

afterEach(async () => {
  await sidecar?.stop();
  await app?.close();
  sidecar = undefined;
  app = undefined;
});

async function start(subscriptions: unknown, resources: string[] = []): Promise<{ sidecar: TestSidecar; app: SubscriberApp; ps: string }> {
  const ps = `ps${Math.random().toString(36).slice(2, 8)}`;
  app = await startSubscriberApp(typeof subscriptions === 'function' ? (subscriptions as (ps: string) => unknown)(ps) : subscriptions);
  sidecar = await startTestSidecar({ resources: [IN_MEMORY(ps), ...resources], appPort: app.port, env: FAST_ENV });
  await waitSubscribed(sidecar);
  return { sidecar, app, ps };
}

async function waitSubscribed(s: TestSidecar): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const meta = (await (await fetch(`${s.baseUrl}/v1.0/metadata`)).json()) as { subscriptions: unknown[] };
    if (meta.subscriptions.length > 0) return;
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new Error('no subscription became active');
}

const publish = (s: TestSidecar, ps: string, topic: string, body: string, contentType = 'application/json', query = '') =>
  fetch(`${s.baseUrl}/v1.0/publish/${ps}/${topic}${query}`, { method: 'POST', body, headers: { 'content-type': contentType } });

describe('pub/sub delivery to an HTTP app', () => {
  it('delivers a JSON publish as a CloudEvent with data first, the pubsubname header and the cloudevents content type', async () => {
    const { sidecar: s, app: a, ps } = await start((p: string) => [{ pubsubname: p, topic: 'orders', route: '/orders' }]);
    expect((await publish(s, ps, 'orders', '{"orderId":1}')).status).toBe(204);
    await a.waitFor((d) => d.length === 1);
    const d = a.deliveries[0]!;
    expect(d.path).toBe('/orders');
    expect(d.headers['content-type']).toBe('application/cloudevents+json');
    expect(d.headers['pubsubname']).toBe(ps);
    const ce = d.body as Record<string, unknown>;
    expect(Object.keys(ce)[0]).toBe('data');
    expect(ce).toMatchObject({
      data: { orderId: 1 },
      datacontenttype: 'application/json',
      source: 'test-app',
      type: 'com.dapr.event.sent',
      specversion: '1.0',
      topic: 'orders',
      pubsubname: ps,
    });
    expect(typeof ce['id']).toBe('string');
    expect(typeof ce['time']).toBe('string');
  });

  it('routes by CEL rules in order and falls back to the default route', async () => {
    const { sidecar: s, app: a, ps } = await start((p: string) => [
      {
        pubsubname: p,
        topic: 'products',
        routes: {
          rules: [
            { match: 'event.type == "widget"', path: '/widgets' },
            { match: 'has(event.data.gadget)', path: '/gadgets' },
          ],
          default: '/products',
        },
      },
    ]);
    const ce = (type: string, data: unknown) => JSON.stringify({ specversion: '1.0', id: type, source: 'x', type, datacontenttype: 'application/json', data });
    await publish(s, ps, 'products', ce('widget', { a: 1 }), 'application/cloudevents+json');
    await publish(s, ps, 'products', ce('thing', { gadget: true }), 'application/cloudevents+json');
    await publish(s, ps, 'products', ce('thing', { other: 1 }), 'application/cloudevents+json');
    await a.waitFor((d) => d.length === 3);
    expect(a.at('/widgets')).toHaveLength(1);
    expect(a.at('/gadgets')).toHaveLength(1);
    expect(a.at('/products')).toHaveLength(1);
  });

  it('redelivers on RETRY with backoff until the app answers SUCCESS', async () => {
    const { sidecar: s, app: a, ps } = await start((p: string) => [{ pubsubname: p, topic: 't', route: '/t' }]);
    a.reply((d) => (a.deliveries.indexOf(d) < 2 ? { json: { status: 'RETRY' } } : { json: { status: 'SUCCESS' } }));
    await publish(s, ps, 't', '"x"');
    await a.waitFor((d) => d.length === 3);
    const ids = a.deliveries.map((d) => (d.body as { id: string }).id);
    expect(new Set(ids).size).toBe(1);
  });

  it('sends DROP and exhausted retries to the dead-letter topic, and drops a 404 without dead-lettering', async () => {
    const { sidecar: s, app: a, ps } = await start((p: string) => [
      { pubsubname: p, topic: 'drop', route: '/drop', deadLetterTopic: 'dlq' },
      { pubsubname: p, topic: 'fail', route: '/fail', deadLetterTopic: 'dlq' },
      { pubsubname: p, topic: 'gone', route: '/gone', deadLetterTopic: 'dlq' },
      { pubsubname: p, topic: 'dlq', route: '/dlq' },
    ]);
    a.reply((d) => {
      if (d.path === '/drop') return { json: { status: 'DROP' } };
      if (d.path === '/fail') return { status: 500, text: 'boom' };
      if (d.path === '/gone') return { status: 404 };
      return { json: { status: 'SUCCESS' } };
    });
    await publish(s, ps, 'drop', '{"n":"drop"}');
    await publish(s, ps, 'fail', '{"n":"fail"}');
    await publish(s, ps, 'gone', '{"n":"gone"}');
    await a.waitFor((d) => d.filter((x) => x.path === '/dlq').length === 2);
    expect(a.at('/fail')).toHaveLength(FAST.maxRetries + 1);
    expect(a.at('/gone')).toHaveLength(1);
    const dead = a.at('/dlq').map((d) => (d.body as { data: { n: string }; topic: string }).data.n).sort();
    expect(dead).toEqual(['drop', 'fail']);
  });

  it('treats a garbage 200 answer as success and retries an app that hangs past the delivery timeout', async () => {
    const { sidecar: s, app: a, ps } = await start((p: string) => [
      { pubsubname: p, topic: 'garbage', route: '/garbage' },
      { pubsubname: p, topic: 'hang', route: '/hang' },
    ]);
    let hung = 0;
    a.reply((d) => {
      if (d.path === '/garbage') return { text: '<<not json>>' };
      if (d.path === '/hang' && hung++ === 0) return { hang: true };
      return { json: { status: 'SUCCESS' } };
    });
    await publish(s, ps, 'garbage', '1');
    await publish(s, ps, 'hang', '2');
    await a.waitFor((d) => d.filter((x) => x.path === '/hang').length === 2, 20_000);
    expect(a.at('/garbage')).toHaveLength(1);
    const health = await fetch(`${s.baseUrl}/v1.0/healthz`);
    expect(health.status).toBe(204);
  });

  it('wraps raw bytes for a rawPayload subscription and publishes rawPayload bodies without an envelope', async () => {
    const { sidecar: s, app: a, ps } = await start((p: string) => [{ pubsubname: p, topic: 'raw', route: '/raw', metadata: { rawPayload: 'true' } }]);
    await publish(s, ps, 'raw', 'hello raw', 'text/plain', '?metadata.rawPayload=true');
    await a.waitFor((d) => d.length === 1);
    const ce = a.deliveries[0]!.body as Record<string, string>;
    expect(ce['datacontenttype']).toBe('application/octet-stream');
    expect(Buffer.from(ce['data_base64']!, 'base64').toString()).toBe('hello raw');
  });

  it('drops an expired event without calling the app and delivers a live one', async () => {
    const { sidecar: s, app: a, ps } = await start((p: string) => [{ pubsubname: p, topic: 'ttl', route: '/ttl' }]);
    const expired = JSON.stringify({ specversion: '1.0', id: 'old', source: 's', type: 't', expiration: new Date(Date.now() - 1000).toISOString(), data: 'old' });
    await publish(s, ps, 'ttl', expired, 'application/cloudevents+json');
    await publish(s, ps, 'ttl', '"fresh"', 'application/json', '?metadata.ttlInSeconds=60');
    await a.waitFor((d) => d.length === 1);
    const ce = a.deliveries[0]!.body as Record<string, string>;
    expect(ce['data']).toBe('fresh');
    expect(Date.parse(ce['expiration']!)).toBeGreaterThan(Date.now());
  });

  it('delivers declarative v2alpha1 subscriptions scoped to this app and lists them in the metadata', async () => {
    const ps = `ps${Math.random().toString(36).slice(2, 8)}`;
    app = await startSubscriberApp([]);
    const sub = (name: string, scopes: string, path: string) => `
apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata: {name: ${name}}
spec:
  pubsubname: ${ps}
  topic: ${name}
  routes:
    rules: [{match: 'event.data.kind == "a"', path: /a}]
    default: ${path}
scopes: [${scopes}]
`;
    sidecar = await startTestSidecar({
      resources: [IN_MEMORY(ps), sub('mine', 'test-app', '/mine'), sub('theirs', 'other-app', '/theirs')],
      appPort: app.port,
      env: FAST_ENV,
    });
    await waitSubscribed(sidecar);
    const meta = (await (await fetch(`${sidecar.baseUrl}/v1.0/metadata`)).json()) as { subscriptions: unknown[] };
    expect(meta.subscriptions).toEqual([
      {
        pubsubname: ps,
        topic: 'mine',
        metadata: {},
        rules: [
          { match: 'event.data.kind == "a"', path: '/a' },
          { match: '', path: '/mine' },
        ],
        deadLetterTopic: '',
        type: 'DECLARATIVE',
      },
    ]);
    await publish(sidecar, ps, 'mine', '{"kind":"a"}');
    await publish(sidecar, ps, 'mine', '{"kind":"b"}');
    await app.waitFor((d) => d.length === 2);
    expect(app.deliveries.map((d) => d.path).sort()).toEqual(['/a', '/mine']);
  });

  it('keeps at most the subscription concurrency of deliveries in flight', async () => {
    const ps = `ps${Math.random().toString(36).slice(2, 8)}`;
    const held: http.ServerResponse[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    let done = 0;
    const server = http.createServer((req, res) => {
      if (req.url === '/dapr/subscribe') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify([{ pubsubname: ps, topic: 'c', route: '/c', metadata: { concurrency: '2' } }]));
        return;
      }
      if (req.url === '/dapr/config') {
        res.writeHead(404).end(); // no actors here
        return;
      }
      req.resume();
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      held.push(res);
      res.on('finish', () => {
        inFlight--;
        done++;
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const env = { ...FAST_ENV, WEFT_PUBSUB_DELIVERY_TIMEOUT: '60s' };
      sidecar = await startTestSidecar({ resources: [IN_MEMORY(ps)], appPort: (server.address() as AddressInfo).port, env });
      await waitSubscribed(sidecar);
      for (let n = 0; n < 6; n++) await publish(sidecar, ps, 'c', String(n));
      // Answer one held delivery at a time once every slot is taken; the sidecar must never send a third.
      for (let answered = 0; answered < 6; answered++) {
        await eventually(() => held.length === Math.min(2, 6 - answered), 10_000, 'deliveries filling the slots');
        held.shift()!.end('{"status":"SUCCESS"}');
      }
      await eventually(() => done === 6, 10_000, 'all answered');
      expect(maxInFlight).toBe(2);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
