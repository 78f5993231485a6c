/** Push dispatch of activity results: a result locks its free instance, and no claim has to find it. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../logging/logger.js';
import type { WorkflowBackend } from './backend.js';
import type { WorkItemMessage } from './dispatcher.js';
import { WorkflowEngine } from './engine.js';
import { SqliteWorkflowBackend } from './sqlite-backend.js';

const engines: WorkflowEngine[] = [];

afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
});

/** Calls per backend method, and the claims that found an instance. */
interface Counts {
  calls: Map<string, number>;
  claimed: number;
}

/** An engine on a fresh SQLite store whose backend calls are counted; `without` hides methods (an older backend). */
async function engine(
  coalesceMs: number,
  without: string[] = [],
  gate?: (method: string) => Promise<void>,
): Promise<{ e: WorkflowEngine; counts: Counts; sent: WorkItemMessage[] }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-lock-with-result-'));
  const backend = new SqliteWorkflowBackend(path.join(dir, 'wf.sqlite'), 'lock-with-result');
  const counts: Counts = { calls: new Map(), claimed: 0 };
  const counted = new Proxy(backend, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && without.includes(prop)) return undefined;
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        counts.calls.set(String(prop), (counts.calls.get(String(prop)) ?? 0) + 1);
        await gate?.(String(prop));
        const result: unknown = await (value as (...a: unknown[]) => unknown).apply(target, args);
        if (prop === 'lockNextOrchestration' && result) counts.claimed += 1;
        return result;
      };
    },
  }) as WorkflowBackend;
  const e = new WorkflowEngine({ backend: counted, logger: silentLogger(), coalesceMs });
  engines.push(e);
  const sent: WorkItemMessage[] = [];
  e.connect((item) => sent.push(item), () => undefined);
  return { e, counts, sent };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const orchestrations = (sent: WorkItemMessage[]) => sent.flatMap((m) => ('orchestratorRequest' in m ? [m.orchestratorRequest] : []));
const activities = (sent: WorkItemMessage[]) => sent.filter((m) => 'activityRequest' in m).length;

/** Starts `id`, lets its first run schedule `tasks` activities, and waits until they are sent. */
async function fanOut(e: WorkflowEngine, sent: WorkItemMessage[], id: string, tasks: number): Promise<void> {
  await e.start({ instanceId: id, name: 'wf', input: null });
  await until(() => orchestrations(sent).length === 1, 'the first orchestrator run');
  await e.completeOrchestration(id, { actions: Array.from({ length: tasks }, (_, i) => ({ id: i + 1, scheduleTask: { name: 'part', input: null } })) });
  await until(() => activities(sent) === tasks, 'the activities');
}

describe('activity results lock their instance', () => {
  it('dispatches the orchestrator with an activity result as soon as the result is stored, without a claim', async () => {
    const { e, counts, sent } = await engine(20);
    await fanOut(e, sent, 'seq', 1);
    await e.completeActivity({ instanceId: 'seq', taskId: 1, result: '1', failure: null });
    // Sent before completeActivity returned: no dispatch round, no claim query.
    const second = orchestrations(sent)[1];
    expect(second?.newEvents.filter((ev) => ev.taskCompleted)).toHaveLength(1);
    expect(counts.calls.get('completeActivityAndLock')).toBe(1);
    // The one claim that found work was the start's.
    expect(counts.claimed).toBe(1);
    await e.completeOrchestration('seq', { actions: [{ id: 2, completeOrchestration: { orchestrationStatus: 'ORCHESTRATION_STATUS_COMPLETED', result: { value: '1' } } }] });
    expect((await e.backend.getInstance('seq'))?.status).toBe('COMPLETED');
  });

  it('locks nothing with the results fan-out coalescing holds back, and locks with the last one', async () => {
    const { e, counts, sent } = await engine(600_000);
    await fanOut(e, sent, 'fan', 3);
    await e.completeActivity({ instanceId: 'fan', taskId: 1, result: '1', failure: null });
    await e.completeActivity({ instanceId: 'fan', taskId: 2, result: '2', failure: null });
    expect(counts.calls.get('completeActivityAndLock')).toBeUndefined();
    expect(orchestrations(sent)).toHaveLength(1);
    await e.completeActivity({ instanceId: 'fan', taskId: 3, result: '3', failure: null });
    expect(counts.calls.get('completeActivityAndLock')).toBe(1);
    expect(orchestrations(sent)[1]?.newEvents.filter((ev) => ev.taskCompleted)).toHaveLength(3);
    expect(counts.claimed).toBe(1);
  });

  it('lets the last result of a fan-out wait for its siblings still being stored, then lock the instance with them all', async () => {
    let open: () => void = () => undefined;
    const slow = new Promise<void>((resolve) => (open = resolve));
    // The first plain completion is slow to commit (a batch in flight), as on a remote database.
    let first = true;
    const { e, counts, sent } = await engine(600_000, [], async (method) => {
      if (method !== 'completeActivity' || !first) return;
      first = false;
      await slow;
    });
    await fanOut(e, sent, 'fan2', 2);
    const one = e.completeActivity({ instanceId: 'fan2', taskId: 1, result: '1', failure: null });
    const two = e.completeActivity({ instanceId: 'fan2', taskId: 2, result: '2', failure: null });
    // Both results are taken; the second waits for the first's store instead of storing alone.
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    expect(counts.calls.get('completeActivityAndLock')).toBeUndefined();
    expect(counts.calls.get('completeActivity')).toBe(1);
    open();
    await Promise.all([one, two]);
    expect(counts.calls.get('completeActivityAndLock')).toBe(1);
    expect(orchestrations(sent)[1]?.newEvents.filter((ev) => ev.taskCompleted)).toHaveLength(2);
    expect(counts.claimed).toBe(1);
  });

  it('falls back to a claim on a backend without completeActivityAndLock', async () => {
    const { e, counts, sent } = await engine(20, ['completeActivityAndLock']);
    await fanOut(e, sent, 'old', 1);
    await e.completeActivity({ instanceId: 'old', taskId: 1, result: '1', failure: null });
    await until(() => orchestrations(sent).length === 2, 'the orchestrator to run with the result');
    expect(counts.claimed).toBe(2);
  });
});
