import { describe, expect, it } from 'vitest';
import type { OrchestrationWorkItem } from './backend.js';
import { ev, sv, toTimestamp } from './history.js';
import { childInstanceId, orderBatch, planStep } from './step.js';
import type { InstanceRecord } from './types.js';

const now = new Date('2026-01-02T03:04:05.000Z');

function instance(overrides: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    instanceId: 'order-1',
    name: 'orderWorkflow',
    status: 'RUNNING',
    executionId: 'exec-1',
    input: '1',
    output: null,
    customStatus: null,
    failure: null,
    createdAt: now,
    lastUpdatedAt: now,
    scheduledStartAt: null,
    parentInstanceId: null,
    parentTaskId: null,
    ...overrides,
  };
}

function item(overrides: Partial<InstanceRecord> = {}): OrchestrationWorkItem {
  return {
    instance: instance(overrides),
    history: [ev.orchestratorStarted(now), ev.executionStarted('order-1', 'orderWorkflow', '1', { at: now })],
    messages: [{ seq: 7, event: ev.taskCompleted(1, '2', now) }],
  };
}

describe('planStep', () => {
  it('records a scheduled task under the action id and queues the activity', () => {
    const batch = [ev.orchestratorStarted(now), ev.taskCompleted(1, '2', now)];
    const { step } = planStep(item(), batch, { actions: [{ id: 2, scheduleTask: { name: 'plusOne', input: sv('2') } }], customStatus: sv('') }, now);
    expect(step.consumedSeqs).toEqual([7]);
    expect(step.appendHistory).toEqual([...batch, ev.taskScheduled(2, 'plusOne', '2', now)]);
    expect(step.activities).toEqual([{ taskId: 2, name: 'plusOne', input: '2' }]);
    expect(step.status).toBe('RUNNING');
    expect(step.customStatus).toBeNull();
  });

  it('turns a timer into a TimerCreated event and a TimerFired inbox event visible at the fire time', () => {
    const fireAt = new Date(now.getTime() + 5000);
    const { step } = planStep(item(), [ev.orchestratorStarted(now)], { actions: [{ id: 3, createTimer: { fireAt: toTimestamp(fireAt) } }] }, now);
    expect(step.appendHistory.at(-1)).toEqual(ev.timerCreated(3, fireAt, now));
    expect(step.messages).toEqual([{ instanceId: 'order-1', event: ev.timerFired(3, fireAt, fireAt), visibleAt: fireAt }]);
  });

  it('creates a child under <parent>:<hex4(id)> that reports back to the parent task', () => {
    const { step } = planStep(item(), [ev.orchestratorStarted(now)], { actions: [{ id: 10, createSubOrchestration: { instanceId: '', name: 'child', input: sv('5') } }] }, now);
    expect(childInstanceId('order-1', 10)).toBe('order-1:000a');
    expect(step.newInstances[0]).toMatchObject({ instanceId: 'order-1:000a', name: 'child', parentInstanceId: 'order-1', parentTaskId: 10 });
    expect(step.newInstances[0]?.startEvent.executionStarted?.parentInstance?.taskScheduledId).toBe(10);
  });

  it('completes a child and notifies its parent with the result', () => {
    const child = item({ instanceId: 'order-1:0001', parentInstanceId: 'order-1', parentTaskId: 1 });
    const { step } = planStep(
      child,
      [ev.orchestratorStarted(now)],
      { actions: [{ id: 4, completeOrchestration: { orchestrationStatus: 'ORCHESTRATION_STATUS_COMPLETED', result: sv('"done"') } }] },
      now,
    );
    expect(step.status).toBe('COMPLETED');
    expect(step.output).toBe('"done"');
    expect(step.messages).toEqual([{ instanceId: 'order-1', event: ev.subOrchestrationCompleted(1, '"done"', now), visibleAt: now }]);
  });

  it('fails with the failure details the SDK sent', () => {
    const failure = { errorType: 'Error', errorMessage: 'boom' };
    const { step } = planStep(item(), [ev.orchestratorStarted(now)], { actions: [{ id: -1, completeOrchestration: { orchestrationStatus: 3, failureDetails: failure } }] }, now);
    expect(step.status).toBe('FAILED');
    expect(step.failure).toEqual(failure);
  });

  it('continues as new: resets history and queues ExecutionStarted plus the carried-over events', () => {
    const carried = ev.eventRaised('tick', '"a"', now);
    const { step } = planStep(
      item(),
      [ev.orchestratorStarted(now)],
      { actions: [{ id: 5, completeOrchestration: { orchestrationStatus: 'ORCHESTRATION_STATUS_CONTINUED_AS_NEW', result: sv('2'), carryoverEvents: [carried] } }] },
      now,
    );
    expect(step.resetHistory).toBe(true);
    expect(step.appendHistory).toEqual([]);
    expect(step.input).toBe('2');
    expect(step.messages.map((m) => Object.keys(m.event).at(-1))).toEqual(['executionStarted', 'eventRaised']);
    expect(step.messages[0]?.event.executionStarted?.input).toEqual(sv('2'));
  });
});

describe('orderBatch', () => {
  it('puts ExecutionStarted before events that were queued earlier', () => {
    const raised = ev.eventRaised('x', null, now);
    const started = ev.executionStarted('i', 'w', null, { at: now });
    expect(orderBatch([raised, started])).toEqual([started, raised]);
  });
});

describe('non-determinism', () => {
  const recorded = [
    ev.orchestratorStarted(now),
    ev.executionStarted('order-1', 'orderWorkflow', '1', { at: now }),
    ev.taskScheduled(1, 'reserveStock', '1', now),
  ];

  it('fails the instance naming the recorded and the requested step when an action contradicts history', () => {
    const work: OrchestrationWorkItem = { instance: instance(), history: recorded, messages: [] };
    const { step } = planStep(work, [ev.orchestratorStarted(now)], { actions: [{ id: 1, scheduleTask: { name: 'chargeCard', input: sv('1') } }] }, now);
    expect(step.status).toBe('FAILED');
    expect(step.failure?.errorType).toBe('NonDeterminismError');
    expect(step.failure?.errorMessage).toBe(
      "non-deterministic workflow: step 1 is recorded in history as activity 'reserveStock', but the workflow code now schedules activity 'chargeCard'",
    );
    expect(step.activities).toEqual([]);
  });

  it('accepts actions at positions history has not filled yet', () => {
    const work: OrchestrationWorkItem = { instance: instance(), history: recorded, messages: [] };
    const { step } = planStep(work, [ev.orchestratorStarted(now)], { actions: [{ id: 2, scheduleTask: { name: 'chargeCard', input: sv('1') } }] }, now);
    expect(step.status).toBe('RUNNING');
    expect(step.activities.map((a) => a.name)).toEqual(['chargeCard']);
  });
});
