import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../logging/logger.js';
import type { WorkItemMessage } from './dispatcher.js';
import { WorkflowEngine } from './engine.js';
import { SqliteWorkflowBackend } from './sqlite-backend.js';

const engines: WorkflowEngine[] = [];

async function engine(redeliverAfterMs: number): Promise<WorkflowEngine> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-redeliver-'));
  const e = new WorkflowEngine({ backend: new SqliteWorkflowBackend(path.join(dir, 'wf.sqlite'), 'redeliver'), logger: silentLogger(), redeliverAfterMs });
  engines.push(e);
  return e;
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
});

describe('redelivery of unanswered work items', () => {
  it('dispatches an orchestration work item again when a live stream never answers it, and applies the eventual answer once', async () => {
    const e = await engine(150);
    const sent: WorkItemMessage[] = [];
    e.connect((item) => sent.push(item), () => undefined);
    await e.start({ instanceId: 'dropped-1', name: 'wf', input: null });
    const requestsFor = () => sent.filter((m) => 'orchestratorRequest' in m && m.orchestratorRequest.instanceId === 'dropped-1').length;
    await until(() => requestsFor() >= 2, 'the orchestration work item to be sent a second time');
    expect((await e.get('dropped-1'))?.status).toBe('PENDING');

    await e.completeOrchestration('dropped-1', {
      actions: [{ id: -1, completeOrchestration: { orchestrationStatus: 'ORCHESTRATION_STATUS_COMPLETED', result: { value: '"done"' } } }],
      customStatus: null,
    });
    const done = await e.get('dropped-1');
    expect(done).toMatchObject({ status: 'COMPLETED', output: '"done"' });
  });

  it('dispatches an activity again when a live stream never answers it, and records its late result once', async () => {
    const e = await engine(150);
    const sent: WorkItemMessage[] = [];
    e.connect((item) => sent.push(item), () => undefined);
    await e.start({ instanceId: 'dropped-2', name: 'wf', input: null });
    await until(() => sent.some((m) => 'orchestratorRequest' in m), 'the orchestration work item');
    await e.completeOrchestration('dropped-2', { actions: [{ id: 1, scheduleTask: { name: 'slow', input: null } }] });
    const activitySends = () => sent.filter((m) => 'activityRequest' in m && m.activityRequest.taskId === 1).length;
    await until(() => activitySends() >= 2, 'the activity to be sent a second time');

    await e.completeActivity({ instanceId: 'dropped-2', taskId: 1, result: '"first"', failure: null });
    await e.completeActivity({ instanceId: 'dropped-2', taskId: 1, result: '"second"', failure: null });
    await until(() => sent.filter((m) => 'orchestratorRequest' in m).length >= 2, 'the orchestration to resume with the result');
    const resumed = sent.filter((m) => 'orchestratorRequest' in m).at(-1)!;
    const results = 'orchestratorRequest' in resumed ? resumed.orchestratorRequest.newEvents.filter((ev) => ev.taskCompleted) : [];
    expect(results.map((ev) => ev.taskCompleted?.result)).toEqual([{ value: '"first"' }]);
  });
});
