/**
 * `@dapr/dapr` compatibility, gRPC app: a real `weft sidecar` process with `--app-protocol grpc`
 * (embedded default pub/sub) and a `DaprServer` in gRPC mode. Subscriptions come from
 * `AppCallback.ListTopicSubscriptions`; events arrive through `OnTopicEvent` (path = the route) and
 * `OnBulkTopicEventAlpha1`, and SUCCESS/RETRY/DROP are honoured as over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/subscriber-app.js';
import { PS, startPubsubApp } from './support/pubsub-app.js';
import type { Delivery, PubsubApp } from './support/pubsub-app.js';
import type { WeftProcess } from '../support/weft-process.js';
import type { DaprServer } from '@dapr/dapr';

let app: PubsubApp;
let weft: WeftProcess;
let server: DaprServer;
let got: Record<string, Delivery[]>;

beforeAll(async () => {
  app = await startPubsubApp('grpc');
  ({ weft, server, got } = app);
}, 60_000);

afterAll(async () => {
  await app?.stop();
});

describe('@dapr/dapr DaprServer in gRPC mode subscribing through a weft sidecar', () => {
  it('lists the programmatic subscriptions from ListTopicSubscriptions with rules and dead-letter topic', async () => {
    const meta = (await (await fetch(`http://127.0.0.1:${weft.httpPort}/v1.0/metadata`)).json()) as {
      subscriptions: { topic: string; deadLetterTopic: string; rules: { match: string; path: string }[]; type: string }[];
    };
    const byTopic = new Map(meta.subscriptions.map((s) => [s.topic, s]));
    // The SDK names its gRPC routes `/<pubsub>--<topic>--<route>`; OnTopicEvent must carry them back.
    expect(byTopic.get('routed')?.rules).toEqual([
      { match: 'event.type == "widget"', path: '/pubsub--routed--widgets' },
      { match: '', path: '/pubsub--routed--routed-default' },
    ]);
    expect(byTopic.get('drop')?.deadLetterTopic).toBe('dead');
    expect(byTopic.get('orders')?.type).toBe('PROGRAMMATIC');
  });

  it('delivers published data through OnTopicEvent with the pubsubname metadata', async () => {
    await server.client.pubsub.publish(PS, 'orders', { orderId: 1 });
    await server.client.pubsub.publish(PS, 'orders', 'Hello, world!');
    await eventually(() => (got['orders']?.length ?? 0) === 2, 15_000, 'two orders');
    expect(got['orders']!.map((g) => g.data)).toEqual(expect.arrayContaining([{ orderId: 1 }, 'Hello, world!']));
    expect(got['orders']![0]!.headers?.['pubsubname']).toBe(PS);
  });

  it('routes by a CEL rule and the default route (OnTopicEvent path is the matched route)', async () => {
    const ce = (type: string, data: unknown) => ({ specversion: '1.0', id: `${type}-1`, source: 'compat', type, datacontenttype: 'application/json', data });
    await server.client.pubsub.publish(PS, 'routed', ce('widget', { w: 1 }), { contentType: 'application/cloudevents+json' });
    await server.client.pubsub.publish(PS, 'routed', ce('gadget', { g: 1 }), { contentType: 'application/cloudevents+json' });
    await eventually(() => (got['routed']?.length ?? 0) === 2, 15_000, 'two routed events');
    expect(got['routed']!.map((g) => g.data)).toEqual(expect.arrayContaining([{ w: 1 }, { g: 1 }]));
  });

  it('redelivers after RETRY until the handler answers SUCCESS', async () => {
    await server.client.pubsub.publish(PS, 'retry', { n: 1 });
    await eventually(() => (got['retry']?.length ?? 0) === 3, 20_000, 'three deliveries');
    expect(got['retry']!.map((g) => g.data)).toEqual([{ n: 1 }, { n: 1 }, { n: 1 }]);
  });

  it('sends a DROPped event to the dead-letter topic', async () => {
    await server.client.pubsub.publish(PS, 'drop', { poison: true });
    await eventually(() => (got['dead']?.length ?? 0) === 1, 15_000, 'dead letter');
    expect(got['drop']).toHaveLength(1);
    expect(got['dead']![0]!.data).toEqual({ poison: true });
  });

  it('delivers a bulk subscription through OnBulkTopicEventAlpha1', async () => {
    const res = await server.client.pubsub.publishBulk(PS, 'bulk', ['a', { b: 1 }]);
    expect(res.failedMessages).toEqual([]);
    await eventually(() => (got['bulk']?.length ?? 0) === 2, 15_000, 'two bulk entries');
    expect(got['bulk']!.map((g) => g.data)).toEqual(expect.arrayContaining(['a', { b: 1 }]));
  });
});
