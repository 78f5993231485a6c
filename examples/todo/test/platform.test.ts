/**
 * The todo platform end to end on the embedded default, through real `weft run -f` processes:
 * task events reach the notification service and the provider gets authenticated calls, recurring
 * tasks roll over, the cache expires and is invalidated, the rate limit holds under concurrency,
 * reminders fire through the cron binding (a fast schedule here) once, conversations persist.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from './support/platform.js';
import { api, providerLog, startPlatform, waitFor } from './support/platform.js';

let platform: Platform;
const CACHE_TTL_SECONDS = 2;

beforeAll(async () => {
  platform = await startPlatform({
    backendEnv: { TASK_CACHE_TTL_SECONDS: String(CACHE_TTL_SECONDS) },
    // The reminder checker every second instead of every minute.
    rewrite: (name, yaml) => (name === 'cron.yaml' ? yaml.replace('"*/1 * * * *"', '"@every 1s"') : yaml),
  });
}, 180_000);

afterAll(async () => {
  await platform?.stop();
});

const user = () => `user-${randomUUID().slice(0, 8)}`;

/** The provider's entries for one task and event type. */
async function delivered(taskId: string, eventType: string) {
  return (await providerLog(platform)).received.filter((r) => r.body.task_id === taskId && r.body.event_type === eventType);
}

describe('todo platform on the embedded default', () => {
  it('creating and completing a task notifies the provider with the API key from the secret store', async () => {
    const alice = user();
    const client = api(platform, alice);
    const created = await client.create({ title: 'Write the report', priority: 'high', tags: ['work'] });
    expect(created.status).toBe(201);
    const id = created.body['id'] as string;

    const [createdNote] = await waitFor('the task.created notification', async () => {
      const got = await delivered(id, 'task.created');
      return got.length > 0 ? got : undefined;
    });
    expect(createdNote?.authorization).toBe('Bearer local-dev-sendgrid-key');
    expect(createdNote?.body.to).toBe(`${alice}@example.com`);
    expect(createdNote?.body.subject).toBe('New task: Write the report');

    const completed = await client.complete(id);
    expect(completed.status).toBe(200);
    expect(completed.body['status']).toBe('completed');
    await waitFor('the task.completed notification', async () => ((await delivered(id, 'task.completed')).length > 0 ? true : undefined));

    // The user's notification list (backend → notification-service by service invocation).
    const notes = await waitFor('the notification list', async () => {
      const res = await client.call('GET', '/api/notifications');
      const list = res.body['notifications'] as { task_id: string; event_type: string }[];
      return list.filter((n) => n.task_id === id).length === 2 ? list : undefined;
    });
    expect(notes.map((n) => n.event_type).sort()).toEqual(['task.completed', 'task.created']);
    // Exactly one call each: no duplicate notifications.
    expect(await delivered(id, 'task.created')).toHaveLength(1);
    expect(await delivered(id, 'task.completed')).toHaveLength(1);
  });

  it("completing a recurring task creates the next occurrence through recurring-task-service", async () => {
    const client = api(platform, user());
    const created = await client.create({ title: 'Water the plants', due_at: '2030-01-01T09:00:00Z', recurrence: { frequency: 'weekly', interval: 1 } });
    const id = created.body['id'] as string;
    // The backend told recurring-task-service about it (service invocation, api/tasks/created).
    const status = (await (await fetch(`http://127.0.0.1:${platform.recurring.app}/api/status`)).json()) as { registered: string[] };
    expect(status.registered).toContain(id);
    await client.complete(id);
    const next = await waitFor('the next occurrence', async () => {
      const list = (await client.list('?status=pending')).body['tasks'] as { recurrence_parent_id: string | null; due_at: string; title: string }[];
      return list.find((t) => t.recurrence_parent_id === id);
    });
    expect(next.title).toBe('Water the plants');
    expect(next.due_at).toBe('2030-01-08T09:00:00.000Z');
    // Completing it again is a no-op and never creates a second successor.
    expect((await client.complete(id)).status).toBe(200);
    const all = (await client.list()).body['tasks'] as { recurrence_parent_id: string | null }[];
    expect(all.filter((t) => t.recurrence_parent_id === id)).toHaveLength(1);
  });

  it('lists with filters and refuses invalid input', async () => {
    const client = api(platform, user());
    await client.create({ title: 'a', priority: 'low', tags: ['home'], due_at: '2030-01-01T00:00:00Z' });
    await client.create({ title: 'b', priority: 'high', tags: ['work'], due_at: '2030-06-01T00:00:00Z' });
    const c = await client.create({ title: 'c', priority: 'high', tags: ['work', 'urgent'] });
    await client.complete(c.body['id'] as string);
    const titles = async (q: string) => ((await client.list(q)).body['tasks'] as { title: string }[]).map((t) => t.title).sort();
    expect(await titles('')).toEqual(['a', 'b', 'c']);
    expect(await titles('?priority=high')).toEqual(['b', 'c']);
    expect(await titles('?status=completed')).toEqual(['c']);
    expect(await titles('?tag=work')).toEqual(['b', 'c']);
    expect(await titles('?due_before=2030-03-01T00:00:00Z')).toEqual(['a']);
    expect(await titles('?priority=high&status=pending')).toEqual(['b']);

    const bad = await client.create({ title: '', priority: 'urgent' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body['details'])).toContain('priority');
    expect((await client.list('?status=done')).status).toBe(400);
    expect((await client.get(randomUUID())).status).toBe(404);
    const noUser = await fetch(`${platform.backendUrl}/api/tasks`);
    expect(noUser.status).toBe(400);
    const doc = (await (await fetch(`${platform.backendUrl}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/api/tasks/{id}/complete');
  });

  it('caches a task in the state store with a TTL and drops it on change', async () => {
    const client = api(platform, user());
    const id = (await client.create({ title: 'cached' })).body['id'] as string;
    const stateUrl = `http://127.0.0.1:${platform.backend.dapr}/v1.0/state/statestore/task:${id}`;

    expect((await client.get(id)).headers.get('x-cache')).toBe('miss');
    expect((await client.get(id)).headers.get('x-cache')).toBe('hit');
    expect((await fetch(stateUrl)).status).toBe(200);
    // The TTL expires the entry by itself.
    await waitFor('the cache entry to expire', async () => ((await fetch(stateUrl)).status === 204 ? true : undefined), 30_000);
    expect((await client.get(id)).headers.get('x-cache')).toBe('miss');
    expect((await client.get(id)).headers.get('x-cache')).toBe('hit');

    // An update invalidates it: the next read is fresh, never the stale cached copy.
    const updated = await client.update(id, { title: 'renamed' });
    expect(updated.status).toBe(200);
    expect((await fetch(stateUrl)).status).toBe(204);
    const read = await client.get(id);
    expect(read.headers.get('x-cache')).toBe('miss');
    expect(read.body['title']).toBe('renamed');
  });

  it('answers the 61st request in a minute with 429', async () => {
    const client = api(platform, user());
    for (let i = 1; i <= 60; i++) {
      const res = await client.list();
      expect(res.status, `request ${i}`).toBe(200);
      expect(res.headers.get('x-ratelimit-remaining')).toBe(String(60 - i));
    }
    const over = await client.list();
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another user is not affected.
    expect((await api(platform, user()).list()).status).toBe(200);
  });

  it('never lets concurrent requests exceed the limit', async () => {
    const client = api(platform, user());
    const results = await Promise.all(Array.from({ length: 90 }, () => client.list()));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(60);
    expect(statuses.filter((s) => s === 429)).toHaveLength(30);
  }, 120_000);

  it('fires a due reminder through the cron binding and notifies once', async () => {
    const client = api(platform, user());
    const id = (await client.create({ title: 'Call the dentist', remind_at: new Date(Date.now() - 1000).toISOString() })).body['id'] as string;
    await waitFor('the reminder notification', async () => ((await delivered(id, 'reminder.due')).length > 0 ? true : undefined), 60_000, platform.output);
    // Let the checker run several more times: the reminder is claimed once, so no second notification.
    const ticks = () => platform.output().split('"binding":"reminder-checker-cron"').length;
    const seen = ticks();
    await waitFor('three more reminder checks', async () => (ticks() >= seen + 3 ? true : undefined));
    expect(await delivered(id, 'reminder.due')).toHaveLength(1);
    const log = await providerLog(platform);
    expect(log.received.filter((r) => r.body.task_id === id && r.body.event_type === 'reminder.due')[0]?.body.subject).toBe('Reminder: Call the dentist');
  }, 120_000);

  it('keeps conversation state', async () => {
    const client = api(platform, user());
    const created = await client.call('POST', '/api/conversations');
    expect(created.status).toBe(201);
    const cid = created.body['conversation_id'] as string;
    await client.call('POST', `/api/conversations/${cid}/messages`, { role: 'user', content: 'Create a task for tomorrow' });
    await client.call('POST', `/api/conversations/${cid}/messages`, { role: 'assistant', content: 'Done.' });
    const read = await client.call('GET', `/api/conversations/${cid}`);
    expect((read.body['messages'] as { role: string; content: string }[]).map((m) => [m.role, m.content])).toEqual([
      ['user', 'Create a task for tomorrow'],
      ['assistant', 'Done.'],
    ]);
    // Another user cannot read it.
    expect((await api(platform, user()).call('GET', `/api/conversations/${cid}`)).status).toBe(404);
  });
});
