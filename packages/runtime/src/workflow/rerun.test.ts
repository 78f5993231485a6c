import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { dropRedisWorkflowApps, newRedisWorkflowApp, openRedisWorkflowBackend } from '../../../../test/support/redis-workflows.js';
import { POSTGRES_URL, SERVICES, requireService } from '../../../../test/support/services.js';
import { ApiError, GrpcCode } from '../errors/index.js';
import { silentLogger } from '../logging/logger.js';
import type { WorkflowBackend } from './backend.js';
import type { WorkItemMessage } from './dispatcher.js';
import { WorkflowEngine } from './engine.js';
import { ev } from './history.js';
import { PostgresWorkflowBackend } from './postgres-backend.js';
import { checkRerunSource, planRerun } from './rerun.js';
import type { RerunRequest } from './rerun.js';
import { SqliteWorkflowBackend } from './sqlite-backend.js';
import type { HistoryEvent, InstanceRecord } from './types.js';

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);

function source(overrides: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    instanceId: 'src',
    name: 'order',
    status: 'COMPLETED',
    executionId: 'e1',
    input: '{"n":1}',
    output: '3',
    customStatus: null,
    failure: null,
    createdAt: T0,
    lastUpdatedAt: at(9),
    scheduledStartAt: null,
    parentInstanceId: null,
    parentTaskId: null,
    ...overrides,
  };
}

/** Two activities in sequence, then the end. */
const sequence: HistoryEvent[] = [
  ev.orchestratorStarted(at(0)),
  ev.executionStarted('src', 'order', '{"n":1}', { executionId: 'e1', at: at(0) }),
  ev.taskScheduled(1, 'plusOne', '1', at(0)),
  ev.orchestratorStarted(at(1)),
  ev.taskCompleted(1, '2', at(1)),
  ev.taskScheduled(2, 'plusOne', '2', at(1)),
  ev.orchestratorStarted(at(2)),
  ev.taskCompleted(2, '3', at(2)),
  ev.executionCompleted('COMPLETED', '3', null, at(2)),
];

function refusal(run: () => unknown): { code: string; grpcCode: number; status: number; message: string } {
  try {
    run();
  } catch (err) {
    if (err instanceof ApiError) return { code: err.code, grpcCode: err.grpcCode, status: err.httpStatus, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

const plan = (history: HistoryEvent[], req: Partial<RerunRequest>, src = source()) =>
  planRerun(src, history, { sourceInstanceId: 'src', eventId: 0, ...req }, 'new', at(100));

describe('planning a rerun', () => {
  it('keeps the history before the chosen activity and schedules it again with the new input', () => {
    const fork = plan(sequence, { eventId: 2, overwriteInput: true, input: '20' });
    expect(fork.instanceId).toBe('new');
    expect(fork.name).toBe('order');
    expect(fork.input).toBe('{"n":1}');
    expect(fork.history.map((e) => [e.eventId, Object.keys(e).find((k) => k !== 'eventId' && k !== 'timestamp')])).toEqual([
      [-1, 'orchestratorStarted'],
      [-1, 'executionStarted'],
      [-1, 'orchestratorStarted'],
      // A step's scheduling moves next to its result (daprd's fork does the same).
      [1, 'taskScheduled'],
      [-1, 'taskCompleted'],
      [2, 'taskScheduled'],
    ]);
    expect(fork.history.at(-1)?.taskScheduled?.input).toEqual({ value: '20' });
    expect(fork.activities).toEqual([{ taskId: 2, name: 'plusOne', input: '20' }]);
    // The new instance's own identity in its ExecutionStarted; the source's events are not touched.
    expect(fork.history[1]?.executionStarted?.orchestrationInstance).toEqual({ instanceId: 'new', executionId: { value: fork.executionId } });
    expect(sequence[5]?.taskScheduled?.input).toEqual({ value: '2' });
  });

  it('reruns the chosen activity with its recorded input unless the input is overwritten', () => {
    expect(plan(sequence, { eventId: 1 }).activities).toEqual([{ taskId: 1, name: 'plusOne', input: '1' }]);
    expect(plan(sequence, { eventId: 1, overwriteInput: true }).activities).toEqual([{ taskId: 1, name: 'plusOne', input: null }]);
  });

  it('schedules again the activities of a fan-out that had not finished by the chosen one, and keeps the finished ones', () => {
    const fanOut: HistoryEvent[] = [
      ev.orchestratorStarted(at(0)),
      ev.executionStarted('src', 'order', null, { at: at(0) }),
      ev.taskScheduled(1, 'price', '"a"', at(0)),
      ev.taskScheduled(2, 'price', '"b"', at(0)),
      ev.taskScheduled(3, 'price', '"c"', at(0)),
      ev.orchestratorStarted(at(1)),
      ev.taskCompleted(3, '30', at(1)),
      ev.taskCompleted(1, '10', at(1)),
      ev.taskCompleted(2, '20', at(1)),
    ];
    const fork = plan(fanOut, { eventId: 2, overwriteInput: true, input: '"B"' });
    expect(fork.activities).toEqual([
      { taskId: 1, name: 'price', input: '"a"' },
      { taskId: 2, name: 'price', input: '"B"' },
    ]);
    expect(fork.history.filter((e) => e.taskCompleted)).toEqual([]);
    expect(fork.history.filter((e) => e.taskScheduled).map((e) => e.eventId)).toEqual([1, 2]);
  });

  it('keeps a failed activity with its failure, and keeps a fired timer', () => {
    const history: HistoryEvent[] = [
      ev.executionStarted('src', 'order', null, { at: at(0) }),
      ev.taskScheduled(1, 'flaky', null, at(0)),
      ev.timerCreated(2, at(5), at(0)),
      ev.taskFailed(1, { errorType: 'Error', errorMessage: 'boom' }, at(1)),
      ev.timerFired(2, at(5), at(5)),
      ev.taskScheduled(3, 'flaky', null, at(5)),
      ev.executionCompleted('FAILED', null, { errorType: 'Error', errorMessage: 'boom' }, at(6)),
    ];
    const fork = plan(history, { eventId: 3 }, source({ status: 'FAILED' }));
    expect(fork.history.map((e) => e.eventId)).toEqual([-1, 1, -1, 2, -1, 3]);
    expect(fork.messages).toEqual([]);
    expect(fork.activities.map((a) => a.taskId)).toEqual([3]);
  });

  it('reruns from a timer by firing it again at its time, and refuses an input for it', () => {
    const history: HistoryEvent[] = [ev.executionStarted('src', 'order', null, { at: at(0) }), ev.timerCreated(1, at(500), at(0)), ev.timerFired(1, at(500), at(500))];
    const fork = plan(history, { eventId: 1 });
    expect(fork.messages).toHaveLength(1);
    expect(fork.messages[0]?.event.timerFired).toEqual({ timerId: 1, fireAt: { seconds: at(500).getTime() / 1000, nanos: 0 } });
    expect(fork.messages[0]?.visibleAt).toEqual(at(500));
    expect(refusal(() => plan(history, { eventId: 1, overwriteInput: true, input: '1' }))).toEqual({
      code: 'ERR_RERUN_WORKFLOW',
      grpcCode: GrpcCode.INVALID_ARGUMENT,
      status: 400,
      message: "cannot write input to timer event '1'",
    });
  });

  it('reruns a child workflow under an id of the new instance, or the one given, with the new input', () => {
    const history: HistoryEvent[] = [
      ev.executionStarted('src', 'order', null, { at: at(0) }),
      ev.subOrchestrationCreated(1, 'src:0001', 'child', '"x"', at(0)),
      ev.subOrchestrationCompleted(1, '"done"', at(1)),
    ];
    const fork = plan(history, { eventId: 1, overwriteInput: true, input: '"y"' });
    expect(fork.newInstances).toHaveLength(1);
    const child = fork.newInstances[0]!;
    expect(child).toMatchObject({ instanceId: 'new:0001', name: 'child', input: '"y"', parentInstanceId: 'new', parentTaskId: 1 });
    expect(child.startEvent.executionStarted?.parentInstance?.orchestrationInstance.instanceId).toBe('new');
    expect(fork.history.at(-1)?.subOrchestrationInstanceCreated).toMatchObject({ instanceId: 'new:0001', input: { value: '"y"' } });
    expect(plan(history, { eventId: 1, newChildWorkflowInstanceId: 'mine' }).newInstances[0]?.instanceId).toBe('mine');
    expect(refusal(() => plan(sequence, { eventId: 1, newChildWorkflowInstanceId: 'mine' })).message).toBe(
      "cannot set new child workflow instance ID on activity event '1'",
    );
  });

  it('refuses a source that is missing, unfinished or a child workflow', () => {
    expect(refusal(() => checkRerunSource('x', undefined))).toMatchObject({ grpcCode: GrpcCode.NOT_FOUND, message: "workflow instance does not exist with ID 'x'" });
    expect(refusal(() => checkRerunSource('src', source({ status: 'SUSPENDED' })))).toMatchObject({ grpcCode: GrpcCode.INVALID_ARGUMENT, message: "'src' is not in a terminal state" });
    expect(refusal(() => checkRerunSource('src', source({ parentInstanceId: 'p', parentTaskId: 1 })))).toMatchObject({
      grpcCode: GrpcCode.INVALID_ARGUMENT,
      message: "'src': cannot rerun from child-workflows",
    });
    expect(() => checkRerunSource('src', source({ status: 'TERMINATED' }))).not.toThrow();
  });

  it("runs the steps again under the new instance's orchestration span, never under the source's", () => {
    const sourceSpan = { traceParent: '00-11111111111111111111111111111111-2222222222222222-01' };
    const traced: HistoryEvent[] = [
      ev.executionStarted('src', 'order', null, { at: at(0), trace: { parentTraceContext: sourceSpan, orchestrationSpanID: { value: '3333333333333333' } } }),
      ev.taskScheduled(1, 'plusOne', '1', at(0), sourceSpan),
    ];
    const untraced = plan(traced, { eventId: 1 });
    expect(untraced.history[0]?.executionStarted).not.toHaveProperty('orchestrationSpanID');
    expect(untraced.history[1]?.taskScheduled).not.toHaveProperty('parentTraceContext');
    const request = { traceParent: '00-44444444444444444444444444444444-5555555555555555-01' };
    const fork = planRerun(source(), traced, { sourceInstanceId: 'src', eventId: 1 }, 'new', at(100), {
      parentTraceContext: request,
      orchestrationSpanID: { value: '6666666666666666' },
    });
    expect(fork.history[0]?.executionStarted).toMatchObject({ parentTraceContext: request, orchestrationSpanID: { value: '6666666666666666' } });
    expect(fork.history[1]?.taskScheduled?.parentTraceContext?.traceParent).toBe('00-44444444444444444444444444444444-6666666666666666-01');
  });

  it("refuses an event id that is not in the history, or is not a step, with daprd's NotFound", () => {
    expect(refusal(() => plan(sequence, { eventId: 7 }))).toEqual({
      code: 'ERR_RERUN_WORKFLOW',
      grpcCode: GrpcCode.NOT_FOUND,
      status: 404,
      message: "does not have history event with ID '7'",
    });
    const sent = [ev.executionStarted('src', 'order', null), ev.eventSent(1, 'other', 'ping', null)];
    expect(refusal(() => plan(sent, { eventId: 1 })).message).toBe("target event '*protos.HistoryEvent_EventSent' with ID '1' is not an event that can be rerun");
  });
});

const engines: WorkflowEngine[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
});

const backends: Record<string, () => Promise<WorkflowBackend | undefined>> = {
  sqlite: async () => new SqliteWorkflowBackend(path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'weft-rerun-')), 'wf.sqlite'), 'rerun'),
  postgres: async () => {
    if (!(await requireService(SERVICES.postgres, 'workflow rerun on Postgres'))) return undefined;
    return PostgresWorkflowBackend.open(POSTGRES_URL, `rerun-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  },
  redis: async () => {
    if (!(await requireService(SERVICES.redis, 'workflow rerun on Redis'))) return undefined;
    return openRedisWorkflowBackend(newRedisWorkflowApp('rerun'));
  },
};
afterAll(() => dropRedisWorkflowApps());

/**
 * A scripted worker for `plusTwice`: two `plusOne` activities in sequence on the input, the result is
 * the output. It replays from history like an SDK: it schedules the next step once the previous
 * one's result is in the events it was sent.
 */
function worker(engine: WorkflowEngine): { activities: { instanceId: string; taskId: number; input: string | null }[] } {
  const seen = { activities: [] as { instanceId: string; taskId: number; input: string | null }[] };
  engine.connect(
    (item: WorkItemMessage) => {
      if ('orchestratorRequest' in item) {
        const { instanceId, pastEvents, newEvents } = item.orchestratorRequest;
        const events = [...pastEvents, ...newEvents];
        const result = (id: number) => events.find((e) => e.taskCompleted?.taskScheduledId === id)?.taskCompleted?.result?.value;
        const input = events.find((e) => e.executionStarted)?.executionStarted?.input?.value ?? '0';
        const first = result(1);
        const second = result(2);
        const actions =
          second !== undefined
            ? [{ id: 3, completeOrchestration: { orchestrationStatus: 'ORCHESTRATION_STATUS_COMPLETED', result: { value: second } } }]
            : first !== undefined
              ? [{ id: 2, scheduleTask: { name: 'plusOne', input: { value: first } } }]
              : [{ id: 1, scheduleTask: { name: 'plusOne', input: { value: input } } }];
        void engine.completeOrchestration(instanceId, { actions }, item.completionToken);
      } else {
        const { orchestrationInstance, taskId, input } = item.activityRequest;
        seen.activities.push({ instanceId: orchestrationInstance.instanceId, taskId, input: input?.value ?? null });
        void engine.completeActivity({ instanceId: orchestrationInstance.instanceId, taskId, result: String(Number(input?.value ?? '0') + 1), failure: null, completionToken: item.completionToken });
      }
    },
    () => undefined,
  );
  return seen;
}

async function rejection(run: () => Promise<unknown>): Promise<{ grpcCode: number; message: string }> {
  try {
    await run();
  } catch (err) {
    if (err instanceof ApiError) return { grpcCode: err.grpcCode, message: err.message };
    throw err;
  }
  throw new Error('expected a rejection');
}

describe.each(Object.keys(backends))('rerunning a workflow on %s', (driver) => {
  it('runs a new instance from the chosen step with the edited input and leaves the source as it was', async () => {
    const backend = await backends[driver]!();
    if (!backend) return;
    const engine = new WorkflowEngine({ backend, logger: silentLogger() });
    engines.push(engine);
    const seen = worker(engine);
    await engine.start({ instanceId: 'first', name: 'plusTwice', input: '1' });
    expect((await engine.waitFor('first', (i) => i.status === 'COMPLETED'))?.output).toBe('3');
    const sourceHistory = await engine.history('first');

    const newId = await engine.rerun({ sourceInstanceId: 'first', eventId: 2, newInstanceId: 'second', overwriteInput: true, input: '10' });
    expect(newId).toBe('second');
    expect((await engine.get('second'))?.status).not.toBe('PENDING');
    const done = await engine.waitFor('second', (i) => i.status === 'COMPLETED');
    expect(done?.output).toBe('11');
    expect(done?.input).toBe('1');
    // Only the chosen step ran again, with the new input.
    expect(seen.activities.filter((a) => a.instanceId === 'second')).toEqual([{ instanceId: 'second', taskId: 2, input: '10' }]);
    expect(await engine.history('first')).toEqual(sourceHistory);
    expect((await engine.get('first'))?.output).toBe('3');
  });

  it('keeps a rerun made while no worker is connected, and runs it on the next engine over the same store', async () => {
    const store = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-rerun-restart-'));
    const appId = `rerun-restart-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const open = async (): Promise<WorkflowBackend | undefined> => {
      if (driver === 'sqlite') return new SqliteWorkflowBackend(path.join(store, 'wf.sqlite'), appId);
      if (driver === 'redis') return (await requireService(SERVICES.redis, 'workflow rerun on Redis')) ? openRedisWorkflowBackend(appId) : undefined;
      return (await requireService(SERVICES.postgres, 'workflow rerun on Postgres')) ? PostgresWorkflowBackend.open(POSTGRES_URL, appId) : undefined;
    };
    const first = await open();
    if (!first) return;
    const before = new WorkflowEngine({ backend: first, logger: silentLogger() });
    engines.push(before);
    worker(before);
    await before.start({ instanceId: 'kept', name: 'plusTwice', input: '1' });
    await before.waitFor('kept', (i) => i.status === 'COMPLETED');
    await before.close();
    // A store with no worker (the CLI with --data-dir): the rerun is written and nothing runs it yet.
    const offline = new WorkflowEngine({ backend: (await open())!, logger: silentLogger() });
    engines.push(offline);
    await offline.rerun({ sourceInstanceId: 'kept', eventId: 1, newInstanceId: 'kept-again', overwriteInput: true, input: '40' });
    await offline.close();
    const after = new WorkflowEngine({ backend: (await open())!, logger: silentLogger() });
    engines.push(after);
    worker(after);
    expect((await after.waitFor('kept-again', (i) => i.status === 'COMPLETED'))?.output).toBe('42');
  });

  it('gives the new instance a random id when none is asked for', async () => {
    const backend = await backends[driver]!();
    if (!backend) return;
    const engine = new WorkflowEngine({ backend, logger: silentLogger() });
    engines.push(engine);
    worker(engine);
    await engine.start({ instanceId: 'source', name: 'plusTwice', input: '5' });
    await engine.waitFor('source', (i) => i.status === 'COMPLETED');
    const newId = await engine.rerun({ sourceInstanceId: 'source', eventId: 1 });
    expect(newId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await engine.waitFor(newId, (i) => i.status === 'COMPLETED'))?.output).toBe('7');
  });

  it("refuses a missing, unfinished or child source and a new id that exists, with daprd's codes", async () => {
    const backend = await backends[driver]!();
    if (!backend) return;
    const engine = new WorkflowEngine({ backend, logger: silentLogger() });
    engines.push(engine);
    await engine.start({ instanceId: 'pending', name: 'plusTwice', input: '1' });
    expect(await rejection(() => engine.rerun({ sourceInstanceId: 'nope', eventId: 1 }))).toEqual({
      grpcCode: GrpcCode.NOT_FOUND,
      message: "workflow instance does not exist with ID 'nope'",
    });
    expect(await rejection(() => engine.rerun({ sourceInstanceId: 'pending', eventId: 1 }))).toEqual({
      grpcCode: GrpcCode.INVALID_ARGUMENT,
      message: "'pending' is not in a terminal state",
    });
    expect(await rejection(() => engine.rerun({ sourceInstanceId: '', eventId: 1 }))).toEqual({
      grpcCode: GrpcCode.INVALID_ARGUMENT,
      message: 'rerun workflow source instance ID is required',
    });
    expect(await rejection(() => engine.rerun({ sourceInstanceId: 'pending', eventId: 1, newInstanceId: 'pending' }))).toEqual({
      grpcCode: GrpcCode.INVALID_ARGUMENT,
      message: 'rerun workflow instance ID must be different from the original instance ID',
    });

    worker(engine);
    await engine.start({ instanceId: 'done', name: 'plusTwice', input: '1' });
    await engine.waitFor('done', (i) => i.status === 'COMPLETED');
    await engine.waitFor('pending', (i) => i.status === 'COMPLETED');
    expect(await rejection(() => engine.rerun({ sourceInstanceId: 'done', eventId: 1, newInstanceId: 'pending' }))).toEqual({
      grpcCode: GrpcCode.ALREADY_EXISTS,
      message: "workflow 'pending' has already been created",
    });
    expect((await engine.get('pending'))?.input).toBe('1');
    expect(await rejection(() => engine.rerun({ sourceInstanceId: 'done', eventId: 9 }))).toEqual({
      grpcCode: GrpcCode.NOT_FOUND,
      message: "does not have history event with ID '9'",
    });
  });
});
