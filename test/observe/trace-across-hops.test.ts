/**
 * One trace across hops: caller → sidecar A → sidecar B → app B (invocation), app B publishes with
 * the traceparent it received, the CloudEvent carries it (`traceparent`, `traceid`), and the
 * subscriber gets a delivery whose `traceparent` header continues the same trace. Both sidecars
 * export their spans to a stand-in Zipkin collector.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startZipkinCollector } from '../support/zipkin-collector.js';
import type { ZipkinCollector, ZipkinSpan } from '../support/zipkin-collector.js';
import { zipkinTracingConfig } from '../support/resources.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestSidecar } from '../support/in-process.js';
import type { TestSidecar } from '../support/in-process.js';
import { eventually, startSubscriberApp } from '../support/subscriber-app.js';
import type { SubscriberApp } from '../support/subscriber-app.js';


const TRACE_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const id = `trace${process.pid}`;
const [A, B] = [`${id}-a`, `${id}-b`];
let spans: ZipkinSpan[] = [];
let zipkin: ZipkinCollector;
let registry: string;
let a: TestSidecar;
let b: TestSidecar;
let appB: SubscriberApp;

beforeAll(async () => {
  zipkin = await startZipkinCollector();
  spans = zipkin.spans;
  registry = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-trace-'));
  const config = path.join(registry, 'config.yaml');
  await fs.writeFile(
    config,
    zipkinTracingConfig(zipkin.endpoint),
  );
  const env = { WEFT_REGISTRY_DIR: registry };
  appB = await startSubscriberApp([{ pubsubname: 'traced', topic: 'orders', route: '/orders' }]);
  appB.reply((d) => (d.path === '/work' ? { text: 'done' } : { json: { status: 'SUCCESS' } }));
  const pubsub = `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: traced}\nspec: {type: pubsub.in-memory, version: v1}\n`;
  b = await startTestSidecar({ appId: B, env, appPort: appB.port, configPath: config, resources: [pubsub] });
  a = await startTestSidecar({ appId: A, env, configPath: config });
  await eventually(async () => {
    const meta = (await (await fetch(`${b.baseUrl}/v1.0/metadata`)).json()) as { subscriptions: unknown[] };
    return meta.subscriptions.length === 1 && b.sidecar.health.ready();
  }, 10_000, 'sidecar B subscribed and ready');
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await appB?.close();
  await zipkin?.close();
  await fs.rm(registry, { recursive: true, force: true });
});

const traceIdOf = (traceparent: unknown) => (typeof traceparent === 'string' ? traceparent.split('-')[1] : undefined);

it('links every hop of an invocation and the publish it causes into one trace, each span the parent of the next', async () => {
  const res = await fetch(`${a.baseUrl}/v1.0/invoke/${B}/method/work`, { method: 'POST', body: 'x', headers: { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` } });
  expect(res.status).toBe(200);
  const received = appB.at('/work')[0]!.headers['traceparent'];
  expect(traceIdOf(received)).toBe(TRACE_ID);

  // App B publishes under the trace it was called in.
  const pub = await fetch(`${b.baseUrl}/v1.0/publish/traced/orders`, {
    method: 'POST',
    body: JSON.stringify({ order: 1 }),
    headers: { 'content-type': 'application/json', traceparent: String(received) },
  });
  expect(pub.status).toBe(204);
  await appB.waitFor(() => appB.at('/orders').length === 1);
  const delivery = appB.at('/orders')[0]!;
  const event = delivery.body as { traceparent: string; traceid: string };
  expect(traceIdOf(event.traceparent)).toBe(TRACE_ID);
  expect(traceIdOf(event.traceid)).toBe(TRACE_ID);
  expect(traceIdOf(delivery.headers['traceparent'])).toBe(TRACE_ID);

  await eventually(() => spans.filter((s) => s.traceId === TRACE_ID).length >= 7, 10_000, 'seven spans in the trace');
  const inTrace = spans.filter((s) => s.traceId === TRACE_ID);
  const one = (service: string, kind: string, name: string, parentId: string | undefined) => {
    const found = inTrace.filter((s) => s.localEndpoint.serviceName === service && s.kind === kind && s.name === name && s.parentId === parentId);
    expect(found, `${service} ${kind} ${name} under ${parentId}`).toHaveLength(1);
    return found[0]!;
  };
  // caller → A (server) → A (client) → B (server) → B (client) → app B, each the parent of the next.
  const aServer = one(A, 'SERVER', `CallLocal/${B}/work`, '00f067aa0ba902b7');
  expect(aServer.tags).toMatchObject({ 'rpc.service': 'ServiceInvocation', 'net.peer.name': B, 'dapr.protocol': 'http', 'dapr.status_code': '200' });
  const aClient = one(A, 'CLIENT', `CallLocal/${B}/work`, aServer.id);
  const bServer = one(B, 'SERVER', `CallLocal/${B}/work`, aClient.id);
  const bClient = one(B, 'CLIENT', `CallLocal/${B}/work`, bServer.id);
  expect(String(received).split('-')[2]).toBe(bClient.id);
  // App B publishes under its call: B's API span → the PRODUCER span the event carries → the delivery.
  const publishApi = one(B, 'SERVER', '/v1.0/publish/traced/orders', bClient.id);
  expect(publishApi.tags).toMatchObject({ 'messaging.system': 'pubsub', 'messaging.destination': 'orders', 'messaging.destination_kind': 'topic' });
  const producer = one(B, 'PRODUCER', 'pubsub/orders', publishApi.id);
  expect(event.traceparent.split('-')[2]).toBe(producer.id);
  const deliverySpan = one(B, 'CLIENT', 'pubsub/orders', producer.id);
  // The app got the delivery span's context as its parent.
  expect(String(delivery.headers['traceparent']).split('-')[2]).toBe(deliverySpan.id);
});
