/**
 * Workflow scenarios written with the official `@dapr/dapr` SDK (`WorkflowRuntime` +
 * `DaprWorkflowClient`), registered as tests against whatever sidecar `target()` returns. The
 * SQLite and Postgres suites run the same scenarios.
 */
import { DaprWorkflowClient, WorkflowRuntime, WorkflowRuntimeStatus } from '@dapr/dapr';
import type { TWorkflow, WorkflowActivityContext, WorkflowContext } from '@dapr/dapr';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { WorkflowTarget } from '../support/workflow-target.js';
import { eventually } from '../support/workflow-target.js';

const plusOne = async (_: WorkflowActivityContext, n: number): Promise<number> => n + 1;
const square = async (_: WorkflowActivityContext, n: number): Promise<number> => n * n;
const failures = new Map<string, number>();
const flaky = async (_: WorkflowActivityContext, key: string): Promise<string> => {
  const seen = (failures.get(key) ?? 0) + 1;
  failures.set(key, seen);
  if (seen < 3) throw new Error(`flaky failure ${seen}`);
  return `ok after ${seen}`;
};
const alwaysFails = async (): Promise<never> => {
  throw new Error('the payment service is down');
};

const sequence: TWorkflow = async function* (ctx: WorkflowContext, start: number): AsyncGenerator<unknown, number[], number> {
  const out = [start];
  let value = start;
  for (let i = 0; i < 3; i++) {
    value = yield ctx.callActivity(plusOne, value);
    out.push(value);
  }
  ctx.setCustomStatus('foo');
  return out;
};

const fanOut: TWorkflow = async function* (ctx: WorkflowContext, n: number): AsyncGenerator<unknown, number, number[]> {
  const tasks = Array.from({ length: n }, (_, i) => ctx.callActivity(square, i + 1));
  const results = yield ctx.whenAll(tasks);
  return results.reduce((a, b) => a + b, 0);
};

const child: TWorkflow = async function* (ctx: WorkflowContext, n: number): AsyncGenerator<unknown, number, number> {
  const doubled = yield ctx.callActivity(plusOne, n);
  return doubled * 10;
};

const parent: TWorkflow = async function* (ctx: WorkflowContext, n: number): AsyncGenerator<unknown, number[], number> {
  const a = yield ctx.callChildWorkflow(child, n);
  const b = yield ctx.callChildWorkflow(child, n + 1);
  return [a, b];
};

const sleeper: TWorkflow = async function* (ctx: WorkflowContext): AsyncGenerator<unknown, string, unknown> {
  yield ctx.createTimer(1);
  return 'woke';
};

const approval: TWorkflow = async function* (ctx: WorkflowContext): AsyncGenerator<unknown, unknown, unknown> {
  const decision = yield ctx.waitForExternalEvent('approval');
  return { decision };
};

const waitsForever: TWorkflow = async function* (ctx: WorkflowContext): AsyncGenerator<unknown, unknown, unknown> {
  yield ctx.waitForExternalEvent('never');
  return 'unreachable';
};

const parentOfWaiter: TWorkflow = async function* (ctx: WorkflowContext): AsyncGenerator<unknown, unknown, unknown> {
  yield ctx.callChildWorkflow(waitsForever, null);
  return 'unreachable';
};

const counter: TWorkflow = async function* (ctx: WorkflowContext, n: number): AsyncGenerator<unknown, number | undefined, unknown> {
  if (n < 3) {
    yield ctx.callActivity(plusOne, n);
    ctx.continueAsNew(n + 1, true);
    return undefined;
  }
  return n;
};

const retrying: TWorkflow = async function* (ctx: WorkflowContext, key: string): AsyncGenerator<unknown, string, string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return yield ctx.callActivity(flaky, key);
    } catch (err) {
      if (attempt >= 5) throw err;
      yield ctx.createTimer(1);
    }
  }
};

const failing: TWorkflow = async function* (ctx: WorkflowContext): AsyncGenerator<unknown, unknown, unknown> {
  yield ctx.callActivity(alwaysFails);
  return 'unreachable';
};

/** Registers the `@dapr/dapr` workflow scenarios. */
export function daprWorkflowScenarios(target: () => WorkflowTarget): void {
  let runtime: WorkflowRuntime;
  let client: DaprWorkflowClient;
  const id = (name: string) => `${name}-${Math.random().toString(36).slice(2, 10)}`;

  beforeAll(async () => {
    const options = { daprHost: '127.0.0.1', daprPort: String(target().sidecar.grpcPort), logger: { level: 0 } };
    runtime = new WorkflowRuntime(options);
    for (const wf of [sequence, fanOut, child, parent, sleeper, approval, waitsForever, parentOfWaiter, counter, retrying, failing]) runtime.registerWorkflow(wf);
    for (const act of [plusOne, square, flaky, alwaysFails]) runtime.registerActivity(act);
    client = new DaprWorkflowClient(options);
    await runtime.start();
  });

  afterAll(async () => {
    await runtime?.stop();
    await client?.stop();
  });

  it('runs a sequence of activities and reports the output and custom status', async () => {
    const instanceId = await client.scheduleNewWorkflow(sequence, 1, id('seq'));
    const state = await client.waitForWorkflowCompletion(instanceId, true, 60);
    expect(state?.runtimeStatus).toBe(WorkflowRuntimeStatus.COMPLETED);
    expect(state?.serializedOutput).toBe('[1,2,3,4]');
    expect(state?.customStatus).toBe('foo');
    expect(state?.name).toBe('sequence');
  });

  it('fans out to parallel activities and fans their results in', async () => {
    const instanceId = await client.scheduleNewWorkflow(fanOut, 5);
    const state = await client.waitForWorkflowCompletion(instanceId, true, 60);
    expect(state?.serializedOutput).toBe('55');
  });

  it('runs child workflows under derived instance ids and returns their results', async () => {
    const instanceId = await client.scheduleNewWorkflow(parent, 1, id('parent'));
    const state = await client.waitForWorkflowCompletion(instanceId, true, 60);
    expect(state?.serializedOutput).toBe('[20,30]');
    const firstChild = await client.getWorkflowState(`${instanceId}:0001`, true);
    expect(firstChild?.runtimeStatus).toBe(WorkflowRuntimeStatus.COMPLETED);
    expect(firstChild?.serializedOutput).toBe('20');
  });

  it('fires a durable timer no earlier than requested', async () => {
    const started = Date.now();
    const instanceId = await client.scheduleNewWorkflow(sleeper);
    const state = await client.waitForWorkflowCompletion(instanceId, true, 60);
    expect(state?.serializedOutput).toBe('"woke"');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('delivers an external event raised after the workflow started, matching names case-insensitively', async () => {
    const instanceId = await client.scheduleNewWorkflow(approval, null, id('approve'));
    await client.waitForWorkflowStart(instanceId, true, 30);
    await client.raiseEvent(instanceId, 'Approval', 'yes');
    const state = await client.waitForWorkflowCompletion(instanceId, true, 60);
    expect(state?.serializedOutput).toBe('{"decision":"yes"}');
  });

  it('delivers an external event raised before the first run', async () => {
    const instanceId = await client.scheduleNewWorkflow(approval, null, id('early'));
    await client.raiseEvent(instanceId, 'approval', { by: 'ann' });
    const state = await client.waitForWorkflowCompletion(instanceId, true, 60);
    expect(state?.serializedOutput).toBe('{"decision":{"by":"ann"}}');
  });

  it('buffers events while suspended and completes after resume', async () => {
    const instanceId = await client.scheduleNewWorkflow(approval, null, id('suspend'));
    await client.waitForWorkflowStart(instanceId, true, 30);
    await client.suspendWorkflow(instanceId);
    expect((await client.getWorkflowState(instanceId, false))?.runtimeStatus).toBe(WorkflowRuntimeStatus.SUSPENDED);
    await client.raiseEvent(instanceId, 'approval', 'late');
    await new Promise((r) => setTimeout(r, 300));
    expect((await client.getWorkflowState(instanceId, false))?.runtimeStatus).toBe(WorkflowRuntimeStatus.SUSPENDED);
    await client.resumeWorkflow(instanceId);
    expect((await client.getWorkflowState(instanceId, false))?.runtimeStatus).toBe(WorkflowRuntimeStatus.RUNNING);
    const state = await client.waitForWorkflowCompletion(instanceId, true, 60);
    expect(state?.serializedOutput).toBe('{"decision":"late"}');
  });

  it('terminates a workflow and its child with the given output', async () => {
    const instanceId = await client.scheduleNewWorkflow(parentOfWaiter, null, id('term'));
    const childId = `${instanceId}:0001`;
    await eventually(async () => ((await client.getWorkflowState(childId, false))?.runtimeStatus === WorkflowRuntimeStatus.RUNNING ? true : undefined));
    await client.terminateWorkflow(instanceId, 'some reason for termination');
    const state = await client.waitForWorkflowCompletion(instanceId, true, 30);
    expect(state?.runtimeStatus).toBe(WorkflowRuntimeStatus.TERMINATED);
    expect(state?.serializedOutput).toBe('"some reason for termination"');
    expect((await client.getWorkflowState(childId, false))?.runtimeStatus).toBe(WorkflowRuntimeStatus.TERMINATED);
  });

  it('purges a finished workflow so that it no longer exists', async () => {
    const instanceId = await client.scheduleNewWorkflow(sequence, 1);
    await client.waitForWorkflowCompletion(instanceId, true, 60);
    expect(await client.purgeWorkflow(instanceId)).toBe(true);
    expect(await client.getWorkflowState(instanceId, true)).toBeUndefined();
    expect(await client.purgeWorkflow(instanceId)).toBe(false);
  });

  it('continues as new until the counter reaches three', async () => {
    const instanceId = await client.scheduleNewWorkflow(counter, 1, id('can'));
    const state = await client.waitForWorkflowCompletion(instanceId, true, 60);
    expect(state?.runtimeStatus).toBe(WorkflowRuntimeStatus.COMPLETED);
    expect(state?.serializedOutput).toBe('3');
    expect(state?.serializedInput).toBe('3');
  });

  it('retries a failing activity from workflow code until it succeeds', async () => {
    const key = id('flaky');
    const instanceId = await client.scheduleNewWorkflow(retrying, key);
    const state = await client.waitForWorkflowCompletion(instanceId, true, 60);
    expect(state?.serializedOutput).toBe('"ok after 3"');
    expect(failures.get(key)).toBe(3);
  });

  it('fails the workflow with the activity error details when the failure is not handled', async () => {
    const instanceId = await client.scheduleNewWorkflow(failing);
    const state = await client.waitForWorkflowCompletion(instanceId, true, 60);
    expect(state?.runtimeStatus).toBe(WorkflowRuntimeStatus.FAILED);
    expect(state?.workflowFailureDetails?.getErrorMessage()).toContain('the payment service is down');
  });

  it('reports an unknown instance as absent', async () => {
    expect(await client.getWorkflowState('no-such-instance', true)).toBeUndefined();
  });
}
