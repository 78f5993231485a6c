/**
 * The answers the in-process benchmarks' scripted worker gives, as `@dapr/dapr` would for the two
 * workloads: seq3 schedules one `inc` at a time; fan10 schedules ten `part`s, then completes.
 */
import type { ActivityResult } from '../../packages/runtime/src/workflow/engine.js';
import type { WorkItemMessage } from '../../packages/runtime/src/workflow/dispatcher.js';
import type { OrchestratorResult } from '../../packages/runtime/src/workflow/step.js';

/** The two workloads of the workflow benchmarks. */
export type Workload = 'seq3' | 'fan10';

type ActivityItem = Extract<WorkItemMessage, { activityRequest: unknown }>['activityRequest'];
type OrchestratorItem = Extract<WorkItemMessage, { orchestratorRequest: unknown }>['orchestratorRequest'];

/** An activity's result: its input plus one. */
export function activityResult(r: ActivityItem): ActivityResult {
  return { instanceId: r.orchestrationInstance.instanceId, taskId: r.taskId, result: String(Number(r.input?.value ?? '0') + 1), failure: null };
}

/** The orchestrator's answer to a work item: the next task(s), or completion once all are done. */
export function orchestratorResult(o: OrchestratorItem, workload: Workload): OrchestratorResult {
  const events = [...o.pastEvents, ...o.newEvents];
  const scheduled = events.filter((ev) => ev.taskScheduled).length;
  const done = events.filter((ev) => ev.taskCompleted).length;
  const want = workload === 'seq3' ? 3 : 10;
  let actions: OrchestratorResult['actions'];
  if (done === want) actions = [{ id: want + 1, completeOrchestration: { orchestrationStatus: 'ORCHESTRATION_STATUS_COMPLETED' as const, result: { value: '1' } } }];
  else if (workload === 'seq3' && scheduled === done) actions = [{ id: scheduled + 1, scheduleTask: { name: 'inc', input: { value: String(done) } } }];
  else if (workload === 'fan10' && scheduled === 0) actions = Array.from({ length: 10 }, (_, i) => ({ id: i + 1, scheduleTask: { name: 'part', input: { value: String(i) } } }));
  else actions = [];
  return { actions, customStatus: null };
}
