/**
 * Turns an SDK's `OrchestratorResponse` into one {@link OrchestrationStep}: the events of the batch
 * go to history, each action becomes its history event plus the work it causes (activity tasks,
 * timers as future inbox events, child instances, events for other instances), and a completion
 * notifies the parent. Pure: no I/O, so it is unit-tested with history helpers.
 */
import { randomUUID } from 'node:crypto';
import type { NewInstance, OrchestrationStep, OrchestrationWorkItem } from './backend.js';
import { ev, fromTimestamp, normalizeEvent, sv, svValue } from './history.js';
import type { FailureDetails, HistoryEvent, OrchestratorAction, StringValue, TraceContextMessage, WorkflowStatus } from './types.js';
import { childStartTrace, orchestrationSpanContext, startedEventOf, traceContextOf } from './workflow-tracing.js';
import { terminatedChildEvent } from './transitions.js';

/** What the SDK sent back for a work item. */
export interface OrchestratorResult {
  actions: OrchestratorAction[];
  customStatus?: StringValue;
}

/** A step plus the follow-ups the engine performs after committing it. */
export interface PlannedStep {
  step: OrchestrationStep;
  /** Instances to terminate (`terminateOrchestration` actions). */
  terminate: { instanceId: string; reason: string | null }[];
}

const STATUS_NUMBERS: Record<number, string> = { 0: 'RUNNING', 1: 'COMPLETED', 2: 'CONTINUED_AS_NEW', 3: 'FAILED', 5: 'TERMINATED' };

/** Normalises an `OrchestrationStatus` from the wire (enum name or number) to Weft's name. */
export function statusName(value: string | number): string {
  if (typeof value === 'number') return STATUS_NUMBERS[value] ?? 'UNKNOWN';
  return value.replace(/^ORCHESTRATION_STATUS_/, '');
}

/** The default child instance id: `<parent>:<sequence as 4 hex digits>`, as durabletask does. */
export function childInstanceId(parentId: string, actionId: number): string {
  return `${parentId}:${actionId.toString(16).padStart(4, '0')}`;
}

/** Orders a batch: `ExecutionStarted` first (it may follow older inbox events after continue-as-new). */
export function orderBatch(events: HistoryEvent[]): HistoryEvent[] {
  return [...events.filter((e) => e.executionStarted), ...events.filter((e) => !e.executionStarted)];
}

/**
 * Plans the step for `item`, whose batch `newEvents` (OrchestratorStarted first) the SDK answered
 * with `result`.
 */
export function planStep(item: OrchestrationWorkItem, newEvents: HistoryEvent[], result: OrchestratorResult, now: Date): PlannedStep {
  const { instance } = item;
  const id = instance.instanceId;
  const step: OrchestrationStep = {
    instanceId: id,
    executionId: instance.executionId,
    consumedSeqs: item.messages.map((m) => m.seq),
    resetHistory: false,
    appendHistory: [...newEvents],
    status: 'RUNNING',
    output: instance.output,
    customStatus: svValue(result.customStatus) || null,
    failure: instance.failure,
    activities: [],
    messages: [],
    newInstances: [],
  };
  const terminate: PlannedStep['terminate'] = [];
  // Work this step schedules is traced under the instance's orchestration span, if it is traced.
  const orchestrationSpan = orchestrationSpanContext(startedEventOf(item.history, newEvents));
  const trace = orchestrationSpan ? traceContextOf(orchestrationSpan) : undefined;
  const mismatch = nonDeterminism(item.history, result.actions);
  if (mismatch) {
    complete(step, item, { orchestrationStatus: 'FAILED', failureDetails: { errorType: 'NonDeterminismError', errorMessage: mismatch } }, now);
    return { step, terminate };
  }
  for (const action of result.actions) {
    if (action.scheduleTask) {
      const input = svValue(action.scheduleTask.input);
      step.appendHistory.push(ev.taskScheduled(action.id, action.scheduleTask.name, input, now, trace));
      step.activities.push({ taskId: action.id, name: action.scheduleTask.name, input });
    } else if (action.createTimer) {
      const fireAt = action.createTimer.fireAt ? fromTimestamp(action.createTimer.fireAt) : now;
      step.appendHistory.push(ev.timerCreated(action.id, fireAt, now));
      step.messages.push({ instanceId: id, event: ev.timerFired(action.id, fireAt, fireAt), visibleAt: fireAt });
    } else if (action.createSubOrchestration) {
      const child = action.createSubOrchestration;
      const childId = child.instanceId || childInstanceId(id, action.id);
      const input = svValue(child.input);
      step.appendHistory.push(ev.subOrchestrationCreated(action.id, childId, child.name, input, now, trace));
      step.newInstances.push(newChild(childId, child.name, input, { instanceId: id, name: instance.name, taskId: action.id }, now, trace));
    } else if (action.sendEvent) {
      const target = action.sendEvent.instance?.instanceId ?? '';
      const data = svValue(action.sendEvent.data);
      step.appendHistory.push(ev.eventSent(action.id, target, action.sendEvent.name, data, now));
      if (target) step.messages.push({ instanceId: target, event: ev.eventRaised(action.sendEvent.name, data, now), visibleAt: now });
    } else if (action.terminateOrchestration) {
      terminate.push({ instanceId: action.terminateOrchestration.instanceId, reason: svValue(action.terminateOrchestration.reason) });
    } else if (action.completeOrchestration) {
      complete(step, item, action.completeOrchestration, now);
    }
  }
  return { step, terminate };
}

/** What a recorded scheduling event or an action asks for, as `kind 'name'`. */
function describeRecorded(e: HistoryEvent): string | undefined {
  if (e.taskScheduled) return `activity '${e.taskScheduled.name}'`;
  if (e.timerCreated) return 'timer';
  if (e.subOrchestrationInstanceCreated) return `child workflow '${e.subOrchestrationInstanceCreated.name}'`;
  if (e.eventSent) return `event '${e.eventSent.name}' sent`;
  return undefined;
}

function describeAction(a: OrchestratorAction): string | undefined {
  if (a.scheduleTask) return `activity '${a.scheduleTask.name}'`;
  if (a.createTimer) return 'timer';
  if (a.createSubOrchestration) return `child workflow '${a.createSubOrchestration.name}'`;
  if (a.sendEvent) return `event '${a.sendEvent.name}' sent`;
  return undefined;
}

/**
 * Compares the actions against what history already recorded under the same sequence numbers: a
 * workflow whose code changed (or that branches on something non-deterministic) asks for a different
 * step at a position history has already filled. Returns the failure message, naming both steps.
 */
export function nonDeterminism(history: HistoryEvent[], actions: OrchestratorAction[]): string | undefined {
  const recorded = new Map<number, string>();
  for (const e of history) {
    const what = describeRecorded(e);
    if (what !== undefined) recorded.set(e.eventId, what);
  }
  for (const action of actions) {
    const expected = recorded.get(action.id);
    const actual = describeAction(action);
    if (expected !== undefined && actual !== undefined && expected !== actual) {
      return `non-deterministic workflow: step ${action.id} is recorded in history as ${expected}, but the workflow code now schedules ${actual}`;
    }
  }
  return undefined;
}

/** A child instance to create, started by its parent's step (or a rerun's fork), in the parent's trace. */
export function newChild(
  childId: string,
  name: string,
  input: string | null,
  parent: { instanceId: string; name: string; taskId: number },
  now: Date,
  trace: TraceContextMessage | undefined,
): NewInstance {
  const executionId = randomUUID();
  return {
    instanceId: childId,
    name,
    input,
    executionId,
    createdAt: now,
    scheduledStartAt: null,
    parentInstanceId: parent.instanceId,
    parentTaskId: parent.taskId,
    startEvent: ev.executionStarted(childId, name, input, {
      executionId,
      at: now,
      parent: { taskScheduledId: parent.taskId, name: sv(parent.name), orchestrationInstance: { instanceId: parent.instanceId } },
      trace: childStartTrace(trace),
    }),
  };
}

function complete(
  step: OrchestrationStep,
  item: OrchestrationWorkItem,
  action: NonNullable<OrchestratorAction['completeOrchestration']>,
  now: Date,
): void {
  const { instance } = item;
  const status = statusName(action.orchestrationStatus);
  const result = svValue(action.result);
  if (status === 'CONTINUED_AS_NEW') {
    const executionId = randomUUID();
    const started = [...item.history, ...step.appendHistory].find((e) => e.executionStarted)?.executionStarted;
    step.resetHistory = true;
    step.appendHistory = [];
    step.newExecutionId = executionId;
    step.input = result;
    step.output = null;
    step.failure = null;
    step.messages = step.messages.filter((m) => m.instanceId !== instance.instanceId);
    step.activities = [];
    step.messages.push({
      instanceId: instance.instanceId,
      event: ev.executionStarted(instance.instanceId, instance.name, result, {
        executionId,
        at: now,
        ...(started?.parentInstance ? { parent: started.parentInstance } : {}),
        // The new execution gets its own orchestration span under the same parent, as in durabletask-go.
        trace: childStartTrace(started?.parentTraceContext ?? undefined),
      }),
      visibleAt: now,
    });
    for (const carried of action.carryoverEvents ?? []) {
      step.messages.push({ instanceId: instance.instanceId, event: normalizeEvent(carried), visibleAt: now });
    }
    return;
  }
  const final: WorkflowStatus = status === 'COMPLETED' || status === 'TERMINATED' ? status : 'FAILED';
  const failure: FailureDetails | null =
    final === 'FAILED'
      ? (action.failureDetails ?? { errorType: 'WorkflowFailed', errorMessage: `workflow ended with status ${status}` })
      : null;
  step.status = final;
  step.output = result;
  step.failure = failure;
  step.activities = [];
  step.messages = step.messages.filter((m) => m.instanceId !== instance.instanceId);
  step.appendHistory.push(ev.executionCompleted(final, result, failure, now));
  if (instance.parentInstanceId && instance.parentTaskId !== null) {
    const event =
      final === 'COMPLETED'
        ? ev.subOrchestrationCompleted(instance.parentTaskId, result, now)
        : failure
          ? ev.subOrchestrationFailed(instance.parentTaskId, failure, now)
          : terminatedChildEvent(instance.parentTaskId, instance.instanceId, now);
    step.messages.push({ instanceId: instance.parentInstanceId, event, visibleAt: now });
  }
}
