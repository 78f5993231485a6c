/**
 * Crash safety of the embedded backend: the real `weft sidecar` is killed (`kill -9` from inside, at a
 * named debug point) while workflows are in flight, restarted on the same data directory, and every
 * workflow still completes with the right output. Duplicate activity executions (at-least-once) are
 * counted and printed. Kept small (20 workflows per point) because CI machines are shared.
 */
import { DaprWorkflowClient, WorkflowRuntime, WorkflowRuntimeStatus } from '@dapr/dapr';
import type { TWorkflow, WorkflowActivityContext, WorkflowContext } from '@dapr/dapr';
import { describe, expect, it } from 'vitest';
import { startWorkflowSidecar } from '../support/workflow-target.js';
import type { WorkflowTarget } from '../support/workflow-target.js';

const WORKFLOWS = 20;
const executions = new Map<string, number>();

const step = async (_: WorkflowActivityContext, input: { id: string; n: number }): Promise<number> => {
  const key = `${input.id}/step/${input.n}`;
  executions.set(key, (executions.get(key) ?? 0) + 1);
  return input.n + 1;
};
const part = async (_: WorkflowActivityContext, input: { id: string; i: number }): Promise<number> => {
  const key = `${input.id}/part/${input.i}`;
  executions.set(key, (executions.get(key) ?? 0) + 1);
  return input.i * 10;
};

const crashWorkflow: TWorkflow = async function* (ctx: WorkflowContext, id: string): AsyncGenerator<unknown, unknown, unknown> {
  let n = 1;
  for (let i = 0; i < 3; i++) n = (yield ctx.callActivity(step, { id, n })) as number;
  yield ctx.createTimer(1);
  const parts = (yield ctx.whenAll(Array.from({ length: 5 }, (_, i) => ctx.callActivity(part, { id, i: i + 1 })))) as number[];
  return { n, sum: parts.reduce((a, b) => a + b, 0) };
};

async function connect(target: WorkflowTarget): Promise<{ runtime: WorkflowRuntime; client: DaprWorkflowClient }> {
  const options = { daprHost: '127.0.0.1', daprPort: String(target.sidecar.grpcPort) };
  const runtime = new WorkflowRuntime(options).registerWorkflow(crashWorkflow).registerActivity(step).registerActivity(part);
  await runtime.start();
  return { runtime, client: new DaprWorkflowClient(options) };
}

const POINTS: [string, number][] = [
  ['workflow.orchestration.dispatched', 30],
  ['workflow.step.before-commit', 40],
  ['workflow.step.after-commit', 50],
  ['workflow.activity.before-complete', 60],
  ['workflow.activity.after-complete', 70],
];

describe('workflow crash safety on the embedded SQLite backend', () => {
  it.each(POINTS)('completes every workflow after a kill -9 at %s (hit %i)', async (point, hit) => {
    const appId = `crash-${Math.random().toString(36).slice(2, 8)}`;
    const env = { WEFT_WORKFLOW_LEASE_MS: '1500' };
    const first = await startWorkflowSidecar(appId, { env: { ...env, WEFT_DEBUG_POINTS: `${point}:crash@${hit}` } });
    const crashed = new Promise<void>((resolve) => first.process?.child.once('exit', () => resolve()));
    const before = await connect(first);
    const ids = Array.from({ length: WORKFLOWS }, (_, i) => `${appId}-${i}`);
    // The crash may come while scheduling: the rest are scheduled after the restart.
    for (const id of ids) {
      const ok = await before.client.scheduleNewWorkflow(crashWorkflow, id, id).then(
        () => true,
        () => false,
      );
      if (!ok) break;
    }
    await crashed;
    void before.runtime.stop().catch(() => undefined);
    void before.client.stop().catch(() => undefined);

    const second = await startWorkflowSidecar(appId, { env, dataDir: first.dataDir });
    const after = await connect(second);
    try {
      for (const id of ids) if (!(await after.client.getWorkflowState(id, false))) await after.client.scheduleNewWorkflow(crashWorkflow, id, id);
      for (const id of ids) {
        const state = await after.client.waitForWorkflowCompletion(id, true, 60);
        expect(state?.runtimeStatus).toBe(WorkflowRuntimeStatus.COMPLETED);
        expect(JSON.parse(state?.serializedOutput ?? 'null')).toEqual({ n: 4, sum: 150 });
      }
      const mine = [...executions].filter(([key]) => key.startsWith(appId));
      const duplicates = mine.filter(([, count]) => count > 1).length;
      console.log(`crash at ${point}#${hit}: ${mine.length} activities, ${duplicates} executed more than once`);
      expect(mine.length).toBe(WORKFLOWS * 8);
    } finally {
      await after.runtime.stop();
      await after.client.stop();
      await second.stop();
    }
  }, 120_000);
});
