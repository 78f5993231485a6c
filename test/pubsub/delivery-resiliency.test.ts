/**
 * Pub/sub delivery with a Resiliency policy on the component's inbound side, delivery and app-call metrics read
 * from a running sidecar's metrics endpoint, and deliveries pausing while the app is unhealthy. A real
 * in-process sidecar with `pubsub.in-memory` and a real HTTP subscriber app.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestSidecar } from '../support/in-process.js';
import type { TestSidecar } from '../support/in-process.js';
import { eventually, startSubscriberApp } from '../support/subscriber-app.js';
import type { SubscriberApp } from '../support/subscriber-app.js';
import { freePort } from '../support/weft-process.js';

const component = (name: string) => `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ${name}}
spec: {type: pubsub.in-memory, version: v1}
`;
const inboundPolicy = (name: string) => `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: delivery}
spec:
  policies:
    timeouts: {short: 200ms}
    retries:
      twice: {policy: constant, duration: 20ms, maxRetries: 2}
  targets:
    components:
      ${name}: {inbound: {timeout: short, retry: twice}}
`;
/** The WEFT_PUBSUB_* defaults a policy must replace: no retries and a long timeout. */
const SLOW_DEFAULTS = { WEFT_PUBSUB_MAX_RETRIES: '0', WEFT_PUBSUB_DELIVERY_TIMEOUT: '60s' };

let sidecar: TestSidecar | undefined;
let app: SubscriberApp | undefined;

afterEach(async () => {
  await sidecar?.stop();
  await app?.close();
  sidecar = undefined;
  app = undefined;
});

const newName = () => `ps${Math.random().toString(36).slice(2, 8)}`;
const publish = (s: TestSidecar, ps: string, topic: string, body: unknown) =>
  fetch(`${s.baseUrl}/v1.0/publish/${ps}/${topic}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

async function subscribed(s: TestSidecar, count: number): Promise<void> {
  await eventually(async () => {
    const meta = (await (await fetch(`${s.baseUrl}/v1.0/metadata`)).json()) as { subscriptions: unknown[] };
    return meta.subscriptions.length === count;
  }, 10_000, `${count} subscriptions`);
}

describe('pub/sub delivery under an inbound resiliency policy', () => {
  it('times out a hanging delivery per the policy, retries it maxRetries times, then dead-letters it', async () => {
    const ps = newName();
    app = await startSubscriberApp([
      { pubsubname: ps, topic: 'orders', route: '/orders', deadLetterTopic: 'dead' },
      { pubsubname: ps, topic: 'dead', route: '/dead' },
    ]);
    app.reply((d) => (d.path === '/orders' ? { hang: true } : { json: { status: 'SUCCESS' } }));
    sidecar = await startTestSidecar({ resources: [component(ps), inboundPolicy(ps)], appPort: app.port, env: SLOW_DEFAULTS });
    await subscribed(sidecar, 2);
    expect((await publish(sidecar, ps, 'orders', { id: 1 })).status).toBe(204);
    await app.waitFor(() => app!.at('/dead').length === 1);
    // First attempt plus the policy's two retries; the 60s default timeout never applied.
    expect(app.at('/orders')).toHaveLength(3);
    expect((app.at('/dead')[0]!.body as { data: unknown }).data).toEqual({ id: 1 });
  });

  it('retries a RETRY answer under the policy until SUCCESS', async () => {
    const ps = newName();
    app = await startSubscriberApp([{ pubsubname: ps, topic: 'orders', route: '/orders' }]);
    let n = 0;
    app.reply(() => ({ json: { status: n++ < 2 ? 'RETRY' : 'SUCCESS' } }));
    sidecar = await startTestSidecar({ resources: [component(ps), inboundPolicy(ps)], appPort: app.port, env: SLOW_DEFAULTS });
    await subscribed(sidecar, 1);
    await publish(sidecar, ps, 'orders', { id: 2 });
    await app.waitFor((d) => d.length === 3);
    expect(app.at('/orders').map((d) => (d.body as { data: unknown }).data)).toEqual([{ id: 2 }, { id: 2 }, { id: 2 }]);
  });
});

describe('bulk delivery under an inbound resiliency policy', () => {
  it('resends only the entries answered RETRY, as often as the policy allows', async () => {
    const ps = newName();
    app = await startSubscriberApp([{ pubsubname: ps, topic: 'bulk', route: '/bulk', bulkSubscribe: { enabled: true, maxMessagesCount: 2, maxAwaitDurationMs: 5000 } }]);
    let round = 0;
    app.reply((d) => {
      const entries = (d.body as { entries: { entryId: string; event: { data: { n: number } } }[] }).entries;
      round++;
      // Entry n=2 is asked back twice; the third round succeeds.
      return { json: { statuses: entries.map((e) => ({ entryId: e.entryId, status: e.event.data.n === 2 && round < 3 ? 'RETRY' : 'SUCCESS' })) } };
    });
    sidecar = await startTestSidecar({ resources: [component(ps), inboundPolicy(ps)], appPort: app.port, env: SLOW_DEFAULTS });
    await subscribed(sidecar, 1);
    await publish(sidecar, ps, 'bulk', { n: 1 });
    await publish(sidecar, ps, 'bulk', { n: 2 });
    await app.waitFor((d) => d.length === 3);
    const sizes = app.at('/bulk').map((d) => (d.body as { entries: unknown[] }).entries.length);
    expect(sizes).toEqual([2, 1, 1]);
  });
});

describe('pub/sub metrics on the metrics endpoint', () => {
  it('counts publishes as egress and deliveries as ingress with their process status and topic', async () => {
    const ps = newName();
    app = await startSubscriberApp([{ pubsubname: ps, topic: 'metered', route: '/metered' }]);
    let n = 0;
    app.reply(() => ({ json: { status: n++ === 0 ? 'RETRY' : 'SUCCESS' } }));
    const metricsPort = await freePort();
    sidecar = await startTestSidecar({
      appId: 'metered-app',
      resources: [component(ps)],
      appPort: app.port,
      metricsPort,
      env: { WEFT_PUBSUB_RETRY_INTERVAL: '10ms' },
    });
    await subscribed(sidecar, 1);
    await publish(sidecar, ps, 'metered', { id: 3 });
    await app.waitFor((d) => d.length === 2);
    let text = '';
    await eventually(async () => {
      text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return text.includes('process_status="success"');
    }, 10_000, 'ingress success recorded');
    const line = (name: string, ...labels: string[]) =>
      text.split('\n').find((l) => l.startsWith(`${name}{`) && labels.every((x) => l.includes(x)));
    expect(line('dapr_component_pubsub_egress_count', `component="${ps}"`, 'success="true"', 'topic="metered"', 'app_id="metered-app"')).toMatch(/ 1$/);
    expect(line('dapr_component_pubsub_ingress_count', `component="${ps}"`, 'process_status="retry"', 'topic="metered"')).toMatch(/ 1$/);
    expect(line('dapr_component_pubsub_ingress_count', `component="${ps}"`, 'process_status="success"', 'topic="metered"')).toMatch(/ 1$/);
    expect(line('dapr_component_pubsub_ingress_latencies_count', `component="${ps}"`, 'process_status="success"')).toMatch(/ 1$/);
    // Calls into the app: GET /dapr/subscribe and the two POSTed deliveries.
    expect(line('dapr_http_client_completed_count', 'method="GET"', 'status="200"', 'app_id="metered-app"')).toMatch(/ 1$/);
    expect(line('dapr_http_client_completed_count', 'method="POST"', 'status="200"', 'app_id="metered-app"')).toMatch(/ 2$/);
    expect(line('dapr_http_client_roundtrip_latency_count', 'method="POST"', 'status="200"')).toMatch(/ 2$/);
  });
});

describe('pub/sub deliveries and app health', () => {
  it('holds deliveries while the app is unhealthy and delivers them once it is healthy again', async () => {
    const ps = newName();
    let healthy = true;
    app = await startSubscriberApp([{ pubsubname: ps, topic: 'orders', route: '/orders' }]);
    app.reply((d) => (d.path === '/healthz' ? { status: healthy ? 200 : 503 } : { json: { status: 'SUCCESS' } }));
    sidecar = await startTestSidecar({
      resources: [component(ps)],
      appPort: app.port,
      appHealthCheck: { path: '/healthz', intervalMs: 50, timeoutMs: 500, threshold: 1 },
    });
    await subscribed(sidecar, 1);
    const s = sidecar;
    await eventually(() => s.sidecar.health.appAvailable(), 10_000, 'app healthy');
    healthy = false;
    await eventually(() => !s.sidecar.health.appAvailable(), 10_000, 'app unhealthy');
    await publish(s, ps, 'orders', { id: 4 });
    // Probes keep arriving while the event waits: several probe rounds pass without a delivery.
    const probes = app.at('/healthz').length;
    await app.waitFor(() => app!.at('/healthz').length >= probes + 5);
    expect(app.at('/orders')).toHaveLength(0);
    healthy = true;
    await app.waitFor(() => app!.at('/orders').length === 1);
    expect((app.at('/orders')[0]!.body as { data: unknown }).data).toEqual({ id: 4 });
  });
});
