import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../logging/logger.js';
import type { WorkItemMessage } from './dispatcher.js';
import { WorkflowEngine } from './engine.js';
import type { WorkflowObserver } from './observer.js';
import { SqliteWorkflowBackend } from './sqlite-backend.js';

/** What the engine reported, as `kind name status` lines (durations kept apart). */
class RecordingObserver implements WorkflowObserver {
  readonly events: string[] = [];
  readonly durations: Record<string, number[]> = {};
  private note(line: string, ms: number): void {
    this.events.push(line);
    (this.durations[line] ??= []).push(ms);
  }
  operation(operation: string, status: string, ms: number): void {
    this.note(`operation ${operation} ${status}`, ms);
  }
  execution(name: string, status: string, ms: number): void {
    this.note(`execution ${name} ${status}`, ms);
  }
  scheduled(name: string, ms: number): void {
    this.note(`scheduled ${name}`, ms);
  }
  activityOperation(name: string, status: string, ms: number): void {
    this.note(`activity-operation ${name} ${status}`, ms);
  }
  activityExecution(name: string, status: string, ms: number): void {
    this.note(`activity-execution ${name} ${status}`, ms);
  }
}

const engines: WorkflowEngine[] = [];

async function engine(observer: WorkflowObserver): Promise<WorkflowEngine> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-wf-observer-'));
  const e = new WorkflowEngine({ backend: new SqliteWorkflowBackend(path.join(dir, 'wf.sqlite'), 'observed'), logger: silentLogger(), observer });
  engines.push(e);
  return e;
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const complete = (status: string) => ({
  actions: [{ id: -1, completeOrchestration: { orchestrationStatus: status, result: { value: '"r"' } } }],
  customStatus: null,
});

afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
});

describe('workflow engine metric events', () => {
  it('reports a start, the scheduling delay of the first run, the activity and the successful end', async () => {
    const o = new RecordingObserver();
    const e = await engine(o);
    const sent: WorkItemMessage[] = [];
    await e.start({ instanceId: 'i1', name: 'greet', input: null });
    // No worker yet: the first run waits, and the wait is the scheduling latency.
    await new Promise((r) => setTimeout(r, 30));
    e.connect((item) => sent.push(item), () => undefined);
    await until(() => sent.length === 1, 'the first run');
    await e.completeOrchestration('i1', { actions: [{ id: 1, scheduleTask: { name: 'hello', input: null } }], customStatus: null });
    await until(() => sent.some((m) => 'activityRequest' in m), 'the activity');
    await e.completeActivity({ instanceId: 'i1', taskId: 1, result: '"hi"', failure: null });
    await until(() => sent.length === 3, 'the second run');
    await e.completeOrchestration('i1', complete('ORCHESTRATION_STATUS_COMPLETED'));

    expect(o.events).toEqual([
      'operation create_workflow success',
      'scheduled greet',
      'activity-operation hello success',
      'activity-execution hello success',
      'execution greet success',
    ]);
    expect(o.durations['scheduled greet']?.[0]).toBeGreaterThanOrEqual(30);
    expect(o.durations['activity-execution hello success']?.[0]).toBeGreaterThan(0);
  });

  it('reports a failed end, a failed activity, and termination of a running instance as failed', async () => {
    const o = new RecordingObserver();
    const e = await engine(o);
    const sent: WorkItemMessage[] = [];
    e.connect((item) => sent.push(item), () => undefined);
    await e.start({ instanceId: 'f1', name: 'fails', input: null });
    await until(() => sent.length === 1, 'the run');
    await e.completeOrchestration('f1', { actions: [{ id: 1, scheduleTask: { name: 'broken', input: null } }], customStatus: null });
    await until(() => sent.length === 2, 'the activity');
    await e.completeActivity({ instanceId: 'f1', taskId: 1, result: null, failure: { errorType: 'Error', errorMessage: 'boom' } });
    await until(() => sent.length === 3, 'the second run');
    await e.completeOrchestration('f1', complete('ORCHESTRATION_STATUS_FAILED'));
    await e.start({ instanceId: 't1', name: 'endless', input: null });
    await until(() => sent.length === 4, 'the run of the instance to terminate');
    await e.completeOrchestration('t1', { actions: [], customStatus: null });
    expect(await e.terminate('t1', null)).toBe(true);
    // Terminating it again changes nothing: no second execution.
    expect(await e.terminate('t1', null)).toBe(true);

    expect(o.events.filter((l) => !l.startsWith('scheduled') && !l.startsWith('operation create_workflow'))).toEqual([
      'activity-operation broken success',
      'activity-execution broken failed',
      'execution fails failed',
      'execution endless failed',
      'operation add_event success',
      'operation add_event success',
    ]);
  });

  it('reports raise, suspend, resume and purge as operations, failed when the instance is unknown', async () => {
    const o = new RecordingObserver();
    const e = await engine(o);
    await e.start({ instanceId: 'p1', name: 'wf', input: null });
    expect(await e.raiseEvent('p1', 'go', null)).toBe(true);
    expect(await e.raiseEvent('nobody', 'go', null)).toBe(false);
    expect(await e.setSuspended('p1', true)).toBe(true);
    expect(await e.setSuspended('p1', false)).toBe(true);
    await expect(e.purge('p1')).rejects.toThrow('only finished workflows can be purged');
    expect(await e.terminate('p1', null)).toBe(true);
    expect(await e.purge('p1')).toBe(1);
    expect(await e.purge('nobody')).toBeUndefined();
    await expect(e.start({ instanceId: 'dup', name: 'wf', input: null })).resolves.toBe('dup');
    await expect(e.start({ instanceId: 'dup', name: 'wf', input: null })).rejects.toThrow('already exists');

    expect(o.events).toEqual([
      'operation create_workflow success',
      'operation add_event success',
      'operation add_event failed',
      'operation add_event success',
      'operation add_event success',
      'operation purge_workflow failed',
      // Terminated before it ever ran: a failed execution, with no latency (it never started).
      'execution wf failed',
      'operation add_event success',
      'operation purge_workflow success',
      'operation purge_workflow failed',
      'operation create_workflow success',
      'operation create_workflow failed',
    ]);
    expect(o.durations['execution wf failed']).toEqual([0]);
  });

  it('reports work that has to run again as recoverable when its worker goes away', async () => {
    const o = new RecordingObserver();
    const e = await engine(o);
    const sent: WorkItemMessage[] = [];
    const stream = e.connect((item) => sent.push(item), () => undefined);
    await e.start({ instanceId: 'r1', name: 'again', input: null });
    await until(() => sent.length === 1, 'the run');
    await e.completeOrchestration('r1', { actions: [{ id: 1, scheduleTask: { name: 'slow', input: null } }], customStatus: null });
    await until(() => sent.length === 2, 'the activity');
    await e.start({ instanceId: 'r2', name: 'again', input: null });
    await until(() => sent.length === 3, 'the run of the second instance');
    await e.disconnect(stream);

    expect(o.events).toContain('activity-execution slow recoverable');
    expect(o.events).toContain('execution again recoverable');
  });
});
