/**
 * The durabletask message shapes as Weft stores and sends them: plain objects in the form
 * `@grpc/proto-loader` produces (`keepCase`, `StringValue` as `{value}`, `Timestamp` as
 * `{seconds, nanos}`), so history events go to the database as JSON and back onto the wire unchanged.
 * Only the fields the engine reads are typed; the rest pass through.
 */

/** `google.protobuf.StringValue`; `null`/absent means unset. */
export type StringValue = { value: string } | null | undefined;

/** `google.protobuf.Timestamp`. */
export interface Timestamp {
  seconds: number;
  nanos: number;
}

/** Runtime statuses Weft uses. CANCELED (4) and FROZEN (8) are never produced: the JS SDK crashes on them. */
export const WORKFLOW_STATUSES = ['RUNNING', 'COMPLETED', 'CONTINUED_AS_NEW', 'FAILED', 'TERMINATED', 'PENDING', 'SUSPENDED'] as const;

/** A runtime status, as Dapr's HTTP API spells it. */
export type WorkflowStatus = (typeof WORKFLOW_STATUSES)[number];

/** Statuses after which an instance never runs again. */
export const TERMINAL_STATUSES: readonly WorkflowStatus[] = ['COMPLETED', 'FAILED', 'TERMINATED'];

/** True for COMPLETED, FAILED and TERMINATED. */
export function isTerminal(status: WorkflowStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** `TaskFailureDetails`. */
export interface FailureDetails {
  errorType: string;
  errorMessage: string;
  stackTrace?: StringValue;
  innerFailure?: FailureDetails | null;
  isNonRetriable?: boolean;
}

/** `OrchestrationInstance`. */
export interface OrchestrationInstanceRef {
  instanceId: string;
  executionId?: StringValue;
}

/** `ParentInstanceInfo`. */
export interface ParentInstanceInfo {
  taskScheduledId: number;
  name?: StringValue;
  version?: StringValue;
  orchestrationInstance: OrchestrationInstanceRef;
}

/** `TraceContext`: a W3C `traceparent` (and `tracestate`) stored in history. */
export interface TraceContextMessage {
  traceParent: string;
  /** Deprecated in the proto; kept when an SDK sends it. */
  spanID?: string;
  traceState?: StringValue;
}

/** `HistoryEvent`: an event id, a timestamp and exactly one event body. */
export interface HistoryEvent {
  eventId: number;
  timestamp: Timestamp;
  executionStarted?: {
    name: string;
    version?: StringValue;
    input?: StringValue;
    orchestrationInstance: OrchestrationInstanceRef;
    parentInstance?: ParentInstanceInfo | null;
    scheduledStartTimestamp?: Timestamp | null;
    /** The span that scheduled the instance (see `workflow-tracing.ts`). */
    parentTraceContext?: TraceContextMessage | null;
    /** The id of the instance's orchestration span. */
    orchestrationSpanID?: StringValue;
  } | null;
  executionCompleted?: { orchestrationStatus: string; result?: StringValue; failureDetails?: FailureDetails | null } | null;
  executionTerminated?: { input?: StringValue; recurse?: boolean } | null;
  taskScheduled?: { name: string; version?: StringValue; input?: StringValue; parentTraceContext?: TraceContextMessage | null } | null;
  taskCompleted?: { taskScheduledId: number; result?: StringValue } | null;
  taskFailed?: { taskScheduledId: number; failureDetails?: FailureDetails | null } | null;
  subOrchestrationInstanceCreated?: { instanceId: string; name: string; version?: StringValue; input?: StringValue; parentTraceContext?: TraceContextMessage | null } | null;
  subOrchestrationInstanceCompleted?: { taskScheduledId: number; result?: StringValue } | null;
  subOrchestrationInstanceFailed?: { taskScheduledId: number; failureDetails?: FailureDetails | null } | null;
  timerCreated?: { fireAt: Timestamp } | null;
  timerFired?: { fireAt: Timestamp; timerId: number } | null;
  orchestratorStarted?: Record<string, never> | null;
  orchestratorCompleted?: Record<string, never> | null;
  eventSent?: { instanceId: string; name: string; input?: StringValue } | null;
  eventRaised?: { name: string; input?: StringValue } | null;
  continueAsNew?: { input?: StringValue } | null;
  executionSuspended?: { input?: StringValue } | null;
  executionResumed?: { input?: StringValue } | null;
  /** Set by proto-loader on decode (`oneofs: true`); ignored on encode. */
  eventType?: string;
}

/** `OrchestratorAction` as the SDK sends it in `CompleteOrchestratorTask`. */
export interface OrchestratorAction {
  id: number;
  scheduleTask?: { name: string; version?: StringValue; input?: StringValue } | null;
  createSubOrchestration?: { instanceId: string; name: string; version?: StringValue; input?: StringValue } | null;
  createTimer?: { fireAt: Timestamp | null } | null;
  sendEvent?: { instance: OrchestrationInstanceRef | null; name: string; data?: StringValue } | null;
  completeOrchestration?: {
    orchestrationStatus: string | number;
    result?: StringValue;
    details?: StringValue;
    carryoverEvents?: HistoryEvent[];
    failureDetails?: FailureDetails | null;
  } | null;
  terminateOrchestration?: { instanceId: string; reason?: StringValue; recurse?: boolean } | null;
}

/** An instance as the backend stores it. */
export interface InstanceRecord {
  instanceId: string;
  name: string;
  status: WorkflowStatus;
  executionId: string;
  input: string | null;
  output: string | null;
  customStatus: string | null;
  failure: FailureDetails | null;
  createdAt: Date;
  lastUpdatedAt: Date;
  /** When the first run may start (`scheduledStartTimestamp`), if deferred. */
  scheduledStartAt: Date | null;
  parentInstanceId: string | null;
  parentTaskId: number | null;
}
