/**
 * Workflow scenarios written with `@dapr/durabletask-js` (`TaskHubGrpcWorker` + `TaskHubGrpcClient`),
 * registered as tests against whatever sidecar `target()` returns.
 */
import { TaskHubGrpcClient, TaskHubGrpcWorker } from '@dapr/durabletask-js';
import type { ActivityContext, OrchestrationContext } from '@dapr/durabletask-js';
import { OrchestrationStatus } from '@dapr/durabletask-js/orchestration/enum/orchestration-status.enum.js';
import { PurgeInstanceCriteria } from '@dapr/durabletask-js/orchestration/orchestration-purge-criteria.js';
import { whenAll } from '@dapr/durabletask-js/task/index.js';
import type { Task } from '@dapr/durabletask-js/task/task.js';
import type { TOrchestrator } from '@dapr/durabletask-js/types/orchestrator.type.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { WorkflowTarget } from '../support/workflow-target.js';
import { eventually } from '../support/workflow-target.js';

// The SDK types orchestrators as sync generators; at run time it drives async generators too.
type Orchestrator = (ctx: OrchestrationContext, input: never) => AsyncGenerator<Task<unknown>, unknown, never>;
const o = (fn: Orchestrator): TOrchestrator => fn as unknown as TOrchestrator;

const hello = async (_: ActivityContext, name: string): Promise<string> => `Hello ${name}!`;
const double = async (_: ActivityContext, n: number): Promise<number> => n * 2;
const broken = async (): Promise<never> => {
  throw new Error('activity exploded');
};

const greetings: Orchestrator = async function* (ctx: OrchestrationContext) {
  const out: unknown[] = [];
  for (const city of ['Tokyo', 'Seattle', 'London']) out.push(yield ctx.callActivity(hello, city));
  ctx.setCustomStatus('greeted');
  return out;
};

const parallel: Orchestrator = async function* (ctx: OrchestrationContext, n: number) {
  const tasks = Array.from({ length: n }, (_, i) => ctx.callActivity(double, i + 1));
  const results = (yield whenAll(tasks)) as unknown as number[];
  return results.reduce((a, b) => a + b, 0);
};

const sub: Orchestrator = async function* (ctx: OrchestrationContext, n: number) {
  return (yield ctx.callActivity(double, n)) as unknown as number;
};

const withSub: Orchestrator = async function* (ctx: OrchestrationContext) {
  const a = yield ctx.callSubOrchestrator(o(sub), 4);
  const b = yield ctx.callSubOrchestrator(o(sub), 5, 'explicit-child-id-' + ctx.instanceId);
  return [a, b];
};

const timerThenEvent: Orchestrator = async function* (ctx: OrchestrationContext) {
  yield ctx.createTimer(1);
  const a = yield ctx.waitForExternalEvent('first');
  const b = yield ctx.waitForExternalEvent('second');
  return [a, b];
};

const looping: Orchestrator = async function* (ctx: OrchestrationContext, n: number) {
  const event = n === 0 ? null : yield ctx.waitForExternalEvent('tick');
  if (n < 2) {
    ctx.continueAsNew(n + 1, true);
    return undefined;
  }
  return `done with ${String(event)}`;
};

const carrying: Orchestrator = async function* (ctx: OrchestrationContext, n: number) {
  if (n === 0) {
    yield ctx.createTimer(1);
    ctx.continueAsNew(1, true);
    return undefined;
  }
  return yield ctx.waitForExternalEvent('later');
};

const crashing: Orchestrator = async function* (ctx: OrchestrationContext) {
  yield ctx.callActivity(broken);
  return 'unreachable';
};

/** Registers the `@dapr/durabletask-js` scenarios. */
export function durabletaskScenarios(target: () => WorkflowTarget): void {
  let worker: TaskHubGrpcWorker;
  let client: TaskHubGrpcClient;
  const id = (name: string) => `${name}-${Math.random().toString(36).slice(2, 10)}`;

  beforeAll(async () => {
    const address = `127.0.0.1:${target().sidecar.grpcPort}`;
    worker = new TaskHubGrpcWorker(address);
    for (const fn of [greetings, parallel, sub, withSub, timerThenEvent, looping, carrying, crashing]) worker.addOrchestrator(o(fn));
    for (const a of [hello, double, broken]) worker.addActivity(a);
    client = new TaskHubGrpcClient(address);
    await worker.start();
  });

  afterAll(async () => {
    await worker?.stop();
    await client?.stop();
  });

  it('runs a sequence of activities with a custom status', async () => {
    const instanceId = await client.scheduleNewOrchestration(o(greetings));
    const state = await client.waitForOrchestrationCompletion(instanceId, true, 60);
    expect(state?.runtimeStatus).toBe(OrchestrationStatus.COMPLETED);
    expect(JSON.parse(state?.serializedOutput ?? 'null')).toEqual(['Hello Tokyo!', 'Hello Seattle!', 'Hello London!']);
    expect(state?.serializedCustomStatus).toBe('greeted');
  });

  it('fans out ten activities and sums the results', async () => {
    const instanceId = await client.scheduleNewOrchestration(o(parallel), 10);
    const state = await client.waitForOrchestrationCompletion(instanceId, true, 60);
    expect(state?.serializedOutput).toBe('110');
  });

  it('runs sub-orchestrations with derived and explicit instance ids', async () => {
    const instanceId = await client.scheduleNewOrchestration(o(withSub), undefined, id('with-sub'));
    const state = await client.waitForOrchestrationCompletion(instanceId, true, 60);
    expect(state?.serializedOutput).toBe('[8,10]');
    expect((await client.getOrchestrationState(`${instanceId}:0001`))?.runtimeStatus).toBe(OrchestrationStatus.COMPLETED);
    expect((await client.getOrchestrationState(`explicit-child-id-${instanceId}`))?.serializedOutput).toBe('10');
  });

  it('keeps an event raised during a timer and delivers events in order', async () => {
    const instanceId = await client.scheduleNewOrchestration(o(timerThenEvent));
    await client.raiseOrchestrationEvent(instanceId, 'second', 2);
    await client.raiseOrchestrationEvent(instanceId, 'FIRST', 1);
    const state = await client.waitForOrchestrationCompletion(instanceId, true, 60);
    expect(state?.serializedOutput).toBe('[1,2]');
  });

  it('continues as new with a fresh input each time an event arrives', async () => {
    const instanceId = await client.scheduleNewOrchestration(o(looping), 0, id('loop'));
    const inputIs = (n: number) => async () => ((await client.getOrchestrationState(instanceId, true))?.serializedInput === String(n) ? true : undefined);
    await eventually(inputIs(1));
    await client.raiseOrchestrationEvent(instanceId, 'tick', 'a');
    await eventually(inputIs(2));
    await client.raiseOrchestrationEvent(instanceId, 'tick', 'b');
    const state = await client.waitForOrchestrationCompletion(instanceId, true, 60);
    expect(state?.runtimeStatus).toBe(OrchestrationStatus.COMPLETED);
    expect(state?.serializedOutput).toBe('"done with b"');
  });

  it('carries an unconsumed event over continue-as-new into the next execution', async () => {
    const instanceId = await client.scheduleNewOrchestration(o(carrying), 0);
    await client.raiseOrchestrationEvent(instanceId, 'later', { kept: true });
    const state = await client.waitForOrchestrationCompletion(instanceId, true, 60);
    expect(state?.serializedInput).toBe('1');
    expect(state?.serializedOutput).toBe('{"kept":true}');
  });

  it('suspends, resumes and terminates an instance', async () => {
    const instanceId = await client.scheduleNewOrchestration(o(timerThenEvent));
    await client.waitForOrchestrationStart(instanceId, false, 30);
    await client.suspendOrchestration(instanceId);
    expect((await client.getOrchestrationState(instanceId, false))?.runtimeStatus).toBe(OrchestrationStatus.SUSPENDED);
    await client.resumeOrchestration(instanceId);
    expect((await client.getOrchestrationState(instanceId, false))?.runtimeStatus).toBe(OrchestrationStatus.RUNNING);
    await client.terminateOrchestration(instanceId, { reason: 'stop' });
    const state = await client.waitForOrchestrationCompletion(instanceId, true, 30);
    expect(state?.runtimeStatus).toBe(OrchestrationStatus.TERMINATED);
    expect(state?.serializedOutput).toBe('{"reason":"stop"}');
  });

  it('fails the instance with failure details when an activity throws', async () => {
    const instanceId = await client.scheduleNewOrchestration(o(crashing));
    const state = await client.waitForOrchestrationCompletion(instanceId, true, 60);
    expect(state?.runtimeStatus).toBe(OrchestrationStatus.FAILED);
    expect(state?.failureDetails?.message).toContain('activity exploded');
  });

  it('purges by instance id and by filter, counting deleted instances', async () => {
    const from = new Date(Date.now() - 1000);
    const a = await client.scheduleNewOrchestration(o(greetings));
    const b = await client.scheduleNewOrchestration(o(crashing));
    await client.waitForOrchestrationCompletion(a, false, 60);
    await client.waitForOrchestrationCompletion(b, false, 60);
    expect((await client.purgeOrchestration(a))?.deletedInstanceCount).toBe(1);
    expect(await client.getOrchestrationState(a)).toBeUndefined();
    const criteria = new PurgeInstanceCriteria();
    criteria.setCreatedTimeFrom(from);
    criteria.setRuntimeStatusList([OrchestrationStatus.FAILED]);
    expect((await client.purgeOrchestration(criteria))?.deletedInstanceCount).toBeGreaterThanOrEqual(1);
    expect(await client.getOrchestrationState(b)).toBeUndefined();
  });
}
