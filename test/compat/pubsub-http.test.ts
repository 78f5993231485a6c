/**
 * `@dapr/dapr` compatibility, HTTP mode: a real `weft sidecar` process (embedded default pub/sub, no
 * resources path) and a real `DaprServer` app on a free port. Covers routes, CEL rules,
 * SUCCESS/RETRY/DROP, dead letters, rawPayload, bulk subscribe, `client.pubsub.publish` and
 * `publishBulk`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/subscriber-app.js';
import { PS, startPubsubApp } from './support/pubsub-app.js';
import type { Delivery, PubsubApp } from './support/pubsub-app.js';
import type { DaprServer } from '@dapr/dapr';

let app: PubsubApp;
let server: DaprServer;
let got: Record<string, Delivery[]>;

beforeAll(async () => {
  app = await startPubsubApp('http');
  ({ server, got } = app);
}, 60_000);

afterAll(async () => {
  await app?.stop();
});

describe('@dapr/dapr DaprServer and DaprClient pub/sub over HTTP', () => {
  it('delivers client.pubsub.publish data to the subscription handler with the pubsubname header', async () => {
    const res = await server.client.pubsub.publish(PS, 'orders', { orderId: 1 });
    expect(res.error).toBeUndefined();
    await server.client.pubsub.publish(PS, 'orders', 'Hello, world!');
    await eventually(() => (got['orders']?.length ?? 0) === 2, 15_000, 'two orders');
    expect(got['orders']!.map((g) => g.data)).toEqual([{ orderId: 1 }, 'Hello, world!']);
    expect(got['orders']![0]!.headers?.['pubsubname']).toBe(PS);
  });

  it('routes by a CEL rule and the default route', async () => {
    const ce = (type: string, data: unknown) => ({ specversion: '1.0', id: `${type}-1`, source: 'compat', type, datacontenttype: 'application/json', data });
    await server.client.pubsub.publish(PS, 'routed', ce('widget', { w: 1 }), { contentType: 'application/cloudevents+json' });
    await server.client.pubsub.publish(PS, 'routed', ce('gadget', { g: 1 }), { contentType: 'application/cloudevents+json' });
    await eventually(() => (got['routed']?.length ?? 0) === 2, 15_000, 'two routed events');
    expect(got['routed']!.map((g) => g.data)).toEqual(expect.arrayContaining([{ w: 1 }, { g: 1 }]));
  });

  it('gives a rawPayload subscriber the published bytes', async () => {
    await server.client.pubsub.publish(PS, 'raw', { raw: true }, { metadata: { rawPayload: true } });
    await eventually(() => (got['raw']?.length ?? 0) === 1, 15_000, 'raw event');
    expect(got['raw']![0]!.data).toEqual({ raw: true });
  });

  it('redelivers after RETRY until the handler answers SUCCESS', async () => {
    await server.client.pubsub.publish(PS, 'retry', { n: 1 });
    await eventually(() => (got['retry']?.length ?? 0) === 3, 20_000, 'three deliveries');
    expect(got['retry']!.map((g) => g.data)).toEqual([{ n: 1 }, { n: 1 }, { n: 1 }]);
  });

  it('sends a DROPped event to the dead-letter topic', async () => {
    await server.client.pubsub.publish(PS, 'drop', { poison: true });
    await eventually(() => (got['dead']?.length ?? 0) === 1, 15_000, 'dead letter');
    expect(got['dead']![0]!.data).toEqual({ poison: true });
  });

  it('publishes with publishBulk and delivers through a bulk subscription', async () => {
    const res = await server.client.pubsub.publishBulk(PS, 'bulk', ['a', { b: 1 }, { entryID: 'x', event: 'c', contentType: 'text/plain' }]);
    expect(res.failedMessages).toEqual([]);
    await eventually(() => (got['bulk']?.length ?? 0) === 3, 15_000, 'three bulk entries');
    expect(got['bulk']!.map((g) => g.data)).toEqual(expect.arrayContaining(['a', { b: 1 }, 'c']));
  });
});
