/**
 * Late and duplicate orchestrator answers (issue 10): an answer computed from one batch must never be
 * applied to another. Each scenario is a 2-way fan-out whose first result reaches the worker in a batch
 * of its own; the second result arrives while that batch is unanswered, and the batch is then delivered
 * again (unanswered, or its stream closed). Applying the first delivery's empty answer to a redelivered
 * batch that also carries the second result consumed both results and left the instance RUNNING with
 * nothing pending, for good.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { dropRedisWorkflowApps, newRedisWorkflowApp, openRedisWorkflowBackend } from '../../../../test/support/redis-workflows.js';
import { POSTGRES_URL, SERVICES, requireService } from '../../../../test/support/services.js';
import { silentLogger } from '../logging/logger.js';
import type { WorkflowBackend } from './backend.js';
import type { WorkItemMessage, WorkerStream } from './dispatcher.js';
import { WorkflowEngine } from './engine.js';
import type { WorkflowEngineOptions } from './engine.js';
import { MemoryWorkflowBackend } from './memory-backend.js';
import { PostgresWorkflowBackend } from './postgres-backend.js';
import { SqliteWorkflowBackend } from './sqlite-backend.js';
import type { OrchestratorResult } from './step.js';
import type { HistoryEvent } from './types.js';

const engines: WorkflowEngine[] = [];

afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
});

/** Two backends on one store (two sidecars of one app). */
const sharedStores: Record<string, () => Promise<[WorkflowBackend, WorkflowBackend] | undefined>> = {
  memory: async () => {
    const store = new MemoryWorkflowBackend();
    return [store, store];
  },
  sqlite: async () => {
    const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'weft-late-')), 'wf.sqlite');
    return [new SqliteWorkflowBackend(file, 'late'), new SqliteWorkflowBackend(file, 'late')];
  },
  postgres: async () => {
    if (!(await requireService(SERVICES.postgres, 'late workflow answers on Postgres'))) return undefined;
    const appId = `late-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    return [await PostgresWorkflowBackend.open(POSTGRES_URL, appId), await PostgresWorkflowBackend.open(POSTGRES_URL, appId)];
  },
  redis: async () => {
    if (!(await requireService(SERVICES.redis, 'late workflow answers on Redis'))) return undefined;
    const appId = newRedisWorkflowApp('late');
    return [await openRedisWorkflowBackend(appId), await openRedisWorkflowBackend(appId)];
  },
};

const backends: Record<string, () => Promise<WorkflowBackend | undefined>> = {
  memory: async () => new MemoryWorkflowBackend(),
  sqlite: async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-late-'));
    return new SqliteWorkflowBackend(path.join(dir, 'wf.sqlite'), 'late');
  },
  postgres: async () => {
    if (!(await requireService(SERVICES.postgres, 'late workflow answers on Postgres'))) return undefined;
    return PostgresWorkflowBackend.open(POSTGRES_URL, `late-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  },
  redis: async () => {
    if (!(await requireService(SERVICES.redis, 'late workflow answers on Redis'))) return undefined;
    return openRedisWorkflowBackend(newRedisWorkflowApp('late'));
  },
};

afterAll(() => dropRedisWorkflowApps());

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

type OrchestratorItem = Extract<WorkItemMessage, { orchestratorRequest: unknown }>;

/** A fake worker stream that records what it is sent. */
class Recorder {
  readonly sent: WorkItemMessage[] = [];
  stream!: WorkerStream;
  constructor(e: WorkflowEngine) {
    this.stream = e.connect((item) => this.sent.push(item), () => undefined);
  }
  orchestrations(instanceId: string): OrchestratorItem[] {
    return this.sent.filter((m): m is OrchestratorItem => 'orchestratorRequest' in m && m.orchestratorRequest.instanceId === instanceId);
  }
}

const completedIds = (events: HistoryEvent[]) => events.flatMap((e) => (e.taskCompleted ? [e.taskCompleted.taskScheduledId] : []));
const noActions: OrchestratorResult = { actions: [], customStatus: null };
const finish: OrchestratorResult = {
  actions: [{ id: 3, completeOrchestration: { orchestrationStatus: 'ORCHESTRATION_STATUS_COMPLETED', result: { value: '"done"' } } }],
  customStatus: null,
};

async function newEngine(driver: string, options: Partial<WorkflowEngineOptions>): Promise<WorkflowEngine | undefined> {
  const backend = await backends[driver]!();
  if (!backend) return undefined;
  const e = new WorkflowEngine({ backend, logger: silentLogger(), ...options });
  engines.push(e);
  return e;
}

/**
 * Runs the fan-out up to the point where the first result's batch (`TaskCompleted#1` alone) is out
 * on `worker` and the second result is stored: returns that batch.
 */
async function firstResultOut(e: WorkflowEngine, worker: Recorder, id: string): Promise<OrchestratorItem> {
  await e.start({ instanceId: id, name: 'fan2', input: null });
  await until(() => worker.orchestrations(id).length >= 1, 'the first orchestration work item');
  await e.completeOrchestration(id, {
    actions: [
      { id: 1, scheduleTask: { name: 'a', input: null } },
      { id: 2, scheduleTask: { name: 'b', input: null } },
    ],
    customStatus: null,
  });
  await until(() => worker.sent.filter((m) => 'activityRequest' in m).length >= 2, 'both activities');
  await e.completeActivity({ instanceId: id, taskId: 1, result: '1', failure: null });
  await until(() => worker.orchestrations(id).length >= 2, 'the batch with the first result');
  const batch = worker.orchestrations(id)[1]!;
  expect(completedIds(batch.orchestratorRequest.newEvents)).toEqual([1]);
  await e.completeActivity({ instanceId: id, taskId: 2, result: '2', failure: null });
  return batch;
}

/** After the first result's batch was answered (once), the second result must come in a batch of its own, and finishing works. */
async function secondResultThenFinish(e: WorkflowEngine, workers: Recorder[], id: string, token?: string): Promise<void> {
  const batches = () => workers.flatMap((w) => w.orchestrations(id));
  await until(() => batches().some((b) => completedIds(b.orchestratorRequest.newEvents).includes(2)), 'a batch with the second result');
  const second = batches().find((b) => completedIds(b.orchestratorRequest.newEvents).includes(2))!;
  expect(completedIds(second.orchestratorRequest.newEvents)).toEqual([2]);
  expect(completedIds(second.orchestratorRequest.pastEvents)).toEqual([1]);
  await e.completeOrchestration(id, finish, token === undefined ? undefined : second.completionToken);
  await until(async () => (await e.get(id))?.status === 'COMPLETED', 'the instance to complete');
  expect(completedIds(await e.history(id))).toEqual([1, 2]);
}

describe.each(Object.keys(backends))('late and duplicate orchestrator answers on %s', (driver) => {
  it('applies a late answer after a redelivery to the batch it was computed from, and drops the redelivery’s answer', async () => {
    const e = await newEngine(driver, { redeliverAfterMs: 150 });
    if (!e) return;
    const worker = new Recorder(e);
    const first = await firstResultOut(e, worker, 'late-redelivered');
    await until(() => worker.orchestrations('late-redelivered').length >= 3, 'the batch to be redelivered');
    const redelivered = worker.orchestrations('late-redelivered')[2]!;
    // Redelivered unchanged: the late answer fits whichever delivery it is applied to.
    expect(completedIds(redelivered.orchestratorRequest.newEvents)).toEqual([1]);
    expect(redelivered.completionToken).toBe(first.completionToken);
    // The JS SDKs echo no token: the first delivery's answer, then the redelivery's.
    await e.completeOrchestration('late-redelivered', noActions);
    await e.completeOrchestration('late-redelivered', noActions);
    await secondResultThenFinish(e, [worker], 'late-redelivered');
  });

  it('applies a late answer from a closed stream to its batch, and drops the new stream’s answer to the same batch', async () => {
    const e = await newEngine(driver, {});
    if (!e) return;
    const old = new Recorder(e);
    const first = await firstResultOut(e, old, 'late-closed');
    const replacement = new Recorder(e);
    await e.disconnect(old.stream);
    await until(() => replacement.orchestrations('late-closed').length >= 1, 'the batch on the new stream');
    expect(replacement.orchestrations('late-closed')[0]!.completionToken).toBe(first.completionToken);
    expect(completedIds(replacement.orchestrations('late-closed')[0]!.orchestratorRequest.newEvents)).toEqual([1]);
    await e.completeOrchestration('late-closed', noActions); // the closed stream's worker, late
    await e.completeOrchestration('late-closed', noActions); // the new stream's worker
    await secondResultThenFinish(e, [replacement], 'late-closed');
  });

  it('ignores a duplicate answer that echoes the token of a batch already answered', async () => {
    const e = await newEngine(driver, {});
    if (!e) return;
    const worker = new Recorder(e);
    const first = await firstResultOut(e, worker, 'dup-token');
    await e.completeOrchestration('dup-token', noActions, first.completionToken);
    await until(() => worker.orchestrations('dup-token').length >= 3, 'the batch with the second result');
    // The duplicate arrives while the next batch is out: it must not be applied to it.
    await e.completeOrchestration('dup-token', noActions, first.completionToken);
    expect((await e.get('dup-token'))?.status).toBe('RUNNING');
    await secondResultThenFinish(e, [worker], 'dup-token', 'echo');
  });

  it('ignores an activity result that echoes the token of an earlier execution', async () => {
    const e = await newEngine(driver, {});
    if (!e) return;
    const worker = new Recorder(e);
    await e.start({ instanceId: 'act-token', name: 'one', input: null });
    await until(() => worker.orchestrations('act-token').length >= 1, 'the orchestration work item');
    await e.completeOrchestration('act-token', { actions: [{ id: 1, scheduleTask: { name: 'a', input: null } }], customStatus: null });
    await until(() => worker.sent.some((m) => 'activityRequest' in m), 'the activity');
    const activity = worker.sent.find((m) => 'activityRequest' in m)!;
    await e.completeActivity({ instanceId: 'act-token', taskId: 1, result: '"stale"', failure: null, completionToken: 'another-execution#1' });
    await e.completeActivity({ instanceId: 'act-token', taskId: 1, result: '"ok"', failure: null, completionToken: activity.completionToken });
    await until(() => worker.orchestrations('act-token').length >= 2, 'the batch with the result');
    const results = worker.orchestrations('act-token')[1]!.orchestratorRequest.newEvents.flatMap((ev) => (ev.taskCompleted ? [ev.taskCompleted.result] : []));
    expect(results).toEqual([{ value: '"ok"' }]);
  });

  it('hands a batch pinned on a sidecar whose last worker left to another sidecar after the late-answer window', async () => {
    const pair = await sharedStores[driver]!();
    if (!pair) return;
    const a = new WorkflowEngine({ backend: pair[0], logger: silentLogger(), lateAnswerMs: 200 });
    const b = new WorkflowEngine({ backend: pair[1], logger: silentLogger(), lateAnswerMs: 200 });
    engines.push(a, b);
    const onA = new Recorder(a);
    await a.start({ instanceId: 'handover', name: 'wf', input: null });
    await until(() => onA.orchestrations('handover').length >= 1, 'the work item on the first sidecar');
    await a.disconnect(onA.stream);
    const onB = new Recorder(b);
    await until(() => onB.orchestrations('handover').length >= 1, 'the work item on the second sidecar');
    await b.completeOrchestration('handover', finish);
    await until(async () => (await b.get('handover'))?.status === 'COMPLETED', 'the instance to complete');
  });
});
