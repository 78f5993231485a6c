/**
 * Recovery paths, on one platform.
 *
 * The provider goes down: the sidecar's resiliency policy retries each notification (constant 1 s,
 * 3 retries), the circuit breaker opens after 5 consecutive failures, the notification service
 * answers RETRY so the broker keeps the events, and when the provider returns every notification
 * is delivered exactly once. The breaker's open time is 5 s here instead of the shipped 30 s.
 *
 * Missed events: recurring-task-service is scoped out of every topic here (`subscriptionScopes`),
 * so it never hears of completions; `recurring-task-cron` (every 2 s here instead of hourly) still
 * creates the next occurrence.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from './support/platform.js';
import { api, metricSum, providerLog, setOutage, startPlatform, waitFor } from './support/platform.js';

let platform: Platform;

beforeAll(async () => {
  platform = await startPlatform({
    rewrite: (name, yaml) => {
      if (name === 'resiliency.yaml') return yaml.replace('timeout: 30s', 'timeout: 5s');
      if (name === 'cron.yaml') return yaml.replace('"0 * * * *"', '"@every 2s"');
      if (name === 'pubsub.yaml') return `${yaml}    - name: subscriptionScopes\n      value: "recurring-task-service="\n`;
      return yaml;
    },
    recurringSubscribes: false,
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

describe('recovery', () => {
  it('the hourly cron creates the next occurrence when the completion event was missed', async () => {
    const client = api(platform, `user-${randomUUID().slice(0, 8)}`);
    const id = (await client.create({ title: 'Pay the rent', due_at: '2030-01-31T00:00:00Z', recurrence: { frequency: 'monthly', interval: 1 } })).body['id'] as string;
    expect((await client.complete(id)).status).toBe(200);
    const next = await waitFor(
      'the next occurrence from the sweep',
      async () => {
        const tasks = (await client.list('?status=pending')).body['tasks'] as { id: string; recurrence_parent_id: string | null; due_at: string }[];
        return tasks.find((t) => t.recurrence_parent_id === id);
      },
      90_000,
      platform.output,
    );
    // Monthly from the 31st of January: the last day of February, not the 3rd of March.
    expect(next.due_at).toBe('2030-02-28T00:00:00.000Z');
    // Deleting the next occurrence stops the series: later sweeps do not bring it back.
    expect((await client.remove(next.id)).status).toBe(204);
    const sweeps = () => platform.output().split('recurring sweep done').length;
    const seen = sweeps();
    await waitFor('two more sweeps', async () => (sweeps() >= seen + 2 ? true : undefined), 60_000);
    const tasks = (await client.list()).body['tasks'] as { recurrence_parent_id: string | null }[];
    expect(tasks.filter((t) => t.recurrence_parent_id === id)).toHaveLength(0);
  }, 180_000);

  it('retries, opens the circuit, and delivers everything once the provider is back', async () => {
    const client = api(platform, `user-${randomUUID().slice(0, 8)}`);
    const acceptedBefore = (await providerLog(platform)).counters.accepted;
    const rejectionsBefore = (await providerLog(platform)).counters.outageRejections;
    await setOutage(platform, true);
    const ids: string[] = [];
    for (const title of ['during outage 1', 'during outage 2', 'during outage 3']) {
      const res = await client.create({ title });
      expect(res.status).toBe(201);
      ids.push(res.body['id'] as string);
    }

    // Retries reach the provider (each refused with 503) ...
    await waitFor('the provider to refuse 5 attempts', async () => ((await providerLog(platform)).counters.outageRejections >= rejectionsBefore + 5 ? true : undefined), 90_000);
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
    // The sidecar's own account: the retry policy and the breaker were activated on the binding.
    const activations = (policy: string) =>
      metricSum(platform.notification.metrics, 'dapr_resiliency_activations_total', ['notification-provider"', `policy="${policy}"`, 'flow_direction="outbound"']);
    expect(await activations('retry')).toBeGreaterThan(0);
    expect(await activations('circuitbreaker')).toBeGreaterThan(0);
    const during = await providerLog(platform);
    expect(during.counters.accepted).toBe(acceptedBefore);

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
