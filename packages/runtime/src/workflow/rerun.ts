/**
 * Rerun from a chosen step (`RerunWorkflowFromEvent`), planned as daprd's workflow actor does it
 * (`pkg/actors/targets/workflow/orchestrator/fork`): the new instance gets the source's history up to
 * the chosen event, and every step that had not finished by then is scheduled again (activities,
 * timers, child workflows), the chosen one last and, with `overwriteInput`, with the new input. The
 * orchestrator then replays that history and carries on from there.
 *
 * Pure: no I/O. The engine checks the source's state and creates the instance from the plan in one
 * transaction ({@link WorkflowBackend.createForkedInstance}).
 *
 * Deliberately the one departure from daprd: a timer that fired before the chosen event keeps its
 * `TimerFired` in history (as daprd 1.16 did) instead of being scheduled again.
 */
import { randomUUID } from 'node:crypto';
import { GrpcCode, workflowErrors } from '../errors/index.js';
import type { ForkedInstance } from './backend.js';
import { ev, eventKind, fromTimestamp, sv, toTimestamp } from './history.js';
import { childInstanceId, newChild } from './step.js';
import type { HistoryEvent, InstanceRecord } from './types.js';
import { isTerminal } from './types.js';
import { orchestrationSpanContext, traceContextOf } from './workflow-tracing.js';
import type { StartTrace } from './workflow-tracing.js';

/** A `RerunWorkflowFromEventRequest`, as the engine takes it. */
export interface RerunRequest {
  sourceInstanceId: string;
  /** The id of the `TaskScheduled`, `TimerCreated` or child-workflow creation event to rerun from. */
  eventId: number;
  /** The new instance's id; a random UUID when absent. */
  newInstanceId?: string | undefined;
  /** Replace the chosen step's input with {@link input} (null clears it). */
  overwriteInput?: boolean | undefined;
  input?: string | null | undefined;
  /** The rerun child workflow's instance id (only when rerunning from a child workflow's creation). */
  newChildWorkflowInstanceId?: string | undefined;
}

const invalid = (message: string) => workflowErrors.rerun(message, GrpcCode.INVALID_ARGUMENT);
const notFound = (message: string) => workflowErrors.rerun(message, GrpcCode.NOT_FOUND);

/** The new instance id a request names, or a fresh one; refuses a missing source or a reused id. */
export function rerunInstanceId(req: RerunRequest): string {
  if (!req.sourceInstanceId) throw invalid('rerun workflow source instance ID is required');
  const newId = req.newInstanceId || randomUUID();
  if (newId === req.sourceInstanceId) throw invalid('rerun workflow instance ID must be different from the original instance ID');
  return newId;
}

/** Refuses a source that does not exist, has not finished or is a child workflow. */
export function checkRerunSource(sourceId: string, source: InstanceRecord | undefined): asserts source is InstanceRecord {
  if (!source) throw notFound(`workflow instance does not exist with ID '${sourceId}'`);
  if (!isTerminal(source.status)) throw invalid(`'${sourceId}' is not in a terminal state`);
  if (source.parentInstanceId) throw invalid(`'${sourceId}': cannot rerun from child-workflows`);
}

/** The Go type daprd names in its "not an event that can be rerun" message, e.g. `*protos.HistoryEvent_TaskCompleted`. */
function goEventType(e: HistoryEvent): string {
  const kind = eventKind(e).replace(/^subOrchestrationInstance/, 'childWorkflowInstance');
  return `*protos.HistoryEvent_${kind.charAt(0).toUpperCase()}${kind.slice(1)}`;
}

/**
 * Plans the new instance: its history and the work to schedule. Throws daprd's errors for an event
 * id that is not in the history or is not a step that can be rerun, and for options the chosen step
 * does not take.
 */
export function planRerun(
  source: InstanceRecord,
  history: readonly HistoryEvent[],
  req: RerunRequest,
  newInstanceId: string,
  now: Date,
  trace?: StartTrace,
): ForkedInstance {
  const kept: HistoryEvent[] = [];
  const activities = new Map<number, HistoryEvent>();
  const timers = new Map<number, HistoryEvent>();
  const children = new Map<number, HistoryEvent>();
  // Events are copied, never shared: the plan edits some of them.
  const copy = (e: HistoryEvent): HistoryEvent => structuredClone(e);
  const settle = (open: Map<number, HistoryEvent>, id: number, e: HistoryEvent) => {
    const scheduled = open.get(id);
    if (scheduled) kept.push(scheduled);
    kept.push(e);
    open.delete(id);
  };
  let target: HistoryEvent | undefined;
  for (const original of history) {
    const e = copy(original);
    if (e.eventId === req.eventId) {
      target = e;
      break;
    }
    // A step is history only once its result is: it moves next to its result, and a step with no
    // result yet is scheduled again.
    if (e.taskScheduled) activities.set(e.eventId, e);
    else if (e.taskCompleted) settle(activities, e.taskCompleted.taskScheduledId, e);
    else if (e.taskFailed) settle(activities, e.taskFailed.taskScheduledId, e);
    else if (e.timerCreated) timers.set(e.eventId, e);
    else if (e.timerFired) settle(timers, e.timerFired.timerId, e);
    else if (e.subOrchestrationInstanceCreated) children.set(e.eventId, e);
    else if (e.subOrchestrationInstanceCompleted) settle(children, e.subOrchestrationInstanceCompleted.taskScheduledId, e);
    else if (e.subOrchestrationInstanceFailed) settle(children, e.subOrchestrationInstanceFailed.taskScheduledId, e);
    else kept.push(e);
  }
  if (!target) throw notFound(`does not have history event with ID '${req.eventId}'`);
  const childId = req.newChildWorkflowInstanceId || undefined;
  if (target.taskScheduled) {
    if (req.overwriteInput) target.taskScheduled.input = sv(req.input ?? null);
    if (childId !== undefined) throw invalid(`cannot set new child workflow instance ID on activity event '${req.eventId}'`);
  } else if (target.timerCreated) {
    if (req.overwriteInput) throw invalid(`cannot write input to timer event '${req.eventId}'`);
    if (childId !== undefined) throw invalid(`cannot set new child workflow instance ID on timer event '${req.eventId}'`);
  } else if (target.subOrchestrationInstanceCreated) {
    target.subOrchestrationInstanceCreated.instanceId = childId ?? childInstanceId(newInstanceId, target.eventId);
    if (req.overwriteInput) target.subOrchestrationInstanceCreated.input = sv(req.input ?? null);
  } else {
    throw notFound(`target event '${goEventType(target)}' with ID '${req.eventId}' is not an event that can be rerun`);
  }
  // Children still running at the chosen event run again under ids of the new instance.
  for (const c of children.values()) if (c.subOrchestrationInstanceCreated) c.subOrchestrationInstanceCreated.instanceId = childInstanceId(newInstanceId, c.eventId);

  const executionId = randomUUID();
  const rescheduled = [...activities.values(), ...timers.values(), ...children.values(), target];
  // The steps run again under the new instance's orchestration span (when traced), not the source's.
  const span = orchestrationSpanContext(trace ? { name: source.name, orchestrationInstance: { instanceId: newInstanceId }, ...trace } : undefined);
  const parentTraceContext = span ? traceContextOf(span) : undefined;
  for (const e of rescheduled) {
    e.timestamp = toTimestamp(now);
    const body = e.taskScheduled ?? e.subOrchestrationInstanceCreated;
    if (body) {
      delete body.parentTraceContext;
      if (parentTraceContext) body.parentTraceContext = parentTraceContext;
    }
  }
  const fork: ForkedInstance = {
    instanceId: newInstanceId,
    name: source.name,
    input: source.input,
    executionId,
    createdAt: now,
    history: [...kept.map((e) => startedAs(e, newInstanceId, executionId, trace)), ...rescheduled],
    activities: [],
    messages: [],
    newInstances: [],
  };
  for (const e of rescheduled) {
    if (e.taskScheduled) {
      fork.activities.push({ taskId: e.eventId, name: e.taskScheduled.name, input: e.taskScheduled.input?.value ?? null });
    } else if (e.timerCreated) {
      const fireAt = fromTimestamp(e.timerCreated.fireAt);
      fork.messages.push({ instanceId: newInstanceId, event: ev.timerFired(e.eventId, fireAt, fireAt), visibleAt: fireAt < now ? now : fireAt });
    } else if (e.subOrchestrationInstanceCreated) {
      const c = e.subOrchestrationInstanceCreated;
      const parent = { instanceId: newInstanceId, name: source.name, taskId: e.eventId };
      fork.newInstances.push(newChild(c.instanceId, c.name, c.input?.value ?? null, parent, now, parentTraceContext));
    }
  }
  return fork;
}

/** The source's `ExecutionStarted` as the new instance's: its own id, execution and span (none of the source's). */
function startedAs(e: HistoryEvent, instanceId: string, executionId: string, trace: StartTrace | undefined): HistoryEvent {
  if (!e.executionStarted) return e;
  const { parentTraceContext: _trace, orchestrationSpanID: _span, ...started } = e.executionStarted;
  return { ...e, executionStarted: { ...started, orchestrationInstance: { instanceId, executionId: sv(executionId) }, ...(trace ?? {}) } };
}

