/**
 * Workflow metrics (`dapr_runtime_workflow_*`) on the Prometheus endpoint of an in-process sidecar,
 * driven by a real `@dapr/durabletask-js` worker and client: operations, executions (success and
 * failed), activities, and the scheduling delay of an instance started before any worker connected.
 */
import { TaskHubGrpcClient, TaskHubGrpcWorker } from '@dapr/durabletask-js';
import type { ActivityContext, OrchestrationContext } from '@dapr/durabletask-js';
import { OrchestrationStatus } from '@dapr/durabletask-js/orchestration/enum/orchestration-status.enum.js';
import type { Task } from '@dapr/durabletask-js/task/task.js';
import type { TOrchestrator } from '@dapr/durabletask-js/types/orchestrator.type.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSidecar } from '../support/in-process.js';
import type { TestSidecar } from '../support/in-process.js';
import { eventually } from '../support/subscriber-app.js';

type Orchestrator = (ctx: OrchestrationContext, input: never) => AsyncGenerator<Task<unknown>, unknown, never>;
const o = (fn: Orchestrator): TOrchestrator => fn as unknown as TOrchestrator;

const hello = async (_: ActivityContext, name: string): Promise<string> => `Hello ${name}!`;
const broken = async (): Promise<never> => {
  throw new Error('activity exploded');
};
const greet: Orchestrator = async function* (ctx: OrchestrationContext) {
  return yield ctx.callActivity(hello, 'metrics');
};
// A workflow with no step: it ends on its first run.
// eslint-disable-next-line require-yield
const early: Orchestrator = async function* () {
  return 'ran';
};
const crashing: Orchestrator = async function* (ctx: OrchestrationContext) {
  yield ctx.callActivity(broken);
  return 'unreachable';
};
const waiting: Orchestrator = async function* (ctx: OrchestrationContext) {
  return yield ctx.waitForExternalEvent('go');
};

const APP = 'wf-metrics';
let s: TestSidecar;
let worker: TaskHubGrpcWorker;
let client: TaskHubGrpcClient;
let text: string;

beforeAll(async () => {
  s = await startTestSidecar({ appId: APP, metricsPort: 0 });
  const address = `127.0.0.1:${s.sidecar.grpcPort}`;
  client = new TaskHubGrpcClient(address);
  // Started while no worker is connected: its first run waits, which is its scheduling latency.
  const earlyId = await client.scheduleNewOrchestration(o(early));
  await new Promise((r) => setTimeout(r, 50));
  worker = new TaskHubGrpcWorker(address);
  for (const fn of [greet, early, crashing, waiting]) worker.addOrchestrator(o(fn));
  for (const a of [hello, broken]) worker.addActivity(a);
  await worker.start();

  expect((await client.waitForOrchestrationCompletion(earlyId, false, 60))?.runtimeStatus).toBe(OrchestrationStatus.COMPLETED);
  const greetId = await client.scheduleNewOrchestration(o(greet));
  expect((await client.waitForOrchestrationCompletion(greetId, false, 60))?.runtimeStatus).toBe(OrchestrationStatus.COMPLETED);
  const crashId = await client.scheduleNewOrchestration(o(crashing));
  expect((await client.waitForOrchestrationCompletion(crashId, false, 60))?.runtimeStatus).toBe(OrchestrationStatus.FAILED);
  const raisedId = await client.scheduleNewOrchestration(o(waiting));
  await client.raiseOrchestrationEvent(raisedId, 'go', 1);
  expect((await client.waitForOrchestrationCompletion(raisedId, false, 60))?.runtimeStatus).toBe(OrchestrationStatus.COMPLETED);
  const terminatedId = await client.scheduleNewOrchestration(o(waiting));
  await client.waitForOrchestrationStart(terminatedId, false, 60);
  await client.terminateOrchestration(terminatedId, 'stop');
  expect((await client.waitForOrchestrationCompletion(terminatedId, false, 60))?.runtimeStatus).toBe(OrchestrationStatus.TERMINATED);
  await client.purgeOrchestration(greetId);
  await expect(client.raiseOrchestrationEvent('no-such-instance', 'go', 1)).rejects.toThrow();

  const scrape = async () => (await fetch(`http://127.0.0.1:${s.sidecar.metricsPort}/metrics`)).text();
  await eventually(async () => (await scrape()).includes('operation="purge_workflow",status="success"} 1'));
  text = await scrape();
});

afterAll(async () => {
  await worker?.stop();
  await client?.stop();
  await s?.stop();
});

const base = `app_id="${APP}",namespace=""`;

describe('workflow metrics', () => {
  it('count client operations by daprd’s operation names and status', () => {
    expect(text).toContain(`dapr_runtime_workflow_operation_count{${base},operation="create_workflow",status="success"} 5`);
    // Raise event and terminate each add an event to the instance; raising on an unknown instance fails.
    expect(text).toContain(`dapr_runtime_workflow_operation_count{${base},operation="add_event",status="success"} 2`);
    expect(text).toContain(`dapr_runtime_workflow_operation_count{${base},operation="add_event",status="failed"} 1`);
    expect(text).toContain(`dapr_runtime_workflow_operation_count{${base},operation="purge_workflow",status="success"} 1`);
    expect(text).toContain(`dapr_runtime_workflow_operation_latency_count{${base},operation="create_workflow",status="success"} 5`);
  });

  it('count finished executions by workflow name: completed as success, failed and terminated as failed', () => {
    expect(text).toContain(`dapr_runtime_workflow_execution_count{${base},workflow_name="greet",status="success"} 1`);
    expect(text).toContain(`dapr_runtime_workflow_execution_count{${base},workflow_name="early",status="success"} 1`);
    expect(text).toContain(`dapr_runtime_workflow_execution_count{${base},workflow_name="crashing",status="failed"} 1`);
    expect(text).toContain(`dapr_runtime_workflow_execution_count{${base},workflow_name="waiting",status="success"} 1`);
    expect(text).toContain(`dapr_runtime_workflow_execution_count{${base},workflow_name="waiting",status="failed"} 1`);
    expect(text).toContain(`dapr_runtime_workflow_execution_latency_count{${base},workflow_name="greet",status="success"} 1`);
  });

  it('count activities handed to the worker and their results by activity name', () => {
    expect(text).toContain(`dapr_runtime_workflow_activity_operation_count{${base},activity_name="hello",status="success"} 1`);
    expect(text).toContain(`dapr_runtime_workflow_activity_execution_count{${base},activity_name="hello",status="success"} 1`);
    expect(text).toContain(`dapr_runtime_workflow_activity_execution_count{${base},activity_name="broken",status="failed"} 1`);
    expect(text).toContain(`dapr_runtime_workflow_activity_execution_latency_count{${base},activity_name="hello",status="success"} 1`);
  });

  it('records how long a first run waited to be handed to a worker', () => {
    expect(text).toContain(`dapr_runtime_workflow_scheduling_latency_count{${base},workflow_name="early"} 1`);
    const sum = new RegExp(`dapr_runtime_workflow_scheduling_latency_sum\\{${base},workflow_name="early"\\} (\\d+)`).exec(text);
    expect(Number(sum?.[1])).toBeGreaterThanOrEqual(50);
  });
});
