/**
 * The provider goes down: the sidecar's resiliency policy retries each notification (constant 1 s,
 * 3 retries), the circuit breaker opens after 5 consecutive failures, the notification service
 * answers RETRY so the broker keeps the events, and when the provider returns every notification
 * is delivered exactly once. The breaker's open time is 5 s here instead of the shipped 30 s.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from './support/platform.js';
import { api, providerLog, setOutage, startPlatform, waitFor } from './support/platform.js';

let platform: Platform;

beforeAll(async () => {
  platform = await startPlatform({
    rewrite: (name, yaml) => (name === 'resiliency.yaml' ? yaml.replace('timeout: 30s', 'timeout: 5s') : yaml),
  });
}, 180_000);

afterAll(async () => {
  await platform?.stop();
});

interface Status {
  delivered: number;
  retries: number;
  lastError: string | null;
}

async function notificationStatus(): Promise<Status> {
  return (await (await fetch(`http://127.0.0.1:${platform.notification.app}/api/status`)).json()) as Status;
}

describe('provider outage', () => {
  it('retries, opens the circuit, and delivers everything once the provider is back', async () => {
    const client = api(platform, `user-${randomUUID().slice(0, 8)}`);
    await setOutage(platform, true);
    const ids: string[] = [];
    for (const title of ['during outage 1', 'during outage 2', 'during outage 3']) {
      const res = await client.create({ title });
      expect(res.status).toBe(201);
      ids.push(res.body['id'] as string);
    }

    // Retries reach the provider (each refused with 503) ...
    await waitFor('the provider to refuse 5 attempts', async () => ((await providerLog(platform)).counters.outageRejections >= 5 ? true : undefined), 90_000);
    // ... until the breaker opens and calls stop at the sidecar.
    const open = await waitFor(
      'the circuit breaker to open',
      async () => {
        const status = await notificationStatus();
        return status.lastError?.includes('circuit breaker is open') ? status : undefined;
      },
      90_000,
      platform.output,
    );
    expect(open.retries).toBeGreaterThan(0);
    const during = await providerLog(platform);
    expect(during.counters.accepted).toBe(0);

    await setOutage(platform, false);
    const log = await waitFor(
      'every notification after the outage',
      async () => {
        const got = await providerLog(platform);
        const created = got.received.filter((r) => ids.includes(r.body.task_id) && r.body.event_type === 'task.created');
        return created.length === ids.length ? got : undefined;
      },
      120_000,
      platform.output,
    );
    // Exactly one accepted call per event, all authenticated.
    const keys = log.received.map((r) => r.idempotency_key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const id of ids) expect(log.received.filter((r) => r.body.task_id === id)).toHaveLength(1);
    expect(log.received.every((r) => r.authorization === 'Bearer local-dev-sendgrid-key')).toBe(true);

    // And new events flow normally again.
    const after = (await client.create({ title: 'after outage' })).body['id'] as string;
    await waitFor('a notification after recovery', async () => ((await providerLog(platform)).received.some((r) => r.body.task_id === after) ? true : undefined), 60_000);
  }, 300_000);
});
