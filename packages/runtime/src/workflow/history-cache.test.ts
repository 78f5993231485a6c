import { describe, expect, it } from 'vitest';
import type { OrchestrationStep, OrchestrationWorkItem, WorkflowBackend } from './backend.js';
import { ev } from './history.js';
import { stepFor } from './backend-conformance.js';
import { HistoryCache } from './history-cache.js';
import { MemoryWorkflowBackend } from './memory-backend.js';

const at = (ms: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + ms);

/** A step consuming the batch (after an OrchestratorStarted) and appending it to history. */
/** A RUNNING step consuming `item`'s messages, with an `OrchestratorStarted` first. */
function step(item: OrchestrationWorkItem, changes: Partial<OrchestrationStep> = {}): OrchestrationStep {
  return stepFor(item, { appendHistory: [ev.orchestratorStarted(at(1)), ...item.messages.map((m) => m.event)], ...changes });
}

/** Records what each claim asked for and got back. */
function recording(backend: WorkflowBackend, seen: { hint: number | undefined; historyFrom: number | undefined }[]): WorkflowBackend {
  return new Proxy(backend, {
    get(target, prop, receiver) {
      if (prop !== 'lockNextOrchestration') return Reflect.get(target, prop, receiver) as unknown;
      return async (...args: Parameters<WorkflowBackend['lockNextOrchestration']>) => {
        const [owner, leaseMs, now, skip, known] = args;
        let hint: number | undefined;
        const item = await target.lockNextOrchestration(owner, leaseMs, now, skip, (id) => {
          const k = known?.(id);
          hint = k?.length;
          return k;
        });
        seen.push({ hint, historyFrom: item?.historyFrom });
        return item;
      };
    },
  });
}

describe('HistoryCache', () => {
  it('asks only for the events after the history it holds, and hands out the whole history', async () => {
    const store = new MemoryWorkflowBackend();
    const seen: { hint: number | undefined; historyFrom: number | undefined }[] = [];
    const backend = recording(store, seen);
    const cache = new HistoryCache();
    const start = ev.executionStarted('i', 'wf', null, { executionId: 'e1', at: at(0) });
    await store.createInstance({ instanceId: 'i', name: 'wf', input: null, executionId: 'e1', createdAt: at(0), scheduledStartAt: null, parentInstanceId: null, parentTaskId: null, startEvent: start });
    for (let n = 1; n <= 3; n++) {
      const item = (await cache.lockNext(backend, 'me', 30_000, at(n)))!;
      expect(item.historyFrom).toBeUndefined();
      expect(item.history).toEqual(await store.getHistory('i'));
      const s = step(item);
      expect(await store.commitStep('me', s, at(n))).toBe(true);
      cache.committed(s, item.history);
      await store.enqueue({ instanceId: 'i', event: ev.eventRaised(`e${n}`, null, at(n)), visibleAt: at(n) });
    }
    // The first claim knew nothing; the later ones held the history and got none of it back.
    expect(seen.map((s) => [s.hint, s.historyFrom])).toEqual([[undefined, undefined], [2, 2], [4, 4]]);
    expect(cache.known('i')).toEqual({ executionId: 'e1', length: 6 });
  });

  it('forgets an instance that finished, whose step was refused, or that was released', async () => {
    const store = new MemoryWorkflowBackend();
    const cache = new HistoryCache();
    const backend = cache.wrap(store);
    for (const id of ['done', 'released']) {
      const start = ev.executionStarted(id, 'wf', null, { executionId: `x-${id}`, at: at(0) });
      await store.createInstance({ instanceId: id, name: 'wf', input: null, executionId: `x-${id}`, createdAt: at(0), scheduledStartAt: null, parentInstanceId: null, parentTaskId: null, startEvent: start });
    }
    const first = (await backend.lockNextOrchestration('me', 30_000, at(1)))!;
    const finished = step(first, { status: 'COMPLETED' });
    expect(await store.commitStep('me', finished, at(1))).toBe(true);
    cache.committed(finished, first.history);
    expect(cache.known(first.instance.instanceId)).toBeUndefined();
    const second = (await backend.lockNextOrchestration('me', 30_000, at(2)))!;
    expect(cache.size).toBe(1);
    await backend.releaseOrchestration('me', second.instance.instanceId);
    expect(cache.size).toBe(0);
  });

  it('keeps at most its bounds of instances and events, dropping the least recently used', () => {
    const cache = new HistoryCache(2, 5);
    const commit = (id: string, events: number) => {
      const item: OrchestrationWorkItem = {
        instance: { instanceId: id, name: 'wf', status: 'RUNNING', executionId: 'x', input: null, output: null, customStatus: null, failure: null, createdAt: at(0), lastUpdatedAt: at(0), scheduledStartAt: null, parentInstanceId: null, parentTaskId: null },
        history: [],
        messages: [],
      };
      cache.committed(step(item, { appendHistory: Array.from({ length: events }, () => ev.orchestratorStarted(at(0))) }), []);
    };
    commit('a', 1);
    commit('b', 1);
    commit('c', 1);
    expect(['a', 'b', 'c'].map((id) => cache.known(id)?.length)).toEqual([undefined, 1, 1]);
    commit('d', 5);
    expect(['b', 'c', 'd'].map((id) => cache.known(id)?.length)).toEqual([undefined, undefined, 5]);
  });
});
