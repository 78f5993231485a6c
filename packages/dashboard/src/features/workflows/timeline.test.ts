import { describe, expect, it } from 'vitest';
import type { WorkflowHistoryEvent } from '../../shared/api.js';
import { buildTimeline, parentOf } from './timeline.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const ev = (eventId: number, s: number, type: string, fields: Record<string, unknown> = {}): WorkflowHistoryEvent => ({ eventId, timestamp: at(s), type, ...fields });

describe('workflow timeline', () => {
  it('shows a fan-out as one activity per call with input, output, start and duration', () => {
    const steps = buildTimeline([
      ev(-1, 0, 'OrchestratorStarted'),
      ev(-1, 0, 'ExecutionStarted', { name: 'fan', input: '{"n":2}' }),
      ev(1, 1, 'TaskScheduled', { name: 'price', input: '{"sku":"a"}' }),
      ev(2, 1, 'TaskScheduled', { name: 'price', input: '{"sku":"b"}' }),
      ev(-1, 3, 'TaskCompleted', { taskScheduledId: 2, result: '20' }),
      ev(-1, 4, 'TaskCompleted', { taskScheduledId: 1, result: '10' }),
      ev(-1, 5, 'ExecutionCompleted', { orchestrationStatus: 'ORCHESTRATION_STATUS_COMPLETED', result: '30' }),
    ]);
    expect(steps.map((s) => s.kind)).toEqual(['lifecycle', 'activity', 'activity', 'lifecycle']);
    expect(steps[1]).toMatchObject({ name: 'price', input: '{"sku":"a"}', output: '10', status: 'completed', attempts: 1, durationMs: 3000, start: at(1) });
    expect(steps[2]).toMatchObject({ input: '{"sku":"b"}', output: '20', durationMs: 2000 });
    expect(steps[3]).toMatchObject({ what: 'completed', detail: '30' });
  });

  it('counts a retried activity as one step with several attempts and keeps the last failure until it succeeds', () => {
    const failed = ev(-1, 2, 'TaskFailed', { taskScheduledId: 1, failureDetails: { errorType: 'Error', errorMessage: 'down', stackTrace: 'at x' } });
    const steps = buildTimeline([ev(1, 1, 'TaskScheduled', { name: 'pay', input: '5' }), failed, ev(2, 3, 'TaskScheduled', { name: 'pay', input: '5' })]);
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({ kind: 'activity', attempts: 2, status: 'running' });
    const done = buildTimeline([ev(1, 1, 'TaskScheduled', { name: 'pay', input: '5' }), failed, ev(2, 3, 'TaskScheduled', { name: 'pay', input: '5' }), ev(-1, 4, 'TaskCompleted', { taskScheduledId: 2, result: '"ok"' })]);
    expect(done[0]).toMatchObject({ attempts: 2, status: 'completed', output: '"ok"', durationMs: 3000 });
    expect(done[0]).not.toHaveProperty('failure');
    const gaveUp = buildTimeline([ev(1, 1, 'TaskScheduled', { name: 'pay' }), failed]);
    expect(gaveUp[0]).toMatchObject({ status: 'failed', failure: { errorType: 'Error', errorMessage: 'down', stackTrace: 'at x' } });
  });

  it('shows timers with their fire time, events raised and sent, and child workflows with their ids', () => {
    const steps = buildTimeline([
      ev(1, 1, 'TimerCreated', { fireAt: at(10) }),
      ev(-1, 10, 'TimerFired', { timerId: 1, fireAt: at(10) }),
      ev(-1, 11, 'EventRaised', { name: 'approval', input: '{"ok":true}' }),
      ev(2, 12, 'EventSent', { name: 'ping', instanceId: 'other', input: '1' }),
      ev(3, 12, 'SubOrchestrationInstanceCreated', { name: 'child', instanceId: 'kid-1', input: '7' }),
      ev(-1, 14, 'SubOrchestrationInstanceCompleted', { taskScheduledId: 3, result: '70' }),
      ev(-1, 15, 'ExecutionTerminated', { input: '"stop"' }),
    ]);
    expect(steps[0]).toMatchObject({ kind: 'timer', fireAt: at(10), firedAt: at(10), status: 'fired' });
    expect(steps[1]).toMatchObject({ kind: 'event-raised', name: 'approval', input: '{"ok":true}' });
    expect(steps[2]).toMatchObject({ kind: 'event-sent', name: 'ping', instanceId: 'other' });
    expect(steps[3]).toMatchObject({ kind: 'child', instanceId: 'kid-1', output: '70', status: 'completed', durationMs: 2000 });
    expect(steps[4]).toMatchObject({ kind: 'lifecycle', what: 'terminated', detail: '"stop"' });
  });

  it('finds the parent of a child workflow', () => {
    const history = [ev(-1, 0, 'ExecutionStarted', { name: 'child', parentInstance: { name: 'parent', orchestrationInstance: { instanceId: 'p-1' } } })];
    expect(parentOf(history)).toEqual({ instanceId: 'p-1', name: 'parent' });
    expect(parentOf([ev(-1, 0, 'ExecutionStarted', { name: 'x' })])).toBeUndefined();
  });
});
