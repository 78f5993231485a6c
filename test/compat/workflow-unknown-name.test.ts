/**
 * An instance of a workflow the connected `@dapr/dapr` worker does not register waits PENDING (as in
 * Dapr), is listed as waiting for a worker, and completes once a worker that registers it connects.
 */
import { WorkflowRuntime } from '@dapr/dapr';
import type { TWorkflow, WorkflowContext } from '@dapr/dapr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startWorkflowSidecar } from '../support/workflow-target.js';
import type { WorkflowTarget } from '../support/workflow-target.js';

// eslint-disable-next-line require-yield -- a workflow that completes without scheduling anything
const knownWorkflow: TWorkflow = async function* (_: WorkflowContext, n: number): AsyncGenerator<unknown, unknown, unknown> {
  return n + 1;
};
// eslint-disable-next-line require-yield -- as above
const lateWorkflow: TWorkflow = async function* (_: WorkflowContext, n: number): AsyncGenerator<unknown, unknown, unknown> {
  return n * 2;
};

async function getJson(url: string): Promise<Record<string, unknown>> {
  return (await (await fetch(url)).json()) as Record<string, unknown>;
}

describe('workflow of a name no connected worker registers', () => {
  let target: WorkflowTarget;
  const runtimes: WorkflowRuntime[] = [];
  let base: string;

  beforeAll(async () => {
    target = await startWorkflowSidecar('wf-unknown');
    base = `http://127.0.0.1:${target.sidecar.httpPort}`;
  });
  afterAll(async () => {
    for (const r of runtimes) await r.stop();
    await target?.stop();
  });

  it('stays PENDING and is listed as waiting until a worker that registers it connects, then completes', async () => {
    const first = new WorkflowRuntime({ daprHost: '127.0.0.1', daprPort: String(target.sidecar.grpcPort) });
    first.registerWorkflowWithName('knownWorkflow', knownWorkflow);
    runtimes.push(first);
    await first.start();

    expect((await fetch(`${base}/v1.0/workflows/dapr/lateWorkflow/start?instanceID=late-1`, { method: 'POST', body: '21' })).status).toBe(202);
    const waiting = await eventually(async () => {
      const list = await getJson(`${base}/v1.0/workflows/dapr`);
      return (list['instances'] as Record<string, unknown>[]).find((i) => i['instanceID'] === 'late-1' && i['waitingForWorker'] === true);
    }, 30_000, 'the instance to be listed as waiting for a worker');
    expect(waiting).toMatchObject({ runtimeStatus: 'PENDING', workflowName: 'lateWorkflow' });

    // The first worker still runs what it knows, and the waiting instance did not fail meanwhile.
    expect((await fetch(`${base}/v1.0/workflows/dapr/knownWorkflow/start?instanceID=known-1`, { method: 'POST', body: '1' })).status).toBe(202);
    await eventually(async () => ((await getJson(`${base}/v1.0/workflows/dapr/known-1`))['runtimeStatus'] === 'COMPLETED' ? true : undefined), 30_000, 'known-1 to complete');
    expect((await getJson(`${base}/v1.0/workflows/dapr/late-1`))['runtimeStatus']).toBe('PENDING');

    const second = new WorkflowRuntime({ daprHost: '127.0.0.1', daprPort: String(target.sidecar.grpcPort) });
    second.registerWorkflowWithName('lateWorkflow', lateWorkflow);
    runtimes.push(second);
    await second.start();
    const done = await eventually(async () => {
      const got = await getJson(`${base}/v1.0/workflows/dapr/late-1`);
      return got['runtimeStatus'] === 'COMPLETED' ? got : undefined;
    }, 30_000, 'late-1 to complete');
    expect((done['properties'] as Record<string, string>)['dapr.workflow.output']).toBe('42');
  }, 120_000);
});
