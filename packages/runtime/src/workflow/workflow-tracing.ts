/**
 * Workflow spans, as durabletask-go (Dapr's workflow engine) writes them (`api/helpers/tracing.go`,
 * `backend/orchestration.go`, `backend/activity.go`, `backend/executor.go`):
 *
 * - scheduling an instance is a CLIENT span `create_orchestration||<name>` under the start request's
 *   span; its context is stored in the instance's `ExecutionStarted.parentTraceContext`, together
 *   with `orchestrationSpanID`, the id of the instance's one long-lived orchestration span;
 * - `orchestration||<name>` (SERVER) covers the instance from its start until it completes, fails,
 *   is terminated or continues as new, and is exported then, with `durabletask.runtime_status`;
 * - every activity task is scheduled with `TaskScheduled.parentTraceContext` = the orchestration span,
 *   and each execution is a SERVER span `activity||<name>` whose context goes to the worker in
 *   `ActivityRequest.parentTraceContext`, so spans the app makes join the trace;
 * - a fired durable timer is an INTERNAL span `timer` from its creation to its firing.
 *
 * Attributes: `durabletask.type`, `durabletask.task.name`, `durabletask.task.instance_id`,
 * `durabletask.task.task_id`, `durabletask.fire_at`. The trace contexts live in history, so an
 * instance keeps its trace across sidecar restarts and replicas.
 */
import { newSpanId, formatTraceparent, parseTraceparent } from '../observability/trace-context.js';
import type { SpanContext } from '../observability/trace-context.js';
import type { Span, Tracer } from '../observability/tracing.js';
import type { FailureDetails, HistoryEvent, StringValue, TraceContextMessage } from './types.js';
import { fromTimestamp } from './history.js';

/** The trace fields of an `ExecutionStarted` event. */
export interface StartTrace {
  parentTraceContext: TraceContextMessage;
  orchestrationSpanID: StringValue;
}

type ExecutionStarted = NonNullable<HistoryEvent['executionStarted']>;

/** A `TraceContext` message as a span context (undefined when absent or invalid). */
export function spanContextOf(tc: TraceContextMessage | null | undefined): SpanContext | undefined {
  if (!tc?.traceParent) return undefined;
  return parseTraceparent(tc.traceParent, tc.traceState?.value || undefined);
}

/** A span context as a `TraceContext` message. */
export function traceContextOf(context: SpanContext): TraceContextMessage {
  return { traceParent: formatTraceparent(context), ...(context.traceState ? { traceState: { value: context.traceState } } : {}) };
}

/** The context of an instance's orchestration span, from its `ExecutionStarted` event. */
export function orchestrationSpanContext(started: ExecutionStarted | null | undefined): SpanContext | undefined {
  const parent = spanContextOf(started?.parentTraceContext);
  const spanId = started?.orchestrationSpanID?.value;
  return parent && spanId ? { ...parent, spanId } : undefined;
}

/** Trace fields of an instance started by an orchestration (child workflow, continue-as-new). */
export function childStartTrace(parent: TraceContextMessage | undefined): StartTrace | undefined {
  return parent ? { parentTraceContext: parent, orchestrationSpanID: { value: newSpanId() } } : undefined;
}

/** The `ExecutionStarted` event among events, if any. */
export function startedEventOf(...lists: HistoryEvent[][]): ExecutionStarted | undefined {
  for (const list of lists) for (const e of list) if (e.executionStarted) return e.executionStarted;
  return undefined;
}

const key = (instanceId: string, taskId: number) => `${instanceId}\u0000${taskId}`;

/** Spans of one sidecar's workflow engine. */
export class WorkflowTracing {
  private readonly activities = new Map<string, Span>();
  /** Parents of activities scheduled here and not dispatched yet (saves a history read per activity). */
  private readonly scheduled = new Map<string, TraceContextMessage>();

  constructor(private readonly tracer: Pick<Tracer, 'startSpan' | 'startSpanFromHeaders'>) {}

  /**
   * The `create_orchestration||<name>` span of a start request, under the request's trace context.
   * Returns the span (to end once the instance exists) and the trace fields for `ExecutionStarted`;
   * none when the trace is not sampled (as durabletask-go, which records only sampled contexts).
   */
  scheduling(name: string, instanceId: string, trace: { traceparent?: string | undefined; tracestate?: string | undefined } | undefined): { span: Span; start?: StartTrace } {
    const span = this.tracer.startSpanFromHeaders(`create_orchestration||${name}`, 'CLIENT', trace?.traceparent, trace?.tracestate, {
      'durabletask.type': 'orchestration',
      'durabletask.task.name': name,
      'durabletask.task.instance_id': instanceId,
    });
    if (!span.context.sampled) return { span };
    return { span, start: { parentTraceContext: traceContextOf(span.context), orchestrationSpanID: { value: newSpanId() } } };
  }

  /**
   * Exports the orchestration span of an instance that finished (or continued as new): from
   * `startedAt` until now, under its stored parent, with the span id fixed at scheduling.
   */
  orchestrationEnded(started: ExecutionStarted | undefined, startedAt: Date, runtimeStatus: string, failure: FailureDetails | null): void {
    const context = orchestrationSpanContext(started);
    if (!started || !context) return;
    const span = this.tracer.startSpan(`orchestration||${started.name}`, {
      kind: 'SERVER',
      parent: spanContextOf(started.parentTraceContext),
      spanId: context.spanId,
      startMs: startedAt.getTime(),
      attributes: {
        'durabletask.type': 'orchestration',
        'durabletask.task.name': started.name,
        'durabletask.task.instance_id': started.orchestrationInstance.instanceId,
      },
    });
    span.end({ attributes: { 'durabletask.runtime_status': runtimeStatus }, error: failure !== null, ...(failure ? { message: failure.errorMessage } : {}) });
  }

  /** A timer span for each `TimerFired` in `events`, from the timer's creation in `history`. */
  timersFired(started: ExecutionStarted | undefined, history: HistoryEvent[], events: HistoryEvent[]): void {
    const parent = orchestrationSpanContext(started);
    if (!started || !parent) return;
    for (const e of events) {
      const fired = e.timerFired;
      if (!fired) continue;
      const created = history.find((h) => h.timerCreated && h.eventId === fired.timerId);
      const span = this.tracer.startSpan('timer', {
        kind: 'INTERNAL',
        parent,
        startMs: created ? fromTimestamp(created.timestamp).getTime() : undefined,
        attributes: {
          'durabletask.type': 'timer',
          'durabletask.fire_at': fromTimestamp(fired.fireAt).toISOString(),
          'durabletask.task.task_id': fired.timerId,
          'durabletask.task.instance_id': started.orchestrationInstance.instanceId,
        },
      });
      span.end();
    }
  }

  /** Remembers the parents of activities just scheduled (their `TaskScheduled` events). */
  activitiesScheduled(instanceId: string, events: HistoryEvent[]): void {
    for (const e of events) {
      const tc = e.taskScheduled?.parentTraceContext;
      if (tc?.traceParent) this.scheduled.set(key(instanceId, e.eventId), tc);
    }
  }

  /**
   * Opens the `activity||<name>` span of one execution and returns its context for the
   * `ActivityRequest`; `history` is read only for activities scheduled by another sidecar.
   */
  async activityStarted(
    item: { instanceId: string; taskId: number; name: string },
    history: () => Promise<HistoryEvent[]>,
  ): Promise<TraceContextMessage | undefined> {
    const k = key(item.instanceId, item.taskId);
    let parent = this.scheduled.get(k);
    this.scheduled.delete(k);
    parent ??= (await history()).find((e) => e.taskScheduled && e.eventId === item.taskId)?.taskScheduled?.parentTraceContext ?? undefined;
    const parentContext = spanContextOf(parent);
    if (!parentContext) return undefined;
    this.activities.get(k)?.end({ error: true, message: 'the activity was dispatched again' });
    const span = this.tracer.startSpan(`activity||${item.name}`, {
      kind: 'SERVER',
      parent: parentContext,
      attributes: {
        'durabletask.type': 'activity',
        'durabletask.task.name': item.name,
        'durabletask.task.task_id': item.taskId,
        'durabletask.task.instance_id': item.instanceId,
      },
    });
    this.activities.set(k, span);
    return span.context.sampled ? traceContextOf(span.context) : undefined;
  }

  /** Ends an activity's span with its outcome. */
  activityEnded(instanceId: string, taskId: number, failure: FailureDetails | null): void {
    const k = key(instanceId, taskId);
    const span = this.activities.get(k);
    this.activities.delete(k);
    span?.end({ error: failure !== null, ...(failure ? { message: failure.errorMessage } : {}) });
  }
}
