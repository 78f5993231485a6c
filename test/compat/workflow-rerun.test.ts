/**
 * `RerunWorkflowFromEvent` on the TaskHub gRPC service of a real `weft sidecar`, with `@dapr/dapr`
 * workers running the workflows, on the embedded SQLite backend and on Postgres. The RPC is called
 * raw (no JS SDK has it), so the status codes asserted are the wire's.
 */
import * as grpc from '@grpc/grpc-js';
import { DaprWorkflowClient, WorkflowRuntime, WorkflowRuntimeStatus } from '@dapr/dapr';
import type { TWorkflow, WorkflowActivityContext, WorkflowContext } from '@dapr/dapr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskHubService } from '../../packages/runtime/src/api/grpc/protos.js';
import { POSTGRES_URL, SERVICES, requireService } from '../support/services.js';
import { startPostgresWorkflowSidecar, startWorkflowSidecar } from '../support/workflow-target.js';
import type { WorkflowTarget } from '../support/workflow-target.js';

const plusOne = async (_: WorkflowActivityContext, n: number): Promise<number> => n + 1;

const rerunSequence: TWorkflow = async function* (ctx: WorkflowContext, start: number): AsyncGenerator<unknown, number[], number> {
  const out = [start];
  let value = start;
  for (let i = 0; i < 3; i++) {
    value = yield ctx.callActivity(plusOne, value);
    out.push(value);
  }
  return out;
};

const rerunChild: TWorkflow = async function* (ctx: WorkflowContext, n: number): AsyncGenerator<unknown, number, number> {
  const next = yield ctx.callActivity(plusOne, n);
  return next * 10;
};

const rerunParent: TWorkflow = async function* (ctx: WorkflowContext, n: number): AsyncGenerator<unknown, number[], number> {
  const a = yield ctx.callChildWorkflow(rerunChild, n);
  const b = yield ctx.callChildWorkflow(rerunChild, n + 1);
  return [a, b];
};

const rerunWaits: TWorkflow = async function* (ctx: WorkflowContext): AsyncGenerator<unknown, unknown, unknown> {
  return yield ctx.waitForExternalEvent('go');
};

type Unary = (request: object, callback: (err: grpc.ServiceError | null, reply?: Record<string, unknown>) => void) => void;

/** Calls `RerunWorkflowFromEvent`; resolves with the reply or the status error, never rejects. */
function rerunCall(port: number) {
  const Client = grpc.makeGenericClientConstructor(taskHubService(), 'TaskHubSidecarService');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, Unary>;
  const call = (request: object) =>
    new Promise<{ reply?: Record<string, unknown>; error?: grpc.ServiceError }>((resolve) => {
      client['RerunWorkflowFromEvent']!.call(client, request, (error, reply) => resolve(error ? { error } : { reply: reply! }));
    });
  return { call, close: () => client.close() };
}

function scenarios(target: () => WorkflowTarget): void {
  let runtime: WorkflowRuntime;
  let client: DaprWorkflowClient;
  let rpc: ReturnType<typeof rerunCall>;
  const id = (name: string) => `${name}-${Math.random().toString(36).slice(2, 10)}`;

  /** The event id of the `n`th (1-based) history event of a kind, read through the HTTP history route. */
  async function eventIdOf(instanceId: string, type: string, n: number): Promise<number> {
    const res = await fetch(`http://127.0.0.1:${target().sidecar.httpPort}/v1.0/workflows/dapr/${instanceId}/history`);
    const { history } = (await res.json()) as { history: { type: string; eventId: number }[] };
    const found = history.filter((e) => e.type === type)[n - 1];
    if (!found) throw new Error(`no ${type} #${n} in the history of ${instanceId}`);
    return found.eventId;
  }

  beforeAll(async () => {
    const options = { daprHost: '127.0.0.1', daprPort: String(target().sidecar.grpcPort), logger: { level: 0 } };
    runtime = new WorkflowRuntime(options);
    for (const wf of [rerunSequence, rerunChild, rerunParent, rerunWaits]) runtime.registerWorkflow(wf);
    runtime.registerActivity(plusOne);
    client = new DaprWorkflowClient(options);
    await runtime.start();
    rpc = rerunCall(target().sidecar.grpcPort);
  });

  afterAll(async () => {
    rpc?.close();
    await runtime?.stop();
    await client?.stop();
  });

  it('reruns a finished workflow from its second activity with a new input, as a new instance', async () => {
    const source = await client.scheduleNewWorkflow(rerunSequence, 1, id('seq'));
    expect((await client.waitForWorkflowCompletion(source, true, 60))?.serializedOutput).toBe('[1,2,3,4]');
    const eventID = await eventIdOf(source, 'TaskScheduled', 2);
    const newInstanceID = id('seq-rerun');
    const { reply, error } = await rpc.call({ sourceInstanceID: source, eventID, newInstanceID, input: { value: '10' }, overwriteInput: true });
    expect(error).toBeUndefined();
    expect(reply).toEqual({ newInstanceID });
    const state = await client.waitForWorkflowCompletion(newInstanceID, true, 60);
    expect(state?.runtimeStatus).toBe(WorkflowRuntimeStatus.COMPLETED);
    expect(state?.serializedOutput).toBe('[1,2,11,12]');
    expect(state?.serializedInput).toBe('1');
    // The source is untouched.
    expect((await client.getWorkflowState(source, true))?.serializedOutput).toBe('[1,2,3,4]');
  });

  it('reruns from an activity with its recorded input when no input is given, under a generated id', async () => {
    const source = await client.scheduleNewWorkflow(rerunSequence, 5, id('seq'));
    await client.waitForWorkflowCompletion(source, true, 60);
    const { reply } = await rpc.call({ sourceInstanceID: source, eventID: await eventIdOf(source, 'TaskScheduled', 3) });
    const newId = String(reply?.['newInstanceID']);
    expect(newId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await client.waitForWorkflowCompletion(newId, true, 60))?.serializedOutput).toBe('[5,6,7,8]');
  });

  it('reruns from a child workflow creation: the child runs again under the new instance with the new input', async () => {
    const source = await client.scheduleNewWorkflow(rerunParent, 1, id('parent'));
    expect((await client.waitForWorkflowCompletion(source, true, 60))?.serializedOutput).toBe('[20,30]');
    const eventID = await eventIdOf(source, 'SubOrchestrationInstanceCreated', 2);
    const newInstanceID = id('parent-rerun');
    const { error } = await rpc.call({ sourceInstanceID: source, eventID, newInstanceID, input: { value: '4' }, overwriteInput: true });
    expect(error).toBeUndefined();
    expect((await client.waitForWorkflowCompletion(newInstanceID, true, 60))?.serializedOutput).toBe('[20,50]');
    const child = await client.getWorkflowState(`${newInstanceID}:${eventID.toString(16).padStart(4, '0')}`, true);
    expect(child?.serializedOutput).toBe('50');
  });

  it("refuses bad requests with daprd's status codes and messages", async () => {
    const done = await client.scheduleNewWorkflow(rerunSequence, 1, id('done'));
    await client.waitForWorkflowCompletion(done, true, 60);
    const waiting = await client.scheduleNewWorkflow(rerunWaits, null, id('waiting'));
    await client.waitForWorkflowStart(waiting, true, 30);
    const refused = async (request: object) => {
      const { error } = await rpc.call(request);
      return { code: error?.code, details: error?.details };
    };
    expect(await refused({ sourceInstanceID: 'no-such-instance', eventID: 1 })).toEqual({
      code: grpc.status.NOT_FOUND,
      details: "workflow instance does not exist with ID 'no-such-instance'",
    });
    expect(await refused({ sourceInstanceID: waiting, eventID: 0 })).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: `'${waiting}' is not in a terminal state` });
    expect(await refused({ sourceInstanceID: done, eventID: 99 })).toEqual({ code: grpc.status.NOT_FOUND, details: "does not have history event with ID '99'" });
    expect(await refused({ sourceInstanceID: done, eventID: 1, newInstanceID: done })).toEqual({
      code: grpc.status.INVALID_ARGUMENT,
      details: 'rerun workflow instance ID must be different from the original instance ID',
    });
    expect(await refused({ sourceInstanceID: '', eventID: 1 })).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: 'rerun workflow source instance ID is required' });
    expect(await refused({ sourceInstanceID: done, eventID: await eventIdOf(done, 'TaskScheduled', 1), newInstanceID: waiting })).toEqual({
      code: grpc.status.ALREADY_EXISTS,
      details: `workflow '${waiting}' has already been created`,
    });
    await client.terminateWorkflow(waiting, null);
  });
}

describe('RerunWorkflowFromEvent on weft (SQLite backend)', () => {
  let target: WorkflowTarget;
  beforeAll(async () => {
    target = await startWorkflowSidecar(`wf-rerun-${Math.random().toString(36).slice(2, 8)}`);
  });
  afterAll(async () => {
    await target?.stop();
  });
  scenarios(() => target);
});

const pg = await requireService(SERVICES.postgres, 'workflow rerun on PostgreSQL');

describe.runIf(pg)('RerunWorkflowFromEvent on weft (PostgreSQL backend)', () => {
  let target: WorkflowTarget;
  beforeAll(async () => {
    target = await startPostgresWorkflowSidecar(`wf-rerun-pg-${Math.random().toString(36).slice(2, 8)}`, POSTGRES_URL);
  });
  afterAll(async () => {
    await target?.stop();
  });
  scenarios(() => target);
});
