/**
 * Resiliency on publishing: a pub/sub driver that fails on command (`pubsub.flaky`) behind the
 * sidecar's HTTP publish API, with an outbound retry policy on one component and a circuit breaker
 * on another.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { faultRegistry, faults, resetFaults } from './fault-drivers.js';
import { startObservedSidecar } from './observe-env.js';
import type { ObservedSidecar } from './observe-env.js';

const flaky = (name: string) => `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: ${name}}\nspec: {type: pubsub.flaky, version: v1}\n`;

let s: ObservedSidecar;

beforeAll(async () => {
  s = await startObservedSidecar({
    registry: faultRegistry(),
    resources: [
      `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: publish}
spec:
  policies:
    retries:
      threeQuick: {policy: constant, duration: 10ms, maxRetries: 3}
    circuitBreakers:
      tripAtTwo: {trip: "consecutiveFailures >= 2", timeout: 1h, maxRequests: 1}
  targets:
    components:
      retried: {outbound: {retry: threeQuick}}
      breaker: {outbound: {circuitBreaker: tripAtTwo}}
`,
      flaky('retried'),
      flaky('breaker'),
      flaky('plain'),
    ],
  });
});
afterAll(async () => {
  await s?.stop();
});
afterEach(() => resetFaults());

const publish = (pubsub: string) =>
  fetch(`${s.baseUrl}/v1.0/publish/${pubsub}/orders`, { method: 'POST', body: '{"n":1}', headers: { 'content-type': 'application/json' } });

it('retries a publish the broker refused twice and answers 204', async () => {
  faults.failNext = 2;
  expect((await publish('retried')).status).toBe(204);
  expect(faults.calls).toBe(3);
});

it('fails a publish at once without a policy, with ERR_PUBSUB_PUBLISH_MESSAGE', async () => {
  faults.failNext = 1;
  const res = await publish('plain');
  expect(res.status).toBe(500);
  expect(((await res.json()) as { errorCode: string }).errorCode).toBe('ERR_PUBSUB_PUBLISH_MESSAGE');
  expect(faults.calls).toBe(1);
});

it('opens the circuit breaker after two failed publishes and stops calling the broker', async () => {
  faults.failNext = 5;
  expect((await publish('breaker')).status).toBe(500);
  expect((await publish('breaker')).status).toBe(500);
  expect((await publish('breaker')).status).toBe(500);
  expect(faults.calls).toBe(2);
});
