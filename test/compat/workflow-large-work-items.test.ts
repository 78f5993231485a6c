/**
 * Bounded work items (issue 10): a workflow whose history outgrows what a worker can receive fails
 * with a clear error instead of being redelivered for ever (sending it would end the worker's stream).
 * An activity request too large fails the activity; its input is in the history too, so the workflow
 * then fails the same way. The
 * limit is lowered to 64 KiB here (`WEFT_WORKFLOW_MAX_WORK_ITEM_BYTES`) so that small payloads cross it.
 */
import { DaprWorkflowClient, WorkflowRuntime, WorkflowRuntimeStatus } from '@dapr/dapr';
import type { TWorkflow, WorkflowActivityContext, WorkflowContext } from '@dapr/dapr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkflowSidecar } from '../support/workflow-target.js';
import type { WorkflowTarget } from '../support/workflow-target.js';

const LIMIT = 64 * 1024;
const chunk = async (_: WorkflowActivityContext, i: number): Promise<string> => `${i}:`.padEnd(20 * 1024, 'x');
const echoLength = async (_: WorkflowActivityContext, s: string): Promise<number> => s.length;

/** Collects 20 KiB results until the history is far beyond the limit. */
const hoarder: TWorkflow = async function* (ctx: WorkflowContext): AsyncGenerator<unknown, number, string> {
  let total = 0;
  for (let i = 0; i < 8; i++) total += (yield ctx.callActivity(chunk, i)).length;
  return total;
};

/** Hands an activity an input over the limit. */
const bigInput: TWorkflow = async function* (ctx: WorkflowContext): AsyncGenerator<unknown, number, number> {
  return yield ctx.callActivity(echoLength, 'y'.repeat(LIMIT + 1));
};

/** A workflow well within the limit. */
const small: TWorkflow = async function* (ctx: WorkflowContext, s: string): AsyncGenerator<unknown, number, number> {
  return yield ctx.callActivity(echoLength, 'abc'.slice(0, Number(s)));
};

describe('work items larger than a worker can receive', () => {
  let target: WorkflowTarget;
  let runtime: WorkflowRuntime;
  let client: DaprWorkflowClient;
  beforeAll(async () => {
    target = await startWorkflowSidecar('wf-large-items', { env: { WEFT_WORKFLOW_MAX_WORK_ITEM_BYTES: String(LIMIT) } });
    const options = { daprHost: '127.0.0.1', daprPort: String(target.sidecar.grpcPort), logger: { level: 0 } };
    runtime = new WorkflowRuntime(options);
    runtime.registerWorkflow(hoarder).registerWorkflow(small).registerWorkflow(bigInput).registerActivity(chunk).registerActivity(echoLength);
    await runtime.start();
    client = new DaprWorkflowClient(options);
  });
  afterAll(async () => {
    await runtime?.stop();
    await client?.stop();
    await target?.stop();
  });

  it('fails a workflow whose history no longer fits, naming the limit', async () => {
    const id = await client.scheduleNewWorkflow(hoarder, null, 'hoarder-1');
    const state = await client.waitForWorkflowCompletion(id, true, 60);
    expect(state?.runtimeStatus).toBe(WorkflowRuntimeStatus.FAILED);
    expect(state?.workflowFailureDetails?.getErrorType()).toBe('WorkItemTooLarge');
    expect(state?.workflowFailureDetails?.getErrorMessage()).toContain(`${LIMIT} bytes`);
    // The activities up to the limit ran: the failure is about size, not the workflow's code.
    const res = await fetch(`http://127.0.0.1:${target.sidecar.httpPort}/v1.0/workflows/dapr/${id}/history`);
    expect(res.status).toBe(200);
    const history = JSON.stringify(await res.json());
    expect(history.match(/TaskCompleted/gi)?.length).toBeGreaterThanOrEqual(2);
  });

  it('fails an activity whose request does not fit, then the workflow whose history holds its input', async () => {
    const id = await client.scheduleNewWorkflow(bigInput, null, 'big-input-1');
    const state = await client.waitForWorkflowCompletion(id, true, 60);
    expect(state?.runtimeStatus).toBe(WorkflowRuntimeStatus.FAILED);
    expect(state?.workflowFailureDetails?.getErrorType()).toBe('WorkItemTooLarge');
    const res = await fetch(`http://127.0.0.1:${target.sidecar.httpPort}/v1.0/workflows/dapr/${id}/history`);
    const history = JSON.stringify(await res.json());
    expect(history).toContain("the activity's input does not fit in a work item");
  });

  it('keeps the worker stream: a small workflow still runs afterwards', async () => {
    const id = await client.scheduleNewWorkflow(small, 3, 'after-1');
    const state = await client.waitForWorkflowCompletion(id, true, 60);
    expect(state?.runtimeStatus).toBe(WorkflowRuntimeStatus.COMPLETED);
    expect(state?.serializedOutput).toBe('3');
  });
});
