/**
 * Turns a workflow's raw history into the steps the instance page draws: activities (input, output,
 * start, duration, attempts), timers, events raised and sent, child workflows and lifecycle marks.
 * Pure and independent of React, so it is unit-tested on its own.
 */
import type { WorkflowHistoryEvent } from '../../shared/api.js';

/** Failure details as the history carries them. */
export interface StepFailure {
  errorType?: string;
  errorMessage?: string;
  stackTrace?: string;
}

/** One step of the timeline. */
export type TimelineStep =
  | {
      kind: 'activity';
      /** The TaskScheduled event id of the first attempt. */
      id: number;
      name: string;
      input?: string;
      output?: string;
      failure?: StepFailure;
      status: 'running' | 'completed' | 'failed';
      start: string;
      end?: string;
      durationMs?: number;
      attempts: number;
    }
  | { kind: 'timer'; id: number; start: string; fireAt?: string; firedAt?: string; status: 'waiting' | 'fired' }
  | { kind: 'event-raised'; id: number; name: string; input?: string; at: string }
  | { kind: 'event-sent'; id: number; name: string; instanceId: string; input?: string; at: string }
  | {
      kind: 'child';
      id: number;
      name: string;
      instanceId: string;
      input?: string;
      output?: string;
      failure?: StepFailure;
      status: 'running' | 'completed' | 'failed';
      start: string;
      end?: string;
      durationMs?: number;
    }
  | { kind: 'lifecycle'; id: number; what: 'started' | 'completed' | 'failed' | 'terminated' | 'suspended' | 'resumed' | 'continued-as-new'; at: string; detail?: string };

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : v === undefined || v === null ? undefined : JSON.stringify(v));
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : undefined);
const ms = (a: string, b: string) => Date.parse(b) - Date.parse(a);

function failureOf(v: unknown): StepFailure | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const f = v as Record<string, unknown>;
  const out: StepFailure = {};
  const type = str(f['errorType']);
  const message = str(f['errorMessage']);
  const stack = str(f['stackTrace']);
  if (type) out.errorType = type;
  if (message) out.errorMessage = message;
  if (stack) out.stackTrace = stack;
  return out;
}

/** The parent of a child workflow, from its ExecutionStarted event. */
export function parentOf(history: readonly WorkflowHistoryEvent[]): { instanceId: string; name?: string } | undefined {
  const started = history.find((e) => e.type === 'ExecutionStarted');
  const parent = started?.['parentInstance'] as Record<string, unknown> | undefined;
  const ref = parent?.['orchestrationInstance'] as Record<string, unknown> | undefined;
  const instanceId = str(ref?.['instanceId']);
  if (!instanceId) return undefined;
  const name = str(parent?.['name']);
  return { instanceId, ...(name ? { name } : {}) };
}

/** Builds the timeline of one instance's history, in the order steps started. */
export function buildTimeline(history: readonly WorkflowHistoryEvent[]): TimelineStep[] {
  const steps: TimelineStep[] = [];
  const activities = new Map<number, Extract<TimelineStep, { kind: 'activity' }>>();
  const children = new Map<number, Extract<TimelineStep, { kind: 'child' }>>();
  const timers = new Map<number, Extract<TimelineStep, { kind: 'timer' }>>();
  // The last failed attempt per activity name + input: a new schedule of the same call is a retry.
  const failedCalls = new Map<string, Extract<TimelineStep, { kind: 'activity' }>>();

  for (const e of history) {
    switch (e.type) {
      case 'ExecutionStarted':
        steps.push({ kind: 'lifecycle', id: e.eventId, what: 'started', at: e.timestamp });
        break;
      case 'TaskScheduled': {
        const name = str(e['name']) ?? '(unnamed)';
        const input = str(e['input']);
        const callKey = `${name}\u0000${input ?? ''}`;
        const retried = failedCalls.get(callKey);
        if (retried) {
          failedCalls.delete(callKey);
          retried.attempts += 1;
          retried.status = 'running';
          delete retried.end;
          delete retried.durationMs;
          activities.set(e.eventId, retried);
          break;
        }
        const step: Extract<TimelineStep, { kind: 'activity' }> = { kind: 'activity', id: e.eventId, name, status: 'running', start: e.timestamp, attempts: 1, ...(input !== undefined ? { input } : {}) };
        activities.set(e.eventId, step);
        steps.push(step);
        break;
      }
      case 'TaskCompleted': {
        const step = activities.get(num(e['taskScheduledId']) ?? -1);
        if (!step) break;
        step.status = 'completed';
        step.end = e.timestamp;
        step.durationMs = ms(step.start, e.timestamp);
        delete step.failure;
        const output = str(e['result']);
        if (output !== undefined) step.output = output;
        break;
      }
      case 'TaskFailed': {
        const step = activities.get(num(e['taskScheduledId']) ?? -1);
        if (!step) break;
        step.status = 'failed';
        step.end = e.timestamp;
        step.durationMs = ms(step.start, e.timestamp);
        const failure = failureOf(e['failureDetails']);
        if (failure) step.failure = failure;
        failedCalls.set(`${step.name}\u0000${step.input ?? ''}`, step);
        break;
      }
      case 'SubOrchestrationInstanceCreated': {
        const input = str(e['input']);
        const step: Extract<TimelineStep, { kind: 'child' }> = {
          kind: 'child',
          id: e.eventId,
          name: str(e['name']) ?? '(unnamed)',
          instanceId: str(e['instanceId']) ?? '',
          status: 'running',
          start: e.timestamp,
          ...(input !== undefined ? { input } : {}),
        };
        children.set(e.eventId, step);
        steps.push(step);
        break;
      }
      case 'SubOrchestrationInstanceCompleted':
      case 'SubOrchestrationInstanceFailed': {
        const step = children.get(num(e['taskScheduledId']) ?? -1);
        if (!step) break;
        step.status = e.type === 'SubOrchestrationInstanceCompleted' ? 'completed' : 'failed';
        step.end = e.timestamp;
        step.durationMs = ms(step.start, e.timestamp);
        const output = str(e['result']);
        if (output !== undefined) step.output = output;
        const failure = failureOf(e['failureDetails']);
        if (failure) step.failure = failure;
        break;
      }
      case 'TimerCreated': {
        const fireAt = str(e['fireAt']);
        const step: Extract<TimelineStep, { kind: 'timer' }> = { kind: 'timer', id: e.eventId, start: e.timestamp, status: 'waiting', ...(fireAt ? { fireAt } : {}) };
        timers.set(e.eventId, step);
        steps.push(step);
        break;
      }
      case 'TimerFired': {
        const step = timers.get(num(e['timerId']) ?? -1);
        if (step) {
          step.status = 'fired';
          step.firedAt = e.timestamp;
        }
        break;
      }
      case 'EventRaised': {
        const input = str(e['input']);
        steps.push({ kind: 'event-raised', id: e.eventId, name: str(e['name']) ?? '', at: e.timestamp, ...(input !== undefined ? { input } : {}) });
        break;
      }
      case 'EventSent': {
        const input = str(e['input']);
        steps.push({ kind: 'event-sent', id: e.eventId, name: str(e['name']) ?? '', instanceId: str(e['instanceId']) ?? '', at: e.timestamp, ...(input !== undefined ? { input } : {}) });
        break;
      }
      case 'ExecutionCompleted': {
        const status = str(e['orchestrationStatus']) ?? '';
        const failed = /FAILED/.test(status);
        const terminated = /TERMINATED/.test(status);
        const detail = failed ? failureOf(e['failureDetails'])?.errorMessage : str(e['result']);
        steps.push({ kind: 'lifecycle', id: e.eventId, what: failed ? 'failed' : terminated ? 'terminated' : 'completed', at: e.timestamp, ...(detail !== undefined ? { detail } : {}) });
        break;
      }
      case 'ExecutionTerminated': {
        const detail = str(e['input']);
        steps.push({ kind: 'lifecycle', id: e.eventId, what: 'terminated', at: e.timestamp, ...(detail !== undefined ? { detail } : {}) });
        break;
      }
      case 'ExecutionSuspended':
        steps.push({ kind: 'lifecycle', id: e.eventId, what: 'suspended', at: e.timestamp });
        break;
      case 'ExecutionResumed':
        steps.push({ kind: 'lifecycle', id: e.eventId, what: 'resumed', at: e.timestamp });
        break;
      case 'ContinueAsNew':
        steps.push({ kind: 'lifecycle', id: e.eventId, what: 'continued-as-new', at: e.timestamp });
        break;
      default:
        break; // OrchestratorStarted/Completed mark replays, not steps.
    }
  }
  return steps;
}
