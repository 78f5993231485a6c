/**
 * Redis `completeActivityAndLock` beyond the conformance suite: other replicas are told of a result on
 * the work channel only when it did not lock its instance, and the history hint returns only the
 * events after what the caller holds.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { TEST_REDIS, dropRedisWorkflowApps, newRedisWorkflowApp, openRedisWorkflowBackend } from '../../../../test/support/redis-workflows.js';
import { SERVICES, requireService } from '../../../../test/support/services.js';
import { stepFor } from './backend-conformance.js';
import { ev } from './history.js';
import type { RedisWorkflowBackend } from './redis-backend.js';

const LEASE = 30_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (ms: number) => new Date(T0 + ms);

const opened: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  for (const c of opened.splice(0)) await c.close();
});
afterAll(() => dropRedisWorkflowApps());

/** A backend on a fresh app; undefined when Redis is down. */
async function open(): Promise<RedisWorkflowBackend | undefined> {
  if (!(await requireService(SERVICES.redis, 'completeActivityAndLock on Redis'))) return undefined;
  const b = await openRedisWorkflowBackend(newRedisWorkflowApp('complete-lock'));
  opened.push(b);
  return b;
}

/** Instance `id` RUNNING with activities 1..`tasks` queued, unlocked; its execution id. */
async function withActivities(b: RedisWorkflowBackend, id: string, tasks: number): Promise<string> {
  const executionId = randomUUID();
  await b.createInstance({
    instanceId: id,
    name: 'wf',
    input: null,
    executionId,
    createdAt: at(0),
    scheduledStartAt: null,
    parentInstanceId: null,
    parentTaskId: null,
    startEvent: ev.executionStarted(id, 'wf', null, { executionId, at: at(0) }),
  });
  const item = (await b.lockNextOrchestration('o', LEASE, at(1)))!;
  const activities = Array.from({ length: tasks }, (_, k) => ({ taskId: k + 1, name: 'a', input: null }));
  await b.commitStep('o', stepFor(item, { activities, appendHistory: [...item.messages.map((m) => m.event), ev.orchestratorStarted(at(1))] }), at(2));
  return executionId;
}

const done = (taskId: number, ms: number) => ev.taskCompleted(taskId, `"r${taskId}"`, at(ms));

/** The senders of the messages on the work channel, in the order Redis delivered them. */
async function listen(b: RedisWorkflowBackend): Promise<{ heard: string[]; mark(): Promise<void> }> {
  const channel = `${b.keyPrefix}work`;
  const subscriber = new Redis({ ...TEST_REDIS });
  const publisher = new Redis({ ...TEST_REDIS });
  opened.push({ close: () => subscriber.disconnect() }, { close: () => publisher.disconnect() });
  const heard: string[] = [];
  const waiting: (() => void)[] = [];
  subscriber.on('message', (_channel: string, sender: string) => {
    heard.push(sender);
    if (sender === 'mark') waiting.shift()?.();
  });
  await subscriber.subscribe(channel);
  return {
    heard,
    // One node delivers a channel's messages in publish order: once the mark arrives, everything
    // published before it has arrived too.
    mark: () =>
      new Promise<void>((resolve, reject) => {
        waiting.push(resolve);
        publisher.publish(channel, 'mark').catch(reject);
      }),
  };
}

describe('completeActivityAndLock on Redis', () => {
  it('tells other replicas of a result only when it did not lock its instance', async () => {
    const b = await open();
    if (!b) return;
    await withActivities(b, 'n', 3);
    const channel = await listen(b);

    // Locked to the completer: the work is its own, nobody is told.
    expect((await b.completeActivityAndLock('n', 1, done(1, 3), at(3), { owner: 'me', leaseMs: LEASE })).item).toBeDefined();
    await channel.mark();
    expect(channel.heard).toEqual(['mark']);

    // Held (by the completer's own lease here): stored only, and announced as a plain completion is.
    expect(await b.completeActivityAndLock('n', 2, done(2, 4), at(4), { owner: 'me', leaseMs: LEASE })).toEqual({ accepted: true });
    await channel.mark();
    expect(channel.heard).toHaveLength(3);
    expect(channel.heard.slice(1)).toEqual([expect.not.stringMatching(/^mark$/), 'mark']);

    // A repeated result: nothing stored, nothing announced.
    expect(await b.completeActivityAndLock('n', 2, done(2, 5), at(5), { owner: 'me', leaseMs: LEASE })).toEqual({ accepted: false });
    await channel.mark();
    expect(channel.heard.slice(3)).toEqual(['mark']);
  });

  it('returns only the history after what the caller holds of the same execution, else all of it', async () => {
    const b = await open();
    if (!b) return;
    const executionId = await withActivities(b, 'h', 3);
    const history = await b.getHistory('h');
    expect(history).toHaveLength(2);

    const partial = (await b.completeActivityAndLock('h', 1, done(1, 3), at(3), { owner: 'me', leaseMs: LEASE, known: () => ({ executionId, length: 1 }) })).item!;
    expect(partial.historyFrom).toBe(1);
    expect(partial.history).toEqual(history.slice(1));
    await b.releaseOrchestration('me', 'h');

    // Another execution, or more than there is: the whole history.
    for (const [task, known] of [[2, { executionId: 'other', length: 1 }], [3, { executionId, length: 3 }]] as const) {
      const item = (await b.completeActivityAndLock('h', task, done(task, 4), at(4), { owner: 'me', leaseMs: LEASE, known: () => known })).item!;
      expect(item.historyFrom).toBeUndefined();
      expect(item.history).toEqual(history);
      await b.releaseOrchestration('me', 'h');
    }
  });
});
