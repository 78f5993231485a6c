/**
 * What the workflow engine reports for metrics, without knowing about Prometheus: client operations
 * on instances, orchestrator and activity runs, and scheduling delay. Statuses and operation names
 * are daprd's metric label values (`pkg/diagnostics/workflow_monitoring.go`):
 *
 * - operations: `create_workflow` (start), `add_event` (raise event, terminate, suspend, resume: each
 *   is an event added to the instance in daprd), `purge_workflow`;
 * - an orchestrator run that ends the instance is `success` (COMPLETED) or `failed` (FAILED,
 *   TERMINATED); a run that has to be done again (its worker went away, left it unanswered, or its
 *   commit was refused) is `recoverable`; a run that leaves the instance running records nothing;
 * - an activity handed to a worker is an activity operation (`success`); its result is an activity
 *   execution, `success` or `failed`, or `recoverable` when it has to run again.
 */

/** An operation status label value. */
export type WorkflowMetricStatus = 'success' | 'failed' | 'recoverable';

/** A workflow client operation, as daprd names it. */
export type WorkflowOperation = 'create_workflow' | 'add_event' | 'purge_workflow';

/** Receives the engine's metric events. Calls are synchronous and must be cheap. */
export interface WorkflowObserver {
  /** A client operation on an instance finished. */
  operation(operation: WorkflowOperation, status: 'success' | 'failed', durationMs: number): void;
  /** An orchestrator run finished the instance, or failed recoverably; `durationMs` 0 when unknown. */
  execution(workflowName: string, status: WorkflowMetricStatus, durationMs: number): void;
  /** A first run was handed to a worker `delayMs` after it was due. */
  scheduled(workflowName: string, delayMs: number): void;
  /** An activity was handed to a worker. */
  activityOperation(activityName: string, status: 'success' | 'recoverable', durationMs: number): void;
  /** An activity's result arrived, or its run has to be done again. */
  activityExecution(activityName: string, status: WorkflowMetricStatus, durationMs: number): void;
}
