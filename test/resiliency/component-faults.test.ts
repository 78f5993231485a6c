/**
 * Component policies on the cells the older suites left open, against real faults where Weft has a
 * networked driver: publishing to the real Redis (`pubsub.redis`) and saving to it (`state.redis`)
 * through TCP fault proxies that delay or drop connections; deliveries to a subscriber app that keeps
 * failing until an inbound circuit breaker opens. Secret stores are files or the environment in Weft,
 * so their timeout and breaker are shown on the fault-injecting `secretstores.flaky` driver.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy } from '../support/fault-proxy.js';
import type { FaultProxy } from '../support/fault-proxy.js';
import { startTestSidecar } from '../support/in-process.js';
import type { TestSidecar } from '../support/in-process.js';
import { SERVICES, requireService } from '../support/services.js';
import { eventually, startSubscriberApp } from '../support/subscriber-app.js';
import type { SubscriberApp } from '../support/subscriber-app.js';
import { faultRegistry, faults, resetFaults } from '../observe/fault-drivers.js';
import { startObservedSidecar } from '../observe/observe-env.js';
import type { ObservedSidecar } from '../observe/observe-env.js';
import { metricLine, waitForMetric } from './scripted-http.js';
import { componentYaml } from '../support/resources.js';

const redisUp = await requireService(SERVICES.redis, 'component resiliency (Redis)');


type ErrorBody = { errorCode: string; message: string };

describe.runIf(redisUp)('a real Redis behind fault proxies: publishing and saving state', () => {
  const names = ['ps-timed', 'ps-patient', 'ps-broken', 'state-broken'] as const;
  const proxies = {} as Record<(typeof names)[number], FaultProxy>;
  const run = randomUUID().slice(0, 8);
  let sidecar: TestSidecar;

  beforeAll(async () => {
    for (const name of names) proxies[name] = await startFaultProxy(SERVICES.redis.port, SERVICES.redis.host);
    const host = (name: (typeof names)[number]) => ({ redisHost: `127.0.0.1:${proxies[name].port}` });
    sidecar = await startTestSidecar({
      appId: `compres-${run}`,
      resources: [
        `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: redis-faults}
spec:
  policies:
    timeouts: {quick: 300ms}
    retries:
      threeQuick: {policy: constant, duration: 10ms, maxRetries: 3}
      patient: {policy: constant, duration: 50ms, maxRetries: 200}
    circuitBreakers:
      # Open for 2s: long enough that the refusal the test asserts comes before the half-open probe.
      tripAtTwo: {trip: "consecutiveFailures >= 2", timeout: 2s, maxRequests: 1}
  targets:
    components:
      ps-timed: {outbound: {timeout: quick, retry: threeQuick}}
      ps-patient: {outbound: {timeout: quick, retry: patient}}
      ps-broken: {outbound: {timeout: quick, circuitBreaker: tripAtTwo}}
      state-broken: {outbound: {timeout: quick, circuitBreaker: tripAtTwo}}
`,
        componentYaml('ps-timed', 'pubsub.redis', host('ps-timed')),
        componentYaml('ps-patient', 'pubsub.redis', host('ps-patient')),
        componentYaml('ps-broken', 'pubsub.redis', host('ps-broken')),
        componentYaml('state-broken', 'state.redis', host('state-broken')),
      ],
    });
  });
  afterAll(async () => {
    await sidecar?.stop();
    await Promise.all(Object.values(proxies).map((p) => p.close()));
  });

  const metrics = () => sidecar.sidecar.metrics?.render() ?? Promise.resolve('');
  const topic = `weft-compres-${run}`;
  const publish = (pubsub: string, body: object) =>
    fetch(`${sidecar.baseUrl}/v1.0/publish/${pubsub}/${topic}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

  it('answers 500 ERR_PUBSUB_PUBLISH_MESSAGE "context deadline exceeded" when every publish attempt times out', async () => {
    proxies['ps-timed'].setDelay(2000);
    const res = await publish('ps-timed', { n: 1 });
    expect(res.status).toBe(500);
    const body = (await res.json()) as ErrorBody;
    expect(body.errorCode).toBe('ERR_PUBSUB_PUBLISH_MESSAGE');
    expect(body.message).toBe(`error when publishing to topic ${topic} in pubsub ps-timed: context deadline exceeded`);
    // The first attempt and three retries, each cut off.
    expect(await metrics()).toMatch(metricLine('dapr_resiliency_activations_total', { policy: 'timeout', flow_direction: 'outbound', target: 'Pubsub_ps-timed' }, '4'));
    proxies['ps-timed'].setDelay(0);
  });

  it('retries publishes that time out on a slow network and succeeds once it is fast again', async () => {
    proxies['ps-patient'].setDelay(1000);
    const pending = publish('ps-patient', { n: 2 });
    await waitForMetric(metrics, metricLine('dapr_resiliency_activations_total', { policy: 'timeout', target: 'Pubsub_ps-patient' }));
    proxies['ps-patient'].setDelay(0);
    expect((await pending).status).toBe(204);
  });

  it('opens the publish circuit breaker while the broker connection is dropped, refuses at once, and recovers after it heals', async () => {
    expect((await publish('ps-broken', { n: 'before' })).status).toBe(204);
    proxies['ps-broken'].drop();
    for (let i = 0; i < 2; i++) {
      const res = await publish('ps-broken', { n: `dropped-${i}` });
      expect(res.status).toBe(500);
      expect(((await res.json()) as ErrorBody).message).not.toContain('circuit breaker');
    }
    const refused = await publish('ps-broken', { n: 'refused' });
    expect(refused.status).toBe(500);
    expect(await refused.json()).toMatchObject({
      errorCode: 'ERR_PUBSUB_PUBLISH_MESSAGE',
      message: `error when publishing to topic ${topic} in pubsub ps-broken: circuit breaker is open`,
    });
    expect(await metrics()).toMatch(metricLine('dapr_resiliency_cb_state', { target: 'Pubsub_ps-broken' }, '2'));
    proxies['ps-broken'].heal();
    await eventually(async () => (await publish('ps-broken', { n: 'after' })).status === 204, 15_000, 'a publish after the breaker half-opened');
    expect(await metrics()).toMatch(metricLine('dapr_resiliency_cb_state', { target: 'Pubsub_ps-broken' }, '0'));
  });

  it('opens the state store circuit breaker while Redis is unreachable and recovers after it heals', async () => {
    const key = `weft-compres-${run}`;
    const save = (value: unknown) => fetch(`${sidecar.baseUrl}/v1.0/state/state-broken`, { method: 'POST', body: JSON.stringify([{ key, value }]) });
    expect((await save(1)).status).toBe(204);
    proxies['state-broken'].drop();
    for (let i = 0; i < 2; i++) expect(((await (await save(2)).json()) as ErrorBody).errorCode).toBe('ERR_STATE_SAVE');
    const refused = await save(3);
    expect(refused.status).toBe(500);
    const body = (await refused.json()) as ErrorBody;
    expect(body.errorCode).toBe('ERR_STATE_SAVE');
    expect(body.message).toContain('circuit breaker is open');
    proxies['state-broken'].heal();
    await eventually(async () => (await save(4)).status === 204, 15_000, 'a save after the breaker half-opened');
    expect(await (await fetch(`${sidecar.baseUrl}/v1.0/state/state-broken/${key}`)).json()).toBe(4);
    await fetch(`${sidecar.baseUrl}/v1.0/state/state-broken/${key}`, { method: 'DELETE' });
  });
});

describe('secret store policies (fault-injecting driver: Weft has no networked secret store)', () => {
  let s: ObservedSidecar;
  let dir: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-compres-'));
    const file = path.join(dir, 'secrets.json');
    await fs.writeFile(file, JSON.stringify({ db: 'pw' }));
    const vault = (name: string) => componentYaml(name, 'secretstores.flaky', { secretsFile: file });
    s = await startObservedSidecar({
      registry: faultRegistry(),
      resources: [
        `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: secrets}
spec:
  policies:
    timeouts: {quick: 200ms}
    circuitBreakers:
      # Open for 2s: long enough that the refusal the test asserts comes before the half-open probe.
      tripAtTwo: {trip: "consecutiveFailures >= 2", timeout: 2s, maxRequests: 1}
  targets:
    components:
      vault-timed: {outbound: {timeout: quick}}
      vault-broken: {outbound: {circuitBreaker: tripAtTwo}}
`,
        vault('vault-timed'),
        vault('vault-broken'),
      ],
    });
  });
  afterAll(async () => {
    await s?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });
  afterEach(() => resetFaults());

  const get = (store: string) => fetch(`${s.baseUrl}/v1.0/secrets/${store}/db`);

  it('answers 500 ERR_SECRET_GET "context deadline exceeded" for a stalled secret store', async () => {
    faults.delayMs = 2000;
    const res = await get('vault-timed');
    expect(res.status).toBe(500);
    const body = (await res.json()) as ErrorBody;
    expect(body.errorCode).toBe('ERR_SECRET_GET');
    expect(body.message).toContain('context deadline exceeded');
  });

  it('opens the circuit breaker after two failed reads, refuses without calling the store, and recovers after its timeout', async () => {
    faults.failNext = 2;
    for (let i = 0; i < 2; i++) expect((await get('vault-broken')).status).toBe(500);
    const refused = await get('vault-broken');
    expect(((await refused.json()) as ErrorBody).message).toContain('circuit breaker is open');
    expect(faults.calls).toBe(2);
    await eventually(async () => (await get('vault-broken')).status === 200, 10_000, 'a read after the breaker half-opened');
    expect(faults.calls).toBe(3);
  });
});

describe('pub/sub delivery under an inbound circuit breaker', () => {
  let sidecar: TestSidecar | undefined;
  let app: SubscriberApp | undefined;
  afterAll(async () => {
    await sidecar?.stop();
    await app?.close();
  });

  it('stops delivering to an app that keeps failing once the breaker opens, and delivers after the app recovers', async () => {
    const ps = `ps${randomUUID().slice(0, 6)}`;
    app = await startSubscriberApp([{ pubsubname: ps, topic: 'orders', route: '/orders' }]);
    let healthy = false;
    app.reply(() => (healthy ? { json: { status: 'SUCCESS' } } : { status: 500 }));
    sidecar = await startTestSidecar({
      appPort: app.port,
      resources: [
        componentYaml(ps, 'pubsub.in-memory', { redeliverInterval: '50ms' }),
        `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: delivery-breaker}
spec:
  policies:
    circuitBreakers:
      # Open long enough for several redeliveries to be refused before a probe.
      tripAtTwo: {trip: "consecutiveFailures >= 2", timeout: 3s, maxRequests: 1}
  targets:
    components:
      ${ps}: {inbound: {circuitBreaker: tripAtTwo}}
`,
      ],
    });
    const s = sidecar;
    await eventually(async () => ((await (await fetch(`${s.baseUrl}/v1.0/metadata`)).json()) as { subscriptions: unknown[] }).subscriptions.length === 1, 10_000, 'subscribed');
    const metrics = () => s.sidecar.metrics?.render() ?? Promise.resolve('');
    const a = app;
    expect((await fetch(`${s.baseUrl}/v1.0/publish/${ps}/orders`, { method: 'POST', body: '{"id":1}', headers: { 'content-type': 'application/json' } })).status).toBe(204);
    // Each redelivery runs the policy; while the breaker is open none of them reaches the app.
    await waitForMetric(metrics, metricLine('dapr_resiliency_count', { policy: 'circuitbreaker', flow_direction: 'inbound', target: `Pubsub_${ps}`, status: 'open' }, '([3-9]|[1-9][0-9]+)'));
    expect(a.at('/orders')).toHaveLength(2);
    healthy = true;
    await a.waitFor(() => a.at('/orders').length === 3, 15_000);
    await waitForMetric(metrics, metricLine('dapr_component_pubsub_ingress_count', { component: ps, process_status: 'success' }, '1'));
    expect(a.at('/orders')).toHaveLength(3);
  });
});
