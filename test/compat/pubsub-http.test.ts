/**
 * `@dapr/dapr` compatibility, HTTP mode: a real `weft sidecar` process (embedded default pub/sub, no
 * resources path) and a real `DaprServer` app on a free port. Covers routes, CEL rules,
 * SUCCESS/RETRY/DROP, dead letters, rawPayload, bulk subscribe, `client.pubsub.publish` and
 * `publishBulk`.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CommunicationProtocolEnum, DaprPubSubStatusEnum, DaprServer } from '@dapr/dapr';
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
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-compat-pubsub-'));
  const appPort = await freePort();
  weft = await startWeftSidecar(['--app-id', 'compat-app', '--app-port', String(appPort), '--log-level', 'warn'], {
    cwd: dir,
    env: { WEFT_PUBSUB_RETRY_INTERVAL: '100ms', WEFT_PUBSUB_MAX_RETRIES: '2' },
  });
  server = new DaprServer({
    serverHost: '127.0.0.1',
    serverPort: String(appPort),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    clientOptions: { daprHost: '127.0.0.1', daprPort: String(weft.httpPort), communicationProtocol: CommunicationProtocolEnum.HTTP },
  });
  await server.pubsub.subscribe(PS, 'orders', async (data: unknown, headers: object) => record('orders')(data, headers));
  await server.pubsub.subscribeWithOptions(PS, 'routed', {
    route: { rules: [{ match: 'event.type == "widget"', path: '/widgets' }], default: '/routed-default' },
    callback: async (data: unknown) => record('routed')(data),
  });
  await server.pubsub.subscribe(PS, 'raw', async (data: unknown) => record('raw')(data), undefined, { rawPayload: true });
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
    return meta.subscriptions.length === 7;
  }, 20_000, 'seven subscriptions active');
}, 60_000);

afterAll(async () => {
  await server?.stop().catch(() => undefined);
  await weft?.stop();
  await fs.rm(dir, { recursive: true, force: true });
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
