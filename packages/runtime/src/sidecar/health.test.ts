/** Readiness flags: what `healthz` and `healthz/outbound` wait for. */
import { describe, expect, it } from 'vitest';
import { HealthState } from './health.js';

describe('HealthState', () => {
  it('is ready for healthz only once the app answered and every subscription is established', () => {
    const health = new HealthState();
    health.componentsReady = true;
    health.apiReady = true;
    health.subscriptionsReady = false;
    expect(health.outboundReady()).toBe(true);
    expect(health.ready()).toBe(false);
    health.appReady = true;
    // The app answers, but its subscriptions are still being established at the brokers.
    expect(health.appAvailable()).toBe(true);
    expect(health.ready()).toBe(false);
    health.subscriptionsReady = true;
    expect(health.ready()).toBe(true);
  });
});
