/**
 * `@dapr/dapr` compatibility, gRPC app: a real `weft sidecar` process with `--app-protocol grpc`
 * (embedded default pub/sub) and a `DaprServer` in gRPC mode. Subscriptions come from
 * `AppCallback.ListTopicSubscriptions`; events arrive through `OnTopicEvent` (path = the route) and
 * `OnBulkTopicEventAlpha1`, and SUCCESS/RETRY/DROP are honoured as over HTTP.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CommunicationProtocolEnum, DaprPubSubStatusEnum, DaprServer, LogLevel } from '@dapr/dapr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/subscriber-app.js';
import { freePort, startWeftSidecar } from '../support/weft-process.js';
import type { WeftProcess } from '../support/weft-process.js';

const PS = 'pubsub';
let dir: string;
let weft: WeftProcess;
let server: DaprServer;
const got: Record<string, { data: unknown; headers?: Record<string, unknown> }[]> = {};
const record = (key: string) => (data: unknown, headers?: object) => {
  (got[key] ??= []).push({ data, headers: headers as Record<string, unknown> });
};

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-compat-pubsub-grpc-'));
  const appPort = await freePort();
  weft = await startWeftSidecar(['--app-id', 'compat-grpc-app', '--app-port', String(appPort), '--app-protocol', 'grpc', '--log-level', 'warn'], {
    cwd: dir,
    env: { WEFT_PUBSUB_RETRY_INTERVAL: '100ms', WEFT_PUBSUB_MAX_RETRIES: '2' },
  });
  server = new DaprServer({
    serverHost: '127.0.0.1',
    serverPort: String(appPort),
    communicationProtocol: CommunicationProtocolEnum.GRPC,
    clientOptions: { daprHost: '127.0.0.1', daprPort: String(weft.grpcPort), communicationProtocol: CommunicationProtocolEnum.GRPC, logger: { level: LogLevel.Error } },
    logger: { level: LogLevel.Error },
  });
  await server.pubsub.subscribe(PS, 'orders', async (data: unknown, headers: object) => record('orders')(data, headers));
  await server.pubsub.subscribeWithOptions(PS, 'routed', {
    route: { rules: [{ match: 'event.type == "widget"', path: '/widgets' }], default: '/routed-default' },
    callback: async (data: unknown) => record('routed')(data),
  });
  let retries = 0;
  await server.pubsub.subscribe(PS, 'retry', async (data: unknown) => {
    record('retry')(data);
    return retries++ < 2 ? DaprPubSubStatusEnum.RETRY : DaprPubSubStatusEnum.SUCCESS;
  });
  await server.pubsub.subscribeWithOptions(PS, 'drop', {
    deadLetterTopic: 'dead',
    callback: async (data: unknown) => {
      record('drop')(data);
      return DaprPubSubStatusEnum.DROP;
    },
  });
  await server.pubsub.subscribe(PS, 'dead', async (data: unknown) => record('dead')(data));
  await server.pubsub.subscribeBulk(PS, 'bulk', async (data: unknown) => record('bulk')(data), { maxMessagesCount: 5, maxAwaitDurationMs: 200 });
  await server.start();
  await eventually(async () => {
    const meta = (await (await fetch(`http://127.0.0.1:${weft.httpPort}/v1.0/metadata`)).json()) as { subscriptions: unknown[] };
    return meta.subscriptions.length === 6;
  }, 20_000, 'six subscriptions from ListTopicSubscriptions');
}, 60_000);

afterAll(async () => {
  // The sidecar first: its app channel holds an HTTP/2 connection the app server would wait on.
  await weft?.stop();
  await server?.stop().catch(() => undefined);
  await fs.rm(dir, { recursive: true, force: true });
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
