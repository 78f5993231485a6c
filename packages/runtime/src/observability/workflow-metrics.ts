/**
 * Workflow metrics with daprd's names and labels (`pkg/diagnostics/workflow_monitoring.go`),
 * implementing the engine's {@link WorkflowObserver}. Latencies are in ms and, as in daprd, recorded
 * only when positive; the scheduling latency is whole milliseconds, as daprd truncates it.
 */
import type { WorkflowMetricStatus, WorkflowObserver, WorkflowOperation } from '../workflow/observer.js';
import type { CounterMetric, HistogramMetric, MetricFactory } from './metric-factory.js';

/** The workflow recorders of one sidecar. */
export class WorkflowMetrics implements WorkflowObserver {
  private readonly operationCount: CounterMetric;
  private readonly operationLatency: HistogramMetric;
  private readonly executionCount: CounterMetric;
  private readonly executionLatency: HistogramMetric;
  private readonly schedulingLatency: HistogramMetric;
  private readonly activityOperationCount: CounterMetric;
  private readonly activityOperationLatency: HistogramMetric;
  private readonly activityExecutionCount: CounterMetric;
  private readonly activityExecutionLatency: HistogramMetric;
  private readonly base: { app_id: string; namespace: string };

  constructor(factory: MetricFactory, appId: string, namespace: string) {
    this.base = { app_id: appId, namespace };
    const op = ['app_id', 'namespace', 'operation', 'status'];
    const wf = ['app_id', 'namespace', 'workflow_name', 'status'];
    const act = ['app_id', 'namespace', 'activity_name', 'status'];
    this.operationCount = factory.counter('dapr_runtime_workflow_operation_count', 'The number of successful/failed workflow operation requests.', op);
    this.operationLatency = factory.histogram('dapr_runtime_workflow_operation_latency', 'The latencies of responses for workflow operation requests.', op);
    this.executionCount = factory.counter(
      'dapr_runtime_workflow_execution_count',
      'The number of successful/failed/terminated/recoverable workflow executions.',
      wf,
    );
    this.executionLatency = factory.histogram('dapr_runtime_workflow_execution_latency', 'The total time taken to run workflow to completion.', wf);
    this.schedulingLatency = factory.histogram(
      'dapr_runtime_workflow_scheduling_latency',
      'Interval between workflow execution request and workflow execution.',
      ['app_id', 'namespace', 'workflow_name'],
    );
    this.activityOperationCount = factory.counter(
      'dapr_runtime_workflow_activity_operation_count',
      'The number of successful/failed activity operation requests.',
      act,
    );
    this.activityOperationLatency = factory.histogram(
      'dapr_runtime_workflow_activity_operation_latency',
      'The latencies of responses for activity operation requests.',
      act,
    );
    this.activityExecutionCount = factory.counter(
      'dapr_runtime_workflow_activity_execution_count',
      'The number of successful/failed/recoverable activity executions.',
      act,
    );
    this.activityExecutionLatency = factory.histogram(
      'dapr_runtime_workflow_activity_execution_latency',
      'The total time taken to run an activity to completion.',
      act,
    );
  }

  operation(operation: WorkflowOperation, status: 'success' | 'failed', durationMs: number): void {
    const labels = { ...this.base, operation, status };
    this.operationCount.inc(labels);
    if (durationMs > 0) this.operationLatency.observe(labels, durationMs);
  }

  execution(workflowName: string, status: WorkflowMetricStatus, durationMs: number): void {
    const labels = { ...this.base, workflow_name: workflowName, status };
    this.executionCount.inc(labels);
    if (durationMs > 0) this.executionLatency.observe(labels, durationMs);
  }

  scheduled(workflowName: string, delayMs: number): void {
    const whole = Math.trunc(delayMs);
    if (whole > 0) this.schedulingLatency.observe({ ...this.base, workflow_name: workflowName }, whole);
  }

  activityOperation(activityName: string, status: 'success' | 'recoverable', durationMs: number): void {
    const labels = { ...this.base, activity_name: activityName, status };
    this.activityOperationCount.inc(labels);
    if (durationMs > 0) this.activityOperationLatency.observe(labels, durationMs);
  }

  activityExecution(activityName: string, status: WorkflowMetricStatus, durationMs: number): void {
    const labels = { ...this.base, activity_name: activityName, status };
    this.activityExecutionCount.inc(labels);
    if (durationMs > 0) this.activityExecutionLatency.observe(labels, durationMs);
  }
}
