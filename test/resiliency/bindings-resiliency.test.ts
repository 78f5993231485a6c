/**
 * Resiliency on bindings against real faults. Outbound: `bindings.http` to a real HTTP server that
 * fails N times, never answers, or is stopped and started again mid-request, and `bindings.redis`
 * to the real Redis through a TCP fault proxy that delays. Inbound: `bindings.mqtt3` input events
 * from the real Mosquitto delivered to an app that fails N times, stalls, or keeps failing until a
 * circuit breaker opens and deliveries stop reaching it.
 */
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy } from '../support/fault-proxy.js';
import type { FaultProxy } from '../support/fault-proxy.js';
import { startTestSidecar } from '../support/in-process.js';
import type { TestSidecar } from '../support/in-process.js';
import { SERVICES, requireService } from '../support/services.js';
import { eventually } from '../support/subscriber-app.js';
import { ScriptedHttpServer, metricLine, waitForMetric } from './scripted-http.js';
import { componentYaml } from '../support/resources.js';

const redisUp = await requireService(SERVICES.redis, 'bindings resiliency (Redis)');
const mqttUp = await requireService(SERVICES.mqtt, 'bindings resiliency (MQTT)');


const POLICIES = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: bindings}
spec:
  policies:
    timeouts: {quick: 300ms}
    retries:
      threeQuick: {policy: constant, duration: 10ms, maxRetries: 3}
      patient: {policy: constant, duration: 50ms, maxRetries: 200}
      DefaultBindingComponentOutboundRetryPolicy: {policy: constant, duration: 10ms, maxRetries: 2}
    circuitBreakers:
      # Open for 2s: long enough that the refusal the test asserts comes before the half-open probe.
      tripAtTwo: {trip: "consecutiveFailures >= 2", timeout: 2s, maxRequests: 1}
      # Open long enough for the driver's redeliveries to be refused several times before a probe.
      tripAtTwoSlow: {trip: "consecutiveFailures >= 2", timeout: 3s, maxRequests: 1}
  targets:
    components:
      web-retried: {outbound: {retry: threeQuick, timeout: quick}}
      web-broken: {outbound: {circuitBreaker: tripAtTwo}}
      web-patient: {outbound: {retry: patient}}
      cache-slow: {outbound: {retry: patient, timeout: quick}}
      mq-retried: {inbound: {retry: threeQuick}}
      mq-timed: {inbound: {retry: threeQuick, timeout: quick}}
      mq-broken: {inbound: {circuitBreaker: tripAtTwoSlow}}
`;

describe('resiliency on output bindings', () => {
  const target = new ScriptedHttpServer();
  let proxy: FaultProxy | undefined;
  let sidecar: TestSidecar;

  beforeAll(async () => {
    await target.start();
    const web = (name: string) => componentYaml(name, 'bindings.http', { url: `http://127.0.0.1:${target.port}` });
    const resources = [POLICIES, web('web-retried'), web('web-broken'), web('web-patient'), web('web-default')];
    if (redisUp) {
      proxy = await startFaultProxy(SERVICES.redis.port, SERVICES.redis.host);
      resources.push(componentYaml('cache-slow', 'bindings.redis', { redisHost: `127.0.0.1:${proxy.port}` }));
    }
    sidecar = await startTestSidecar({ appId: 'bindres-out', resources });
  });
  afterAll(async () => {
    await sidecar?.stop();
    await target.stop();
    await proxy?.close();
  });

  const invoke = (name: string, body: object) =>
    fetch(`${sidecar.baseUrl}/v1.0/bindings/${name}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const post = (name: string, path: string) => invoke(name, { operation: 'post', data: { n: 1 }, metadata: { path } });
  const errorOf = async (res: Response) => (await res.json()) as { errorCode: string; message: string };
  const metrics = () => sidecar.sidecar.metrics?.render() ?? Promise.resolve('');

  it('retries a call the server failed twice with 503 and returns its eventual answer', async () => {
    target.next('/flaky', 503, 503);
    const res = await post('web-retried', '/flaky');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ path: '/flaky', status: 200, body: '{"n":1}' });
    expect(target.count('/flaky')).toBe(3);
    // Labelled with the Resiliency resource's name, as daprd does.
    await waitForMetric(metrics, metricLine('dapr_resiliency_activations_total', { name: 'bindings', policy: 'retry', flow_direction: 'outbound', target: 'Binding_web-retried' }, '2'));
  });

  it('answers 500 ERR_INVOKE_OUTPUT_BINDING with the last error once retries are exhausted', async () => {
    target.next('/down', 500, 500, 500, 500, 500);
    const res = await post('web-retried', '/down');
    expect(res.status).toBe(500);
    expect(await errorOf(res)).toEqual({ errorCode: 'ERR_INVOKE_OUTPUT_BINDING', message: 'error invoking output binding web-retried: received status code 500' });
    expect(target.count('/down')).toBe(4);
  });

  it('answers ERR_INVOKE_OUTPUT_BINDING "context deadline exceeded" when every attempt times out', async () => {
    target.next('/stall', 'hang', 'hang', 'hang', 'hang');
    const res = await post('web-retried', '/stall');
    expect(res.status).toBe(500);
    expect(await errorOf(res)).toEqual({ errorCode: 'ERR_INVOKE_OUTPUT_BINDING', message: 'error invoking output binding web-retried: context deadline exceeded' });
    expect(target.count('/stall')).toBe(4);
    await waitForMetric(metrics, metricLine('dapr_resiliency_activations_total', { policy: 'timeout', target: 'Binding_web-retried' }, '4'));
  });

  it('opens the circuit breaker after two failures, refuses without reaching the server, and closes after a successful probe', async () => {
    target.next('/cb', 500, 500);
    for (let i = 0; i < 2; i++) expect((await errorOf(await post('web-broken', '/cb'))).message).toContain('received status code 500');
    const refused = await post('web-broken', '/cb');
    expect(refused.status).toBe(500);
    expect(await errorOf(refused)).toEqual({ errorCode: 'ERR_INVOKE_OUTPUT_BINDING', message: 'error invoking output binding web-broken: circuit breaker is open' });
    expect(target.count('/cb')).toBe(2);
    expect(await metrics()).toMatch(metricLine('dapr_resiliency_cb_state', { flow_direction: 'outbound', target: 'Binding_web-broken' }, '2'));
    // The server answers 200 again; the half-open breaker lets one probe through and closes.
    await eventually(async () => {
      const res = await post('web-broken', '/cb');
      if (res.status !== 200) expect((await errorOf(res)).message).toContain('circuit breaker is open');
      return res.status === 200;
    }, 10_000, 'a probe through the half-open breaker');
    expect(target.count('/cb')).toBe(3);
    expect(await metrics()).toMatch(metricLine('dapr_resiliency_cb_state', { flow_direction: 'outbound', target: 'Binding_web-broken' }, '0'));
  });

  it('rides out the server being stopped and started again mid-request', async () => {
    await target.stop();
    const pending = post('web-patient', '/restart');
    await waitForMetric(metrics, metricLine('dapr_resiliency_activations_total', { policy: 'retry', target: 'Binding_web-patient' }));
    expect(target.count('/restart')).toBe(0);
    await target.start();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(target.count('/restart')).toBe(1);
  });

  it('applies DefaultBindingComponentOutboundRetryPolicy to a binding without a named target', async () => {
    target.next('/default', 502, 502, 502, 502);
    const res = await post('web-default', '/default');
    expect(res.status).toBe(500);
    // The first attempt and the default policy's two retries.
    expect(target.count('/default')).toBe(3);
  });

  it.runIf(redisUp)('times out bindings.redis calls through a slow network and completes once it is fast again', async () => {
    const key = `weft-bindres-${randomUUID()}`;
    expect((await invoke('cache-slow', { operation: 'create', data: { v: 1 }, metadata: { key } })).status).toBe(204);
    proxy?.setDelay(1000);
    const pending = invoke('cache-slow', { operation: 'get', metadata: { key } });
    await waitForMetric(metrics, metricLine('dapr_resiliency_activations_total', { policy: 'timeout', target: 'Binding_cache-slow' }));
    proxy?.setDelay(0);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ v: 1 });
    await invoke('cache-slow', { operation: 'delete', metadata: { key } });
  });
});

describe.runIf(mqttUp)('resiliency on input bindings (delivery to the app)', () => {
  const app = new ScriptedHttpServer();
  const run = randomUUID().slice(0, 8);
  const topic = (name: string) => `weft/bindres/${run}/${name}`;
  let sidecar: TestSidecar;

  beforeAll(async () => {
    await app.start();
    const mq = (name: string, retryInterval: string) =>
      componentYaml(name, 'bindings.mqtt3', {
        url: `tcp://${SERVICES.mqtt.host}:${SERVICES.mqtt.port}`,
        topic: topic(name),
        cleanSession: 'true',
        consumerID: `weft-${run}-${name}`,
        direction: 'input',
        // Only the policy retries mq-retried and mq-timed; mq-broken's driver keeps handing the event over.
        retryInterval,
      });
    sidecar = await startTestSidecar({
      appId: 'bindres-in',
      appPort: app.port,
      resources: [POLICIES, mq('mq-retried', '1h'), mq('mq-timed', '1h'), mq('mq-broken', '50ms')],
    });
    await eventually(() => ['mq-retried', 'mq-timed', 'mq-broken'].every((n) => sidecar.sidecar.inputBindings?.active.includes(n)), 10_000, 'input bindings started');
  });
  afterAll(async () => {
    await sidecar?.stop();
    await app.stop();
  });

  const metrics = () => sidecar.sidecar.metrics?.render() ?? Promise.resolve('');
  const publish = async (name: string) => {
    const raw = await mqtt.connectAsync(`mqtt://${SERVICES.mqtt.host}:${SERVICES.mqtt.port}`, { clean: true });
    try {
      await raw.publishAsync(topic(name), JSON.stringify({ event: name }), { qos: 1 });
    } finally {
      await raw.endAsync();
    }
  };
  const taken = (name: string, value = '1') => metricLine('dapr_component_input_binding_count', { component: name, success: 'true' }, value);

  it('retries delivering an event the app refused twice, so the app takes it on the third attempt', async () => {
    app.next('/mq-retried', 500, 500);
    await publish('mq-retried');
    await waitForMetric(metrics, taken('mq-retried'));
    expect(app.count('/mq-retried')).toBe(3);
    expect(await metrics()).toMatch(metricLine('dapr_resiliency_activations_total', { policy: 'retry', flow_direction: 'inbound', target: 'Binding_mq-retried' }, '2'));
  });

  it('times out deliveries to a stalled app and retries until it answers', async () => {
    app.next('/mq-timed', 'hang', 'hang');
    await publish('mq-timed');
    await waitForMetric(metrics, taken('mq-timed'));
    expect(app.count('/mq-timed')).toBe(3);
    expect(await metrics()).toMatch(metricLine('dapr_resiliency_activations_total', { policy: 'timeout', flow_direction: 'inbound', target: 'Binding_mq-timed' }, '2'));
  });

  it('opens the circuit breaker on a failing app so deliveries stop reaching it, and delivers after the app recovers', async () => {
    app.fallback = 500;
    try {
      await publish('mq-broken');
      // Two failures open the breaker; the driver keeps handing the event over and each is refused.
      await waitForMetric(metrics, metricLine('dapr_component_input_binding_count', { component: 'mq-broken', success: 'false' }, '([4-9]|[1-9][0-9]+)'));
      expect(app.count('/mq-broken')).toBe(2);
      expect(await metrics()).toMatch(metricLine('dapr_resiliency_cb_state', { flow_direction: 'inbound', target: 'Binding_mq-broken' }, '2'));
    } finally {
      app.fallback = 200;
    }
    // Once the breaker half-opens, one delivery reaches the recovered app and is taken.
    await waitForMetric(metrics, taken('mq-broken'));
    expect(app.count('/mq-broken')).toBe(3);
  });
});
