import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../logging/logger.js';
import type { WorkItemMessage } from './dispatcher.js';
import { WorkflowEngine } from './engine.js';
import type { WorkflowEngineOptions } from './engine.js';
import { SqliteWorkflowBackend } from './sqlite-backend.js';
import type { HistoryEvent } from './types.js';

const engines: WorkflowEngine[] = [];

async function engine(options: Partial<WorkflowEngineOptions> = {}): Promise<WorkflowEngine> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-coalesce-'));
  const e = new WorkflowEngine({ backend: new SqliteWorkflowBackend(path.join(dir, 'wf.sqlite'), 'coalesce'), logger: silentLogger(), ...options });
  engines.push(e);
  return e;
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Lets the dispatcher run a few rounds (each is a setImmediate). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

type OrchestratorRequest = Extract<WorkItemMessage, { orchestratorRequest: unknown }>['orchestratorRequest'];
const orchestrations = (sent: WorkItemMessage[]): OrchestratorRequest[] =>
  sent.flatMap((m) => ('orchestratorRequest' in m ? [m.orchestratorRequest] : []));
const activities = (sent: WorkItemMessage[]) => sent.filter((m) => 'activityRequest' in m).length;
const results = (events: HistoryEvent[]) => events.filter((e) => e.taskCompleted).length;

afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
});

describe('fan-out coalescing', () => {
  it('dispatches a 10-way fan-out\'s orchestrator twice: once to schedule, once with all ten results', async () => {
    const e = await engine({ coalesceMs: 60_000 });
    const sent: WorkItemMessage[] = [];
    e.connect((item) => sent.push(item), () => undefined);
    await e.start({ instanceId: 'fan', name: 'wf', input: null });
    await until(() => orchestrations(sent).length === 1, 'the first orchestrator run');
    await e.completeOrchestration('fan', { actions: Array.from({ length: 10 }, (_, i) => ({ id: i + 1, scheduleTask: { name: 'part', input: null } })) });
    await until(() => activities(sent) === 10, 'the ten activities');
    for (let taskId = 1; taskId <= 9; taskId++) {
      await e.completeActivity({ instanceId: 'fan', taskId, result: String(taskId), failure: null });
      // Without coalescing, each of these rounds would dispatch the orchestrator with the results so far.
      await turns(5);
      expect(orchestrations(sent)).toHaveLength(1);
    }
    await e.completeActivity({ instanceId: 'fan', taskId: 10, result: '10', failure: null });
    await until(() => orchestrations(sent).length === 2, 'the orchestrator to run with the results');
    expect(results(orchestrations(sent)[1]!.newEvents)).toBe(10);
    expect(e.dispatchStats.orchestrations).toBe(2);
  });

  it('waits for the activities a step left queued (no room to send them) as well as those it sent', async () => {
    const e = await engine({ coalesceMs: 600_000, maxConcurrentActivities: 2 });
    const sent: WorkItemMessage[] = [];
    e.connect((item) => sent.push(item), () => undefined);
    await e.start({ instanceId: 'queued', name: 'wf', input: null });
    await until(() => orchestrations(sent).length === 1, 'the first orchestrator run');
    await e.completeOrchestration('queued', { actions: [1, 2, 3, 4].map((id) => ({ id, scheduleTask: { name: 'part', input: null } })) });
    await until(() => activities(sent) === 2, 'the two activities there is room for');
    await e.completeActivity({ instanceId: 'queued', taskId: 1, result: '1', failure: null });
    await e.completeActivity({ instanceId: 'queued', taskId: 2, result: '2', failure: null });
    await until(() => activities(sent) === 4, 'the two queued activities');
    await e.completeActivity({ instanceId: 'queued', taskId: 3, result: '3', failure: null });
    await turns(5);
    expect(orchestrations(sent)).toHaveLength(1);
    await e.completeActivity({ instanceId: 'queued', taskId: 4, result: '4', failure: null });
    await until(() => orchestrations(sent).length === 2, 'the orchestrator to run with the results');
    expect(results(orchestrations(sent)[1]!.newEvents)).toBe(4);
  });

  it('dispatches at every result when coalescing is off (the behaviour it replaces)', async () => {
    const e = await engine({ coalesceMs: 0 });
    const sent: WorkItemMessage[] = [];
    e.connect((item) => sent.push(item), () => undefined);
    await e.start({ instanceId: 'each', name: 'wf', input: null });
    await until(() => orchestrations(sent).length === 1, 'the first orchestrator run');
    await e.completeOrchestration('each', { actions: [1, 2].map((id) => ({ id, scheduleTask: { name: 'part', input: null } })) });
    await until(() => activities(sent) === 2, 'the two activities');
    await e.completeActivity({ instanceId: 'each', taskId: 1, result: '1', failure: null });
    await until(() => orchestrations(sent).length === 2, 'the orchestrator to run with the first result');
    expect(results(orchestrations(sent)[1]!.newEvents)).toBe(1);
  });

  it('adds no wait to a sequence: with one activity out, its result dispatches the orchestrator at once', async () => {
    // A window that would outlast the test: the dispatch must not wait for it.
    const e = await engine({ coalesceMs: 600_000 });
    const sent: WorkItemMessage[] = [];
    e.connect((item) => sent.push(item), () => undefined);
    await e.start({ instanceId: 'seq', name: 'wf', input: null });
    await until(() => orchestrations(sent).length === 1, 'the first orchestrator run');
    await e.completeOrchestration('seq', { actions: [{ id: 1, scheduleTask: { name: 'inc', input: null } }] });
    await until(() => activities(sent) === 1, 'the activity');
    await e.completeActivity({ instanceId: 'seq', taskId: 1, result: '1', failure: null });
    await until(() => orchestrations(sent).length === 2, 'the orchestrator to run with the result');
  });

  it('holds the orchestrator no longer than the window while an activity is still out', async () => {
    const e = await engine({ coalesceMs: 30 });
    const sent: WorkItemMessage[] = [];
    e.connect((item) => sent.push(item), () => undefined);
    await e.start({ instanceId: 'slow', name: 'wf', input: null });
    await until(() => orchestrations(sent).length === 1, 'the first orchestrator run');
    await e.completeOrchestration('slow', { actions: [1, 2].map((id) => ({ id, scheduleTask: { name: 'part', input: null } })) });
    await until(() => activities(sent) === 2, 'the two activities');
    await e.completeActivity({ instanceId: 'slow', taskId: 1, result: '1', failure: null });
    // Task 2 never answers: the window ends and the orchestrator runs with what is in.
    await until(() => orchestrations(sent).length === 2, 'the orchestrator to run after the window');
    expect(results(orchestrations(sent)[1]!.newEvents)).toBe(1);
  });

  it('releases a held orchestrator when the stream with its other activities closes', async () => {
    const e = await engine({ coalesceMs: 600_000 });
    const first: WorkItemMessage[] = [];
    const stream = e.connect((item) => first.push(item), () => undefined);
    await e.start({ instanceId: 'gone', name: 'wf', input: null });
    await until(() => orchestrations(first).length === 1, 'the first orchestrator run');
    await e.completeOrchestration('gone', { actions: [1, 2].map((id) => ({ id, scheduleTask: { name: 'part', input: null } })) });
    await until(() => activities(first) === 2, 'the two activities');
    await e.completeActivity({ instanceId: 'gone', taskId: 1, result: '1', failure: null });
    const second: WorkItemMessage[] = [];
    e.connect((item) => second.push(item), () => undefined);
    await e.disconnect(stream);
    // Task 2 is no longer out here: the orchestrator goes at once, and task 2 is sent again.
    await until(() => orchestrations(second).length === 1 && activities(second) === 1, 'the orchestrator and task 2 on the other stream');
    expect(results(orchestrations(second)[0]!.newEvents)).toBe(1);
  });
});

describe('worker stream backpressure', () => {
  it('sends nothing more to a stream whose transport asked to wait, until it drains', async () => {
    const e = await engine();
    const paused: WorkItemMessage[] = [];
    const open: WorkItemMessage[] = [];
    // The transport's buffer is full after every item.
    const stream = e.connect((item) => {
      paused.push(item);
      return false;
    }, () => undefined);
    await e.start({ instanceId: 'p-0', name: 'wf', input: null });
    await until(() => paused.length === 1, 'the first work item');
    e.connect((item) => open.push(item), () => undefined);
    for (let i = 1; i <= 4; i++) await e.start({ instanceId: `p-${i}`, name: 'wf', input: null });
    await until(() => open.length === 4, 'the other work items on the other stream');
    expect(paused).toHaveLength(1);
    // 'drain': the paused stream (the least busy) takes the next item.
    e.resumeStream(stream);
    await e.start({ instanceId: 'p-5', name: 'wf', input: null });
    await until(() => paused.length === 2, 'a work item on the drained stream');
    expect(open).toHaveLength(4);
  });
});
