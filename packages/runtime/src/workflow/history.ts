/**
 * Factories for history events (STYLE.md #12): the engine builds every event through these, and tests
 * read like the history they check (`ev.taskScheduled(1, 'plusOne', '1')`).
 */
import type { FailureDetails, HistoryEvent, ParentInstanceInfo, StringValue, Timestamp, TraceContextMessage } from './types.js';

/** A Date as a protobuf Timestamp. */
export function toTimestamp(date: Date): Timestamp {
  const ms = date.getTime();
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 };
}

/** A protobuf Timestamp as a Date (milliseconds precision). */
export function fromTimestamp(ts: Timestamp): Date {
  return new Date(Number(ts.seconds) * 1000 + Math.floor(Number(ts.nanos) / 1_000_000));
}

/** A string as a `StringValue`; undefined/null stay unset. */
export function sv(value: string | null | undefined): StringValue {
  return value === undefined || value === null ? null : { value };
}

/** The string inside a `StringValue`, or null when unset. */
export function svValue(value: StringValue): string | null {
  return value ? value.value : null;
}

function base(eventId: number, at: Date | undefined): Pick<HistoryEvent, 'eventId' | 'timestamp'> {
  return { eventId, timestamp: toTimestamp(at ?? new Date()) };
}

/** History event factories; `at` defaults to now. */
export const ev = {
  orchestratorStarted: (at?: Date): HistoryEvent => ({ ...base(-1, at), orchestratorStarted: {} }),
  executionStarted: (
    instanceId: string,
    name: string,
    input: string | null,
    opts: {
      executionId?: string;
      parent?: ParentInstanceInfo;
      scheduledStart?: Date;
      at?: Date;
      trace?: { parentTraceContext: TraceContextMessage; orchestrationSpanID: StringValue } | undefined;
    } = {},
  ): HistoryEvent => ({
    ...base(-1, opts.at),
    executionStarted: {
      name,
      input: sv(input),
      orchestrationInstance: { instanceId, executionId: sv(opts.executionId) },
      parentInstance: opts.parent ?? null,
      scheduledStartTimestamp: opts.scheduledStart ? toTimestamp(opts.scheduledStart) : null,
      ...(opts.trace ? { parentTraceContext: opts.trace.parentTraceContext, orchestrationSpanID: opts.trace.orchestrationSpanID } : {}),
    },
  }),
  executionCompleted: (status: string, result: string | null, failure?: FailureDetails | null, at?: Date): HistoryEvent => ({
    ...base(-1, at),
    executionCompleted: { orchestrationStatus: `ORCHESTRATION_STATUS_${status}`, result: sv(result), failureDetails: failure ?? null },
  }),
  executionTerminated: (output: string | null, at?: Date): HistoryEvent => ({
    ...base(-1, at),
    executionTerminated: { input: sv(output), recurse: true },
  }),
  taskScheduled: (id: number, name: string, input: string | null, at?: Date, parentTraceContext?: TraceContextMessage): HistoryEvent => ({
    ...base(id, at),
    taskScheduled: { name, input: sv(input), ...(parentTraceContext ? { parentTraceContext } : {}) },
  }),
  taskCompleted: (taskId: number, result: string | null, at?: Date): HistoryEvent => ({
    ...base(-1, at),
    taskCompleted: { taskScheduledId: taskId, result: sv(result) },
  }),
  taskFailed: (taskId: number, failure: FailureDetails, at?: Date): HistoryEvent => ({
    ...base(-1, at),
    taskFailed: { taskScheduledId: taskId, failureDetails: failure },
  }),
  subOrchestrationCreated: (id: number, instanceId: string, name: string, input: string | null, at?: Date, parentTraceContext?: TraceContextMessage): HistoryEvent => ({
    ...base(id, at),
    subOrchestrationInstanceCreated: { instanceId, name, input: sv(input), ...(parentTraceContext ? { parentTraceContext } : {}) },
  }),
  subOrchestrationCompleted: (taskId: number, result: string | null, at?: Date): HistoryEvent => ({
    ...base(-1, at),
    subOrchestrationInstanceCompleted: { taskScheduledId: taskId, result: sv(result) },
  }),
  subOrchestrationFailed: (taskId: number, failure: FailureDetails, at?: Date): HistoryEvent => ({
    ...base(-1, at),
    subOrchestrationInstanceFailed: { taskScheduledId: taskId, failureDetails: failure },
  }),
  timerCreated: (id: number, fireAt: Date, at?: Date): HistoryEvent => ({ ...base(id, at), timerCreated: { fireAt: toTimestamp(fireAt) } }),
  timerFired: (timerId: number, fireAt: Date, at?: Date): HistoryEvent => ({
    ...base(-1, at),
    timerFired: { timerId, fireAt: toTimestamp(fireAt) },
  }),
  eventSent: (id: number, instanceId: string, name: string, input: string | null, at?: Date): HistoryEvent => ({
    ...base(id, at),
    eventSent: { instanceId, name, input: sv(input) },
  }),
  eventRaised: (name: string, input: string | null, at?: Date): HistoryEvent => ({
    ...base(-1, at),
    eventRaised: { name, input: sv(input) },
  }),
};

/** The name of the event body a history event carries (`taskCompleted`, …). */
export function eventKind(event: HistoryEvent): string {
  for (const [key, value] of Object.entries(event)) {
    if (key !== 'eventId' && key !== 'timestamp' && key !== 'eventType' && value !== null && value !== undefined) return key;
  }
  return 'unknown';
}

/**
 * Drops proto-loader's decode-only fields (`eventType`, nulls) so an event taken from an SDK message
 * is stored in the same shape as one built here.
 */
export function normalizeEvent(event: HistoryEvent): HistoryEvent {
  const kind = eventKind(event);
  return {
    eventId: event.eventId,
    timestamp: event.timestamp ?? toTimestamp(new Date()),
    [kind]: (event as unknown as Record<string, unknown>)[kind],
  } as HistoryEvent;
}
